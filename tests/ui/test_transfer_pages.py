"""The import page (upload or paste, preview, import, summary) and the export download."""

from __future__ import annotations

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from endpoints import transfer
from endpoints.models import Endpoint
from endpoints.views import transfer as transfer_views
from gatewaylib import netguard
from keys.models import Key
from sharing import services as sharing
from sharing.levels import Level

pytestmark = pytest.mark.django_db

SECRET = "sk-page-given-secret-0123456789wxyz"
LITERAL = "sk-literal-in-the-file-00998877665544"
MARKER = "# a comment only the pasted text has"
CONFIG = f"""{MARKER}
model_list:
  - model_name: chat
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY
      rpm: 10
      temperature: 0
  - model_name: Claude Fast
    litellm_params:
      model: anthropic/claude-haiku-4-5
      api_key: {LITERAL}
router_settings:
  routing_strategy: latency-based-routing
"""
IMPORT = "/endpoints/import"


@pytest.fixture(autouse=True)
def public_dns(monkeypatch):
    monkeypatch.setattr(netguard, "resolve", lambda host, port: ["93.184.216.34"])


@pytest.fixture
def signed_in(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def body(response) -> str:
    return response.content.decode()


def assert_private(response):
    """No secret, and nothing of the pasted text, comes back."""
    text = body(response)
    for value in (SECRET, LITERAL, MARKER, "os.environ/OPENAI_API_KEY\n"):
        assert value not in text
    for key in Key.objects.all():
        assert key.secret_ciphertext not in text


def sealed_of(response) -> str:
    match = re.search(r'name="sealed" value="([^"]+)"', body(response))
    assert match, body(response)[:3000]
    return html.unescape(match.group(1))


def preview(client, **extra):
    data = {"format": "auto", "text": CONFIG, "environment": f"OPENAI_API_KEY={SECRET}", "action": "preview"}
    return client.post(IMPORT, {**data, **extra})


def test_the_endpoint_list_links_to_import_and_export(signed_in, charlie):
    text = body(signed_in(charlie).get("/endpoints/"))
    assert f'href="{IMPORT}"' in text
    assert 'href="/endpoints/export" download' in text


def test_the_pages_need_a_signed_in_user(client):
    for url in (IMPORT, "/endpoints/export"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_the_upload_form(signed_in, alice):
    response = signed_in(alice).get(IMPORT)
    assert response.status_code == 200
    text = body(response)
    for name in ('name="file"', 'name="text"', 'name="environment"', 'name="format"'):
        assert name in text
    assert 'value="preview"' in text and 'value="import"' in text


def test_a_preview_shows_the_plan_and_creates_nothing(signed_in, alice):
    response = preview(signed_in(alice))
    assert response.status_code == 200
    text = body(response)
    assert "data-import-preview" in text
    for shown in (
        "chat-openai",
        "claude-fast-anthropic",
        "sk-...wxyz",  # the masked hints only
        "sk-...5544",
        "from os.environ/OPENAI_API_KEY",
        "written in the file",
        "openai/gpt-4o",
        "anthropic/claude-haiku-4-5",
        "<code>router_settings.routing_strategy</code>: not imported",
        "<code>model_list[0].litellm_params.temperature</code>: not imported",
        "“Claude Fast” becomes the endpoint name “claude-fast”",
    ):
        assert html.escape(shown, quote=False) in text or shown in text, shown
    assert Endpoint.objects.count() == Key.objects.count() == 0
    assert_private(response)


def test_import_after_the_preview_creates_and_links_what_was_created(signed_in, alice, bob):
    client = signed_in(alice)
    sealed = sealed_of(preview(client))
    response = client.post(IMPORT, {"sealed": sealed})
    assert response.status_code == 200
    text = body(response)
    assert "data-import-summary" in text
    assert sorted(Endpoint.objects.values_list("name", flat=True)) == ["chat", "claude-fast"]
    for endpoint in Endpoint.objects.all():
        assert f'href="{endpoint.get_absolute_url()}"' in text
        assert sharing.get_level(alice, endpoint) == Level.MANAGE
        assert sharing.get_level(bob, endpoint) is None
    for key in Key.objects.all():
        assert f'href="{key.get_absolute_url()}"' in text
    assert Key.objects.get(name="chat-openai").secret() == SECRET
    assert Key.objects.get(name="claude-fast-anthropic").secret() == LITERAL
    assert "Imported 2 endpoint(s) and 2 key(s)." in text
    assert_private(response)
    # The same preview cannot be applied twice: the names exist now.
    again = client.post(IMPORT, {"sealed": sealed})
    assert again.status_code == 400
    assert "An endpoint named “chat” already exists." in body(again)
    assert Endpoint.objects.count() == 2


def test_a_preview_is_the_users_own_and_expires(signed_in, alice, bob, monkeypatch):
    sealed = sealed_of(preview(signed_in(alice)))
    for token in (sealed, sealed[:-4] + "AAAA", "not-a-token"):
        response = signed_in(bob).post(IMPORT, {"sealed": token})
        assert response.status_code == 400
        assert "This preview is too old or not yours: upload the file again." in body(response)
    monkeypatch.setattr(transfer_views, "PREVIEW_TTL_SECONDS", -1)
    response = signed_in(alice).post(IMPORT, {"sealed": sealed})
    assert response.status_code == 400
    assert Endpoint.objects.count() == 0


def test_the_import_button_applies_at_once(signed_in, alice):
    response = preview(signed_in(alice), action="import")
    assert response.status_code == 200
    assert Endpoint.objects.count() == 2
    assert_private(response)


def test_errors_are_listed_by_path_nothing_is_imported_and_nothing_is_echoed(signed_in, alice, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-server-own-secret-must-not-be-used")
    response = preview(signed_in(alice), environment="", action="import")
    assert response.status_code == 400
    text = body(response)
    assert "Nothing was imported." in text
    assert (
        "<code>model_list[0].litellm_params.api_key</code>: No value was given for the environment variable "
        "OPENAI_API_KEY: the web page and the API never read the server&#x27;s environment; give the value with "
        "the upload."
    ) in text
    assert "<code>router_settings.routing_strategy</code>: not imported" in text  # the rest of the report
    assert '<textarea name="text" id="id_text"' in text  # the form again, empty
    assert Endpoint.objects.count() == Key.objects.count() == 0
    assert "sk-server-own-secret-must-not-be-used" not in text
    assert_private(response)


def test_a_file_upload_and_the_forms_own_checks(signed_in, alice):
    client = signed_in(alice)
    upload = SimpleUploadedFile("litellm.yaml", CONFIG.encode())
    response = client.post(
        IMPORT, {"format": "litellm", "file": upload, "environment": f"OPENAI_API_KEY={SECRET}", "action": "preview"}
    )
    assert response.status_code == 200
    assert "data-import-preview" in body(response)
    cases = [
        ({"text": "", "environment": ""}, "Upload a YAML file or paste its text."),
        (
            {"text": CONFIG, "file": SimpleUploadedFile("x.yaml", CONFIG.encode())},
            "Upload a file or paste the YAML, not both.",
        ),
        ({"text": CONFIG, "environment": f"just-a-line {SECRET}"}, "Line 1 is not NAME=value."),
        ({"text": "x" * (transfer.MAX_DOCUMENT_BYTES + 1)}, "The file is larger than 1 MiB."),
        ({"file": SimpleUploadedFile("big.yaml", b"#" * (transfer.MAX_DOCUMENT_BYTES + 1))}, "larger than 1 MiB."),
        ({"file": SimpleUploadedFile("latin.yaml", "a: caf\xe9".encode("latin-1"))}, "The file is not UTF-8 text."),
        ({"text": "a: ["}, "Not valid YAML (line 1, column 5)"),
        ({"text": CONFIG, "format": "toml"}, "Select a valid choice."),
    ]
    for data, message in cases:
        response = client.post(IMPORT, {"format": "auto", "action": "preview", **data})
        assert response.status_code == 400, message
        assert message in body(response), message
        assert_private(response)
    assert Endpoint.objects.count() == 0


def test_export_downloads_the_endpoints_the_user_can_read(signed_in, alice, bob, client):
    preview(signed_in(alice), action="import")
    response = client.get("/endpoints/export")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/yaml; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="endpoints.yaml"'
    assert body(response) == transfer.export_endpoints(alice)
    assert "- name: chat\n" in body(response)
    assert_private(response)
    client.force_login(bob)
    assert body(client.get("/endpoints/export")).endswith("endpoints: []\n")
    sharing.grant(Endpoint.objects.get(name="chat"), bob, Level.READ, actor=alice)
    text = body(client.get("/endpoints/export"))
    assert "- name: chat\n" in text and "claude-fast" not in text
