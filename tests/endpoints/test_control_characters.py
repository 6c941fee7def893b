"""Stored text never holds control characters (PostgreSQL refuses NUL; others forge log lines and pages)."""

from __future__ import annotations

import pytest

from endpoints.models import Binding
from keys.models import Key
from tests.endpoints.conftest import URL as ENDPOINTS
from tests.endpoints.conftest import model_body

pytestmark = pytest.mark.django_db
KEYS = "/api/3.0/mlflow/gateway/keys/"
SECRET = "sk-control-chars-0123456789"


@pytest.mark.parametrize("name", ["evil\x00name", "log\x1b[31mred", "two\nlines", "bell\x07"])
def test_a_key_name_has_no_control_characters(api, alice, name):
    response = api(alice).post(KEYS, {"name": name, "provider": "openai", "secret": SECRET}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["name"]
    assert not Key.objects.exists()


def test_a_description_keeps_line_breaks_but_no_other_control_characters(api, alice):
    client = api(alice)
    body = {"name": "k", "provider": "openai", "secret": SECRET}
    assert client.post(KEYS, {**body, "description": "line one\nline two\ttabbed"}, format="json").status_code == 201
    refused = client.post(KEYS, {**body, "name": "k2", "description": "escape \x1b[2J"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"description": ["Remove the control characters from this text."]}


def test_an_endpoint_description_and_bindings_refuse_them_too(api, alice, openai_key, make_endpoint):
    client = api(alice)
    body = {"name": "ep", "endpoint_type": "chat", "models": [model_body(openai_key)], "description": "a\x00b"}
    assert client.post(ENDPOINTS, body, format="json").status_code == 400
    endpoint = make_endpoint(alice)
    url = f"{ENDPOINTS}{endpoint.public_id}/bindings"
    response = client.post(url, {"resource_type": "scorer", "resource_id": "id\x1bx"}, format="json")
    assert response.status_code == 400
    assert not Binding.objects.exists()


def test_the_ui_cannot_smuggle_them_into_a_binding(client, alice, openai_key):
    from tests.factories import PASSWORD

    client.login(username="alice", password=PASSWORD)
    form = {
        "name": "ep",
        "endpoint_type": "chat",
        "for": "tool:s\x1b1",
        "models-TOTAL_FORMS": "1",
        "models-INITIAL_FORMS": "0",
        "models-0-provider": "openai",
        "models-0-model_name": "gpt-4o",
        "models-0-key_id": openai_key.public_id,
        "models-0-priority": "1",
    }
    response = client.post("/endpoints/new", form)
    assert response.status_code == 400
    assert not Binding.objects.exists()
