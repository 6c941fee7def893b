"""A key is a credential *and where it may be sent*: the API, the UI and the admin enforce the same rules.

- Where the secret goes (provider, api_base, api_version, organization,
  region, project) is part of the key; changing any of it needs EDIT on the
  key and the secret re-entered in the same request, and is audited.
- An api_base is checked when saved (no link-local or metadata addresses,
  private ones only where allowed), through every entry point.
- A self-hosted server's key may have no secret.
"""

from __future__ import annotations

import socket

import pytest

from audit.models import AuditEvent
from endpoints import services as endpoint_services
from endpoints.validation import ModelSpec
from keys import services
from keys.models import Key
from sharing import services as sharing
from sharing.levels import Level
from tests.factories import PASSWORD

URL = "/api/3.0/mlflow/gateway/keys/"
SECRET = "sk-destination-secret-0123456789"
SERVER = "http://10.0.0.5:8000/v1"
ELSEWHERE = "http://10.9.9.9:8000/v1"

pytestmark = pytest.mark.django_db


@pytest.fixture
def server_key(alice):
    return services.create_key(actor=alice, name="vllm-box", provider="openai", secret=SECRET, api_base=SERVER)


def detail(key) -> str:
    return f"{URL}{key.public_id}/"


# -- the API -----------------------------------------------------------------------------------------


def test_a_key_shows_where_it_sends_its_secret_but_never_the_secret(api, alice):
    body = {"name": "azure-eu", "provider": "azure", "secret": SECRET, "api_base": "https://10.1.2.3/openai"}
    response = api(alice).post(URL, {**body, "api_version": "2024-10-21"}, format="json")
    assert response.status_code == 201, response.json()
    shown = response.json()
    assert (shown["api_base"], shown["api_version"], shown["masked_secret"]) == (
        "https://10.1.2.3/openai",
        "2024-10-21",
        "sk-...6789",
    )
    assert SECRET not in response.content.decode()


def test_changing_the_destination_without_the_secret_is_refused(api, alice, server_key):
    response = api(alice).patch(detail(server_key), {"api_base": ELSEWHERE}, format="json")
    assert response.status_code == 400
    assert response.json() == {"secret": ["Re-enter the secret to change where this key sends it (api_base)."]}
    server_key.refresh_from_db()
    assert server_key.api_base == SERVER and server_key.secret() == SECRET


@pytest.mark.parametrize(
    "change",
    [{"api_version": "2024-10-21"}, {"organization": "org-other"}, {"provider": "groq"}],
    ids=["api_version", "organization", "provider"],
)
def test_every_destination_field_needs_the_secret(api, alice, server_key, change):
    response = api(alice).patch(detail(server_key), change, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "secret": [f"Re-enter the secret to change where this key sends it ({', '.join(change)})."]
    }


def test_the_owner_moves_a_key_by_re_entering_the_secret_and_it_is_audited(api, alice, server_key):
    response = api(alice).patch(detail(server_key), {"api_base": ELSEWHERE, "secret": SECRET}, format="json")
    assert response.status_code == 200, response.json()
    server_key.refresh_from_db()
    assert server_key.api_base == ELSEWHERE
    event = AuditEvent.objects.get(object_id=server_key.pk, action="update")
    assert event.changes["api_base"] == {"before": SERVER, "after": ELSEWHERE}
    assert event.changes["secret"] == "replaced"
    assert SECRET not in str(event.changes)


def test_renaming_needs_no_secret(api, alice, server_key):
    response = api(alice).patch(detail(server_key), {"name": "renamed", "api_base": SERVER}, format="json")
    assert response.status_code == 200
    assert Key.objects.get(pk=server_key.pk).name == "renamed"


@pytest.mark.parametrize("level", [Level.READ, Level.USE])
def test_below_edit_the_destination_cannot_change_even_with_a_secret(api, bob, server_key, level):
    sharing.grant(server_key, bob, level)
    body = {"api_base": "http://127.0.0.1:9999/v1", "secret": "sk-bobs-own-guess-000000"}
    response = api(bob).patch(detail(server_key), body, format="json")
    assert response.status_code == 403
    server_key.refresh_from_db()
    assert server_key.api_base == SERVER and server_key.secret() == SECRET


def test_an_editor_who_knows_the_secret_may_move_the_key(api, bob, server_key):
    sharing.grant(server_key, bob, Level.EDIT)
    response = api(bob).patch(detail(server_key), {"api_base": ELSEWHERE, "secret": SECRET}, format="json")
    assert response.status_code == 200
    assert Key.objects.get(pk=server_key.pk).api_base == ELSEWHERE


def test_the_provider_of_a_key_in_use_cannot_change(api, alice, server_key):
    spec = ModelSpec(provider="openai", model_name="llama", key_id=server_key.public_id)
    endpoint_services.create_endpoint(actor=alice, name="ep", endpoint_type="chat", models=[spec])
    response = api(alice).patch(detail(server_key), {"provider": "groq", "secret": SECRET}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "provider": [
            "This key is used by endpoint “ep”; move those models to another key before changing its provider."
        ]
    }
    assert Key.objects.get(pk=server_key.pk).provider == "openai"


def test_the_refusal_names_only_the_endpoints_the_editor_can_see(api, alice, bob, server_key):
    """bob (USE on alice's key) built an endpoint on it; alice is told it exists, not what it is called."""
    sharing.grant(server_key, bob, Level.USE)
    for owner, name in ((alice, "alices"), (bob, "bobs-secret-project")):
        spec = ModelSpec(provider="openai", model_name="llama", key_id=server_key.public_id)
        endpoint_services.create_endpoint(actor=owner, name=name, endpoint_type="chat", models=[spec])
    response = api(alice).patch(detail(server_key), {"provider": "groq", "secret": SECRET}, format="json")
    assert response.status_code == 400
    assert response.json()["provider"] == [
        "This key is used by endpoints “alices” and 1 you cannot see; "
        "move those models to another key before changing its provider."
    ]
    assert "bobs-secret-project" not in response.text
    assert Key.objects.get(pk=server_key.pk).provider == "openai"


def test_a_self_hosted_server_needs_an_address_but_no_secret(api, alice):
    client = api(alice)
    missing = client.post(URL, {"name": "vllm", "provider": "hosted_vllm", "secret": ""}, format="json")
    assert missing.status_code == 400
    assert missing.json() == {"api_base": ["A hosted_vllm key needs the API base URL of its server."]}
    body = {"name": "vllm", "provider": "hosted_vllm", "secret": "", "api_base": SERVER}
    created = client.post(URL, body, format="json")
    assert created.status_code == 201, created.json()
    key = Key.objects.get(pk=created.json()["id"])
    assert (created.json()["masked_secret"], key.has_secret) == ("", False)
    # Without a secret LiteLLM would use the gateway's own environment; a placeholder is sent instead.
    assert key.litellm_connection() == {"api_base": SERVER, "api_key": "EMPTY"}
    # With no secret to protect, its owner may move it without re-entering one.
    assert client.patch(f"{URL}{key.public_id}/", {"api_base": ELSEWHERE}, format="json").status_code == 200


def test_a_provider_key_needs_a_secret(api, alice):
    response = api(alice).post(URL, {"name": "openai", "provider": "openai", "secret": ""}, format="json")
    assert response.status_code == 400
    assert response.json() == {"secret": ["The secret may not be empty."]}


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"region": "us-east-1"}, "region", "A region applies to bedrock, sagemaker, vertex_ai keys only."),
        ({"project": "my-proj"}, "project", "A project applies to vertex_ai, watsonx keys only."),
        (
            {"api_version": "2024 10"},
            "api_version",
            "Use at most 64 letters, digits and . _ : / - (no spaces or control characters).",
        ),
        (
            {"organization": "org\nX-Evil: 1"},
            "organization",
            "Use at most 200 letters, digits and . _ : / - (no spaces or control characters).",
        ),
    ],
)
def test_connection_fields_are_checked_per_provider(api, alice, fields, field, message):
    body = {"name": "k", "provider": "openai", "secret": SECRET, **fields}
    response = api(alice).post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == {field: [message]}


def test_region_and_project_reach_litellm_under_the_providers_names(alice):
    key = services.create_key(
        actor=alice, name="vertex", provider="vertex_ai", secret='{"type": "service_account"}', region="europe-west4"
    )
    services.update_key(key, actor=alice, project="my-project", secret='{"type": "service_account"}')
    key.refresh_from_db()
    connection = key.litellm_connection()
    assert (connection["vertex_location"], connection["vertex_project"]) == ("europe-west4", "my-project")


# -- where an api_base may point, through every entry point ------------------------------------------

FORBIDDEN = [
    "ftp://10.0.0.5/v1",
    "http://169.254.169.254/latest/meta-data",
    "http://[fe80::1]/v1",
    "http://metadata.google.internal/computeMetadata/v1",
    "http://[::ffff:169.254.169.254]/",
    "http://100.100.100.200/",
    "http://user:pass@10.0.0.5/",
    "http://10.0.0.5/\r\nHost: evil",
    "not a url",
]


@pytest.mark.parametrize("api_base", FORBIDDEN)
def test_the_api_refuses_link_local_metadata_and_malformed_addresses(api, alice, api_base):
    body = {"name": "k", "provider": "openai", "secret": SECRET, "api_base": api_base}
    response = api(alice).post(URL, body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["api_base"]
    assert not Key.objects.exists()


@pytest.mark.parametrize("api_base", FORBIDDEN)
def test_the_ui_form_refuses_them_too(client, alice, api_base):
    client.login(username="alice", password=PASSWORD)
    form = {"name": "k", "provider": "openai", "secret": SECRET, "api_base": api_base}
    response = client.post("/keys/new", form)
    assert response.status_code == 422
    assert response.context["form"].errors["api_base"]
    assert not Key.objects.exists()


@pytest.mark.parametrize("api_base", FORBIDDEN)
def test_the_admin_refuses_them_too(client, admin_user, api_base):
    client.force_login(admin_user)
    form = {"name": "k", "provider": "openai", "secret": SECRET, "description": "", "api_base": api_base}
    response = client.post("/admin/keys/key/add/", form)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["api_base"]
    assert not Key.objects.exists()


def test_a_hostname_resolving_to_a_metadata_address_is_refused(api, alice, monkeypatch):
    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    body = {"name": "k", "provider": "openai", "secret": SECRET, "api_base": "http://innocent.example/v1"}
    response = api(alice).post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"api_base": ["169.254.169.254 is a link-local or cloud metadata address."]}


def test_private_addresses_are_allowed_by_default_but_can_be_blocked(api, alice, settings):
    client = api(alice)
    body = {"name": "k", "provider": "openai", "secret": SECRET}
    assert client.post(URL, {**body, "api_base": SERVER}, format="json").status_code == 201
    settings.GATEWAY_BLOCK_PRIVATE_API_BASE = True
    for url in ("http://10.0.0.6:8000/v1", "http://127.0.0.1:8000/v1", "http://localhost:8000/v1"):
        response = client.post(URL, {**body, "name": url, "api_base": url}, format="json")
        assert response.status_code == 400, url
        assert "private or loopback" in response.json()["api_base"][0]


# -- the UI and the admin follow the same rule for moving a key ---------------------------------------


def test_the_ui_edit_form_asks_for_the_secret_to_move_a_key(client, alice, server_key):
    client.login(username="alice", password=PASSWORD)
    form = {"name": server_key.name, "provider": "openai", "description": "", "api_base": ELSEWHERE}
    url = f"/keys/{server_key.public_id}/edit"
    refused = client.post(url, form)
    assert refused.status_code == 422
    assert refused.context["form"].errors["secret"] == [
        "Re-enter the secret to change where this key sends it (api_base)."
    ]
    assert SECRET not in refused.content.decode()
    assert Key.objects.get(pk=server_key.pk).api_base == SERVER
    assert client.post(url, {**form, "secret": SECRET}).status_code == 302
    assert Key.objects.get(pk=server_key.pk).api_base == ELSEWHERE


def test_the_admin_asks_for_the_secret_to_move_a_key(client, admin_user, server_key):
    client.force_login(admin_user)
    url = f"/admin/keys/key/{server_key.pk}/change/"
    form = {"name": server_key.name, "provider": "openai", "description": "", "api_base": ELSEWHERE}
    refused = client.post(url, form)
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["secret"] == [
        "Re-enter the secret to change where this key sends it (api_base)."
    ]
    assert Key.objects.get(pk=server_key.pk).api_base == SERVER
    assert client.post(url, {**form, "secret": SECRET}).status_code == 302
    assert Key.objects.get(pk=server_key.pk).api_base == ELSEWHERE


def test_an_unknown_provider_is_explained_in_plain_words(api, alice):
    response = api(alice).post(URL, {"name": "k", "provider": "nope", "secret": SECRET}, format="json")
    assert response.status_code == 400
    assert response.json() == {"provider": ["“nope” is not a provider this gateway knows; choose one from the list."]}
