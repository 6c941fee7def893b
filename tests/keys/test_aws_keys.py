"""A Bedrock key's AWS access key: entered as three fields (API, UI, admin), stored as one encrypted secret.

The access key id, its secret and a session token go in once and never come
out: the key shows a masked hint of the id only, LiteLLM gets them as its
``aws_*`` parameters (never as an ``api_key``, which it would send as a
bearer token), and scrubbing knows each part.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection

from endpoints.routing import endpoint_secrets
from endpoints.services import create_endpoint
from endpoints.validation import ModelSpec
from keys import services
from keys.models import Key
from sharing import services as sharing
from sharing.levels import Level

URL = "/api/3.0/mlflow/gateway/keys/"
KEY_ID, SECRET_KEY, TOKEN = (
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "FwoGZXIvYXdzEXAMPLEtoken",
)
ACCESS_KEY = {"aws_access_key_id": KEY_ID, "aws_secret_access_key": SECRET_KEY, "aws_session_token": TOKEN}


def create(client, **overrides):
    body = {"name": "bedrock-prod", "provider": "bedrock", "region": "eu-west-1", **ACCESS_KEY, **overrides}
    return client.post(URL, body, format="json")


@pytest.mark.django_db
def test_an_access_key_sent_to_the_api_is_stored_encrypted_and_shown_only_as_its_ids_hint(api, alice):
    response = create(api(alice))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["masked_secret"] == "AKI...MPLE"
    assert not {"secret", *ACCESS_KEY} & body.keys()
    for part in (SECRET_KEY, TOKEN, KEY_ID):
        assert part not in response.content.decode()
    key = Key.objects.get(pk=body["id"])
    assert key.litellm_connection() == {
        "aws_region_name": "eu-west-1",
        "aws_access_key_id": KEY_ID,
        "aws_secret_access_key": SECRET_KEY,
        "aws_session_token": TOKEN,
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM keys_key")
        dumped = json.dumps([[str(value) for value in row] for row in cursor.fetchall()])
    assert SECRET_KEY not in dumped and TOKEN not in dumped and KEY_ID not in dumped


@pytest.mark.django_db
def test_a_bedrock_api_key_as_the_secret_stays_a_bearer_token_for_litellm(alice):
    key = services.create_key(actor=alice, name="b", provider="bedrock", secret="ABSK-bedrock-api-key-0123456789")

    assert key.litellm_connection() == {"api_key": "ABSK-bedrock-api-key-0123456789"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"aws_session_token": TOKEN, "aws_access_key_id": "", "aws_secret_access_key": ""},
            {
                "aws_access_key_id": ["Enter the access key id and its secret access key together."],
                "aws_secret_access_key": ["Enter the access key id and its secret access key together."],
            },
        ),
        (
            {"aws_secret_access_key": "", "aws_session_token": ""},
            {"aws_secret_access_key": ["Enter the access key id and its secret access key together."]},
        ),
        ({"secret": "ABSK-also-a-secret"}, {"secret": ["Enter either a secret or an AWS access key, not both."]}),
        (
            {"provider": "openai", "region": ""},
            {key: ["AWS access keys apply to Bedrock keys only."] for key in ACCESS_KEY},
        ),
        (
            {"aws_secret_access_key": "has a space"},
            {"aws_secret_access_key": ["Use at most 256 characters, without spaces or control characters."]},
        ),
        (
            {**dict.fromkeys(ACCESS_KEY, ""), "secret": '{"aws_access_key_id": "AKIA"}'},
            {
                "secret": [
                    "A Bedrock key's secret is a Bedrock API key; enter an AWS access key in its own fields "
                    "(access key id, secret access key, session token)."
                ]
            },
        ),
    ],
    ids=["token-alone", "id-alone", "both-forms", "not-bedrock", "bad-characters", "json-in-secret"],
)
def test_an_incomplete_or_misplaced_access_key_is_refused_under_its_field(api, alice, body, errors):
    response = create(api(alice), **body)

    assert (response.status_code, response.json()) == (400, errors)
    assert SECRET_KEY not in response.content.decode() and "has a space" not in response.content.decode()
    assert not Key.objects.exists()


@pytest.mark.django_db
def test_replacing_the_access_key_needs_edit_and_the_new_one_is_used(api, alice, bob):
    key_id = create(api(alice)).json()["id"]
    new = {"aws_access_key_id": "AKIANEWKEY0000000002", "aws_secret_access_key": "new-secret-access-key-2"}

    sharing.grant(Key.objects.get(pk=key_id), bob, Level.USE)
    refused = api(bob).patch(f"{URL}{key_id}/", new, format="json")
    assert refused.status_code == 403
    assert Key.objects.get(pk=key_id).litellm_connection()["aws_access_key_id"] == KEY_ID

    sharing.grant(Key.objects.get(pk=key_id), bob, Level.EDIT)
    response = api(bob).patch(f"{URL}{key_id}/", new, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["masked_secret"] == "AKI...0002"
    connection_params = Key.objects.get(pk=key_id).litellm_connection()
    assert (connection_params["aws_access_key_id"], connection_params["aws_secret_access_key"]) == (
        "AKIANEWKEY0000000002",
        "new-secret-access-key-2",
    )
    assert "aws_session_token" not in connection_params  # the old token went with the old access key


@pytest.mark.django_db
def test_moving_the_region_needs_the_access_key_re_entered(api, alice):
    key_id = create(api(alice)).json()["id"]

    response = api(alice).patch(f"{URL}{key_id}/", {"region": "us-east-1"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"secret": ["Re-enter the secret to change where this key sends it (region)."]}

    moved = api(alice).patch(f"{URL}{key_id}/", {"region": "us-east-1", **ACCESS_KEY}, format="json")
    assert moved.status_code == 200, moved.content
    assert Key.objects.get(pk=key_id).region == "us-east-1"


@pytest.mark.django_db
def test_each_part_of_the_access_key_is_scrubbed_on_its_own(alice):
    key = services.create_key(actor=alice, name="b", provider="bedrock", secret="", region="us-east-1", **ACCESS_KEY)
    spec = ModelSpec(provider="bedrock", model_name="amazon.nova-lite-v1:0", key_id=key.public_id)
    endpoint = create_endpoint(actor=alice, name="nova", endpoint_type="chat", models=[spec])

    assert {KEY_ID, SECRET_KEY, TOKEN} <= set(endpoint_secrets(endpoint))


# -- the UI and the admin -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_ui_form_takes_an_access_key_and_never_renders_it_back(client, alice, bob):
    client.force_login(alice)
    response = client.post(
        "/keys/new",
        {"name": "bedrock-ui", "provider": "bedrock", "region": "eu-west-1", **ACCESS_KEY, "secret": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    key = Key.objects.get(name="bedrock-ui")
    assert key.masked_secret == "AKI...MPLE"

    page = client.get(f"/keys/{key.public_id}/edit").content.decode()
    assert 'name="aws_secret_access_key"' in page
    assert SECRET_KEY not in page and TOKEN not in page and KEY_ID not in page

    # An error keeps nothing of what was typed in the write-only fields.
    refused = client.post(f"/keys/{key.public_id}/secret", {"aws_secret_access_key": SECRET_KEY})
    assert refused.status_code == 422
    assert "Enter the access key id and its secret access key together." in refused.content.decode()
    assert SECRET_KEY not in refused.content.decode()

    client.force_login(bob)  # bob holds nothing on alice's key: it is not there for him
    assert client.get(f"/keys/{key.public_id}/secret").status_code == 404


@pytest.mark.django_db
def test_the_secret_page_of_a_bedrock_key_replaces_its_access_key(client, alice):
    key = services.create_key(actor=alice, name="b", provider="bedrock", secret="", region="us-east-1", **ACCESS_KEY)
    client.force_login(alice)

    response = client.post(
        f"/keys/{key.public_id}/secret",
        {"aws_access_key_id": "AKIAREPLACED00000003", "aws_secret_access_key": "replaced-secret-3"},
    )

    assert response.status_code == 302
    assert Key.objects.get(pk=key.pk).litellm_connection()["aws_secret_access_key"] == "replaced-secret-3"


@pytest.mark.django_db
def test_the_secret_page_of_another_provider_asks_only_for_the_secret(client, alice):
    key = services.create_key(actor=alice, name="o", provider="openai", secret="sk-openai-secret-000000")
    client.force_login(alice)

    page = client.get(f"/keys/{key.public_id}/secret").content.decode()

    assert 'name="secret"' in page and "aws_access_key_id" not in page


@pytest.mark.django_db
def test_the_admin_adds_a_bedrock_key_with_an_access_key(admin_client):
    response = admin_client.post(
        "/admin/keys/key/add/",
        {"name": "bedrock-admin", "provider": "bedrock", "region": "us-west-2", **ACCESS_KEY, "description": ""},
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    key = Key.objects.get(name="bedrock-admin")
    assert key.litellm_connection()["aws_access_key_id"] == KEY_ID
    change = admin_client.get(f"/admin/keys/key/{key.pk}/change/").content.decode()
    assert "AWS access key (Bedrock)" in change
    assert SECRET_KEY not in change and TOKEN not in change
