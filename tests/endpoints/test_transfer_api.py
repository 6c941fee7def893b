"""The import and export API: ``POST .../endpoints/import`` and ``GET .../endpoints/export``."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from endpoints import transfer
from endpoints.models import Endpoint
from gatewaylib import netguard
from keys.models import Key
from sharing import services as sharing
from sharing.levels import Level
from tests.endpoints.test_transfer import LITELLM, MLFLOW

pytestmark = pytest.mark.django_db

API = "/api/3.0/mlflow/gateway/"
IMPORT = API + "endpoints/import"
EXPORT = API + "endpoints/export"
SECRET = "sk-api-given-secret-0123456789wxyz"
SERVER_SECRET = "sk-server-env-secret-DO-NOT-SEND-0000"
ALL_SECRETS = (
    SECRET,
    SERVER_SECRET,
    "sk-openai-ENV-secret-0123456789abcd",
    "sk-ant-ENV-secret-9876543210wxyz",
    "azure-FILE-secret-0011223344556677",
    "cohere-ENV-secret-5566778899aabbcc",
)
CONFIG = """
model_list:
  - model_name: chat
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY
      rpm: 10
      temperature: 0
"""
GIVEN = {
    "OPENAI_API_KEY": "sk-openai-ENV-secret-0123456789abcd",
    "ANTHROPIC_API_KEY": "sk-ant-ENV-secret-9876543210wxyz",
    "COHERE_API_KEY": "cohere-ENV-secret-5566778899aabbcc",
}


@pytest.fixture(autouse=True)
def public_dns(monkeypatch):
    monkeypatch.setattr(netguard, "resolve", lambda host, port: ["93.184.216.34"])


def post(client, **body):
    return client.post(IMPORT, body, format="json")


def assert_no_secret(response):
    text = response.content.decode()
    for secret in ALL_SECRETS:
        assert secret not in text
    for key in Key.objects.all():
        assert key.secret_ciphertext not in text


def test_a_dry_run_answers_the_plan_and_creates_nothing(api, alice):
    response = post(api(alice), config=CONFIG, dry_run=True, environment={"OPENAI_API_KEY": SECRET})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "format": "litellm",
        "dry_run": True,
        "endpoints": [
            {
                "id": None,
                "name": "chat",
                "endpoint_type": "chat",
                "description": "",
                "rate_limit_rpm": None,
                "rate_limit_tpm": None,
                "models": [
                    {
                        "provider": "openai",
                        "model_name": "gpt-4o",
                        "key": "chat-openai",
                        "weight": 1.0,
                        "priority": 1,
                        "litellm_params": {"rpm": 10},
                    }
                ],
            }
        ],
        "keys": [
            {
                "id": None,
                "name": "chat-openai",
                "provider": "openai",
                "api_base": "",
                "api_version": "",
                "organization": "",
                "region": "",
                "project": "",
                "masked_secret": "sk-...wxyz",
                "secret_from": "os.environ/OPENAI_API_KEY",
            }
        ],
        "report": [
            {
                "level": "skipped",
                "path": "model_list[0].litellm_params.temperature",
                "message": "not imported: the gateway does not set this parameter per model.",
            }
        ],
    }
    assert Endpoint.objects.count() == Key.objects.count() == 0
    assert_no_secret(response)


def test_an_import_creates_what_the_caller_then_manages_and_others_cannot_see(api, alice, bob):
    response = post(api(alice), config=CONFIG, environment={"OPENAI_API_KEY": SECRET})
    assert response.status_code == 201, response.content
    body = response.json()
    endpoint = Endpoint.objects.get()
    key = Key.objects.get()
    assert body["endpoints"][0]["id"] == endpoint.public_id
    assert body["keys"][0]["id"] == key.public_id
    assert key.secret() == SECRET
    assert sharing.get_level(alice, endpoint) == sharing.get_level(alice, key) == Level.MANAGE
    assert api(alice).get(f"{API}endpoints/{endpoint.public_id}/").status_code == 200
    assert api(bob).get(f"{API}endpoints/{endpoint.public_id}/").status_code == 404
    assert api(bob).get(f"{API}endpoints/").json()["results"] == []
    sharing.grant(endpoint, bob, Level.READ, actor=alice)
    assert api(bob).get(f"{API}endpoints/{endpoint.public_id}/").status_code == 200
    assert_no_secret(response)


def test_a_refusal_is_a_400_with_the_messages_under_their_yaml_paths(api, alice):
    response = post(api(alice), config=MLFLOW, environment={"OPENAI_API_KEY": SECRET})
    assert response.status_code == 400
    message = (
        "No value was given for the environment variable {}: the web page and the API never read the server's "
        "environment; give the value with the upload."
    )
    assert response.json() == {
        "endpoints[1].model.config.anthropic_api_key": [message.format("ANTHROPIC_API_KEY")],
        "endpoints[4].model.config.cohere_api_key": [message.format("COHERE_API_KEY")],
        "routes[0].destinations[1].name": ["Names an endpoint that cannot be imported (see its errors)."],
    }
    assert Endpoint.objects.count() == Key.objects.count() == 0
    assert_no_secret(response)


def test_the_api_never_reads_the_servers_environment(api, alice, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SERVER_SECRET)
    response = post(api(alice), config=CONFIG)
    assert response.status_code == 400
    assert list(response.json()) == ["model_list[0].litellm_params.api_key"]
    assert "OPENAI_API_KEY" in response.json()["model_list[0].litellm_params.api_key"][0]
    response = post(api(alice), config=CONFIG, environment={"OPENAI_API_KEY": SECRET})
    assert response.status_code == 201
    assert Key.objects.get().secret() == SECRET
    assert_no_secret(response)


def test_an_existing_name_refuses_the_import(api, alice, bob):
    assert post(api(bob), config=CONFIG, environment={"OPENAI_API_KEY": SECRET}).status_code == 201
    response = post(api(alice), config=CONFIG, environment={"OPENAI_API_KEY": SECRET})
    assert response.status_code == 400
    assert response.json() == {"model_list[0].model_name": ["An endpoint named “chat” already exists."]}
    assert Key.objects.filter(created_by=alice).count() == 0


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        ({}, {"config": ["This field is required."]}),
        ({"config": 5}, {"config": ["Give the YAML as text, or upload it as a file."]}),
        ({"config": None}, {"config": ["This field may not be null."]}),
        (
            {"config": "a: ["},
            {"config": ["Not valid YAML (line 1, column 5): expected the node content, but found '<stream end>'."]},
        ),
        ({"config": "x" * (transfer.MAX_DOCUMENT_BYTES + 1)}, {"config": ["The file is larger than 1 MiB."]}),
        ({"config": CONFIG, "format": "toml"}, {"format": ['"toml" is not a valid choice.']}),
        (
            {"config": CONFIG, "environment": {"1BAD": "x"}},
            {"environment": ["Each name must be letters, digits and underscores, not starting with a digit."]},
        ),
        (
            {"config": CONFIG, "environment": ["x"]},
            {"environment": ['Expected a dictionary of items but got type "list".']},
        ),
        ({"config": CONFIG, "environment": {"A": [1]}}, {"environment": ["The value of A must be text."]}),
        (
            {"config": "- [1]\n"},
            {
                "config": [
                    "The file must be a YAML mapping: a LiteLLM config has model_list, an "
                    "MLflow config endpoints, a gateway export gateway_export: 1."
                ]
            },
        ),
    ],
)
def test_bad_input_is_a_400_never_a_500(api, alice, body, answer):
    response = api(alice).post(IMPORT, body, format="json")
    assert response.status_code == 400
    assert response.json() == answer


def test_a_multipart_upload_of_the_file(api, alice):
    upload = SimpleUploadedFile("config.yaml", CONFIG.encode(), content_type="application/yaml")
    response = api(alice).post(
        IMPORT, {"config": upload, "dry_run": "true", "environment.OPENAI_API_KEY": SECRET}, format="multipart"
    )
    assert response.status_code == 200, response.content
    assert response.json()["keys"][0]["masked_secret"] == "sk-...wxyz"
    big = SimpleUploadedFile("big.yaml", b"#" * (transfer.MAX_DOCUMENT_BYTES + 1))
    response = api(alice).post(IMPORT, {"config": big}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"config": ["The file is larger than 1 MiB."]}
    latin = SimpleUploadedFile("latin.yaml", "model_list: [caf\xe9]".encode("latin-1"))
    assert api(alice).post(IMPORT, {"config": latin}, format="multipart").json() == {
        "config": ["The file is not UTF-8 text."]
    }


def test_importing_and_exporting_need_a_signed_in_caller(api):
    assert api().post(IMPORT, {"config": CONFIG}, format="json").status_code == 401
    assert api().get(EXPORT).status_code == 401


def test_export_is_yaml_of_the_endpoints_the_caller_can_read(api, alice, bob):
    post(api(alice), config=LITELLM, environment=GIVEN)
    response = api(alice).get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/yaml; charset=utf-8"
    text = response.content.decode()
    assert text == transfer.export_endpoints(alice)
    assert "- name: chat-prod\n" in text and "- name: embed\n" in text
    assert_no_secret(response)
    assert api(bob).get(EXPORT).content.decode().endswith("gateway_export: 1\nendpoints: []\n")
    sharing.grant(Endpoint.objects.get(name="embed"), bob, Level.READ, actor=alice)
    bobs = api(bob).get(EXPORT, HTTP_ACCEPT="application/yaml")
    assert bobs.status_code == 200
    assert "- name: embed\n" in bobs.content.decode()
    assert "name: chat-prod" not in bobs.content.decode()


def test_the_round_trip_through_the_api(api, alice):
    client = api(alice)
    assert post(client, config=LITELLM, environment=GIVEN).status_code == 201
    first = client.get(EXPORT).content.decode()
    for endpoint in Endpoint.objects.all():
        assert client.delete(f"{API}endpoints/{endpoint.public_id}/").status_code == 204
    response = post(client, config=first, format="gateway")
    assert response.status_code == 201, response.content
    assert response.json()["keys"] == []
    assert client.get(EXPORT).content.decode() == first
    assert json.loads(response.content)["format"] == "gateway"


def test_the_schema_documents_import_and_export(client):
    paths = client.get("/api/schema/?format=json").json()["paths"]
    imports = paths[f"{API}endpoints/import/"]["post"]
    assert {"200", "201", "400", "401", "403"} <= set(imports["responses"])
    assert set(imports["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    exports = paths[f"{API}endpoints/export/"]["get"]
    assert set(exports["responses"]["200"]["content"]) == {"application/yaml"}
    assert [parameter["name"] for parameter in exports.get("parameters", [])] == []
