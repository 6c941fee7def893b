"""A stored key goes only where its owner sent it.

The measured attacks, each through the API, the UI and the admin, with a
listening server on 127.0.0.1 standing in for the attacker:

1. bob holds EDIT on alice's endpoint (and nothing on her key) and tries to
   point the endpoint's model at his server: PATCH of the models list, PATCH
   of one model, a second model with the same key, the UI edit form, the
   admin's inline, restoring an old revision.
2. bob holds USE on alice's key and builds an endpoint of his own with it
   aimed at his server, or tries to move the key itself.
3. An upstream echoes the request's Authorization header inside its errors
   (a 400, an error in the middle of an OpenAI stream, an Anthropic
   ``event: error``): the client, the request log and the log lines get no
   secret, whatever its length or characters.

After each attack the endpoint still works, and its calls went only to the
key's own destination (the fake upstream).
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from logging.config import DictConfigurator

import anthropic
import httpx
import openai
import pytest

from endpoints.models import Endpoint, RequestLog, Revision
from gatewaylib.scrub import WITHHELD
from proxy.usage import recorder
from sharing.levels import Level
from tests.factories import PASSWORD
from tests.proxy.conftest import UPSTREAM_SECRET
from tests.proxy.listeners import Attacker, Echoer

# Every test here runs on the direct path and on LiteLLM's translated path.
pytestmark = pytest.mark.usefixtures("both_paths")

API = "/api/3.0/mlflow/gateway"
MESSAGES = [{"role": "user", "content": "hi"}]
REFUSED = "'api_base' decides where the key's secret is sent; set it on the key, not on the endpoint's model."


@pytest.fixture
def attacker():
    with Attacker() as server:
        yield server


@pytest.fixture
def stolen(world, attacker):
    """alice's running endpoint; bob has EDIT on it and no grant on her key."""
    endpoint = world.endpoint()
    world.share(endpoint, world.bob, Level.EDIT)
    return endpoint


def as_(api, user):
    return api(user)


def assert_still_calls_only_the_keys_destination(gateway, world, attacker):
    before = world.upstream.stats()["total"]
    reply = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=world.token(world.alice), max_retries=0)
    reply.chat.completions.create(model="chat", messages=MESSAGES)
    assert world.upstream.stats()["total"] == before + 1
    assert attacker.requests == [] and not attacker.received(UPSTREAM_SECRET)


def evil(attacker, **extra) -> dict:
    return {"litellm_params": {"api_base": attacker.url + "/v1"}, **extra}


class TestEditOnAnEndpoint:
    def test_patching_the_models_list_is_refused(self, gateway, world, stolen, attacker, api):
        models = [{**world.model("upstream-a"), **evil(attacker)}]
        response = api(world.bob).patch(f"{API}/endpoints/{stolen.public_id}/", {"models": models}, format="json")
        assert response.status_code == 400
        assert response.json() == {"models": [{"litellm_params": [REFUSED]}]}
        assert_still_calls_only_the_keys_destination(gateway, world, attacker)

    def test_patching_one_model_is_refused(self, gateway, world, stolen, attacker, api):
        model = stolen.models.get()
        url = f"{API}/endpoints/{stolen.public_id}/models/{model.public_id}/"
        response = api(world.bob).patch(url, evil(attacker), format="json")
        assert response.status_code == 400
        assert response.json() == {"litellm_params": [REFUSED]}  # about the model sent
        assert_still_calls_only_the_keys_destination(gateway, world, attacker)

    def test_a_second_model_with_the_same_key_cannot_aim_elsewhere(self, gateway, world, stolen, attacker, api):
        url = f"{API}/endpoints/{stolen.public_id}/models/"
        body = {**world.model("upstream-b", priority=2), **evil(attacker)}
        response = api(world.bob).post(url, body, format="json")
        assert response.status_code == 400
        assert response.json() == {"litellm_params": [REFUSED]}  # about the model sent
        # Without a destination the same model is fine: the secret still goes where alice sent it.
        assert api(world.bob).post(url, world.model("upstream-b", priority=2), format="json").status_code == 201
        assert_still_calls_only_the_keys_destination(gateway, world, attacker)

    def test_the_ui_edit_form_is_refused(self, gateway, world, stolen, attacker, client):
        client.login(username="bob", password=PASSWORD)
        model = stolen.models.get()
        form = {
            "name": stolen.name,
            "endpoint_type": "chat",
            "models-TOTAL_FORMS": "1",
            "models-INITIAL_FORMS": "1",
            "models-0-id": model.public_id,
            "models-0-provider": "openai",
            "models-0-custom": "on",
            "models-0-custom_model_name": model.model_name,
            "models-0-key_id": model.key.public_id,
            "models-0-priority": "1",
            "models-0-extra_params": json.dumps({"api_base": attacker.url + "/v1"}),
        }
        response = client.post(f"/endpoints/{stolen.public_id}/edit", form)
        assert response.status_code == 400
        assert response.context["formset"].forms[0].errors["extra_params"] == [REFUSED]
        assert_still_calls_only_the_keys_destination(gateway, world, attacker)

    def test_restoring_a_revision_that_names_a_destination_is_refused(self, gateway, world, stolen, attacker, api):
        # A revision in the shape written before destinations moved to keys (or forged in the database).
        config = {**stolen.revisions.get().config}
        config["models"] = [{**config["models"][0], **evil(attacker)}]
        Revision.objects.create(endpoint=stolen, number=2, config=config, note="legacy")
        response = api(world.bob).post(f"{API}/endpoints/{stolen.public_id}/revisions/2/restore")
        assert response.status_code == 400
        assert response.json() == {"models": [{"litellm_params": [REFUSED]}]}
        assert_still_calls_only_the_keys_destination(gateway, world, attacker)

    def test_the_admin_inline_is_refused(self, gateway, world, stolen, attacker, client, admin_user):
        client.force_login(admin_user)
        model = stolen.models.get()
        form = {
            "name": stolen.name,
            "endpoint_type": "chat",
            "description": "",
            "models-TOTAL_FORMS": "1",
            "models-INITIAL_FORMS": "1",
            "models-0-id": model.pk,
            "models-0-endpoint": stolen.pk,
            "models-0-provider": "openai",
            "models-0-model_name": model.model_name,
            "models-0-key": model.key_id,
            "models-0-weight": "1",
            "models-0-priority": "1",
            "models-0-litellm_params": json.dumps({"api_base": attacker.url + "/v1"}),
            "bindings-TOTAL_FORMS": "0",
            "bindings-INITIAL_FORMS": "0",
        }
        response = client.post(f"/admin/endpoints/endpoint/{stolen.pk}/change/", form)
        assert response.status_code == 200
        inline = response.context["inline_admin_formsets"][0].formset
        assert inline.forms[0].errors["litellm_params"] == [REFUSED]
        assert_still_calls_only_the_keys_destination(gateway, world, attacker)

    def test_the_key_itself_is_invisible_to_the_editor(self, world, stolen, api):
        response = api(world.bob).patch(
            f"{API}/keys/{world.key.public_id}/", {"api_base": "http://127.0.0.1:1/v1"}, format="json"
        )
        assert response.status_code == 404


class TestUseOnAKey:
    @pytest.fixture
    def lent(self, world):
        world.share(world.key, world.bob, Level.USE)
        return world.key

    def test_an_endpoint_of_ones_own_cannot_aim_the_key_elsewhere(self, gateway, world, lent, attacker, api):
        body = {"name": "bobs", "endpoint_type": "chat", "models": [{**world.model("upstream-a"), **evil(attacker)}]}
        response = api(world.bob).post(f"{API}/endpoints/", body, format="json")
        assert response.status_code == 400
        assert response.json() == {"models": [{"litellm_params": [REFUSED]}]}
        assert not Endpoint.objects.filter(name="bobs").exists()

    def test_the_ui_form_refuses_it_too(self, world, lent, attacker, client):
        client.login(username="bob", password=PASSWORD)
        form = {
            "name": "bobs",
            "endpoint_type": "chat",
            "models-TOTAL_FORMS": "1",
            "models-INITIAL_FORMS": "0",
            "models-0-provider": "openai",
            "models-0-custom": "on",
            "models-0-custom_model_name": "upstream-a",
            "models-0-key_id": lent.public_id,
            "models-0-priority": "1",
            "models-0-extra_params": json.dumps({"api_base": attacker.url + "/v1"}),
        }
        response = client.post("/endpoints/new", form)
        assert response.status_code == 400
        assert response.context["formset"].forms[0].errors["extra_params"] == [REFUSED]

    def test_using_the_key_sends_its_secret_only_where_alice_pointed_it(self, gateway, world, lent, attacker, api):
        body = {"name": "bobs", "endpoint_type": "chat", "models": [world.model("upstream-a")]}
        created = api(world.bob).post(f"{API}/endpoints/", body, format="json")
        assert created.status_code == 201, created.json()
        assert api(world.bob).post(f"{API}/endpoints/{created.json()['id']}/start").json()["status"] == "running"
        bob = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=world.token(world.bob), max_retries=0)
        bob.chat.completions.create(model="bobs", messages=MESSAGES)
        sent = world.upstream.requests()[-1]
        assert sent["headers"]["authorization"] == f"Bearer {UPSTREAM_SECRET}"
        assert attacker.requests == []

    def test_use_is_not_enough_to_move_the_key(self, world, lent, attacker, api):
        body = {"api_base": attacker.url + "/v1", "secret": "sk-a-guess-0000000000"}
        assert api(world.bob).patch(f"{API}/keys/{lent.public_id}/", body, format="json").status_code == 403
        lent.refresh_from_db()
        assert lent.api_base == world.upstream.base_url and lent.secret() == UPSTREAM_SECRET


# -- 3. upstreams that echo the credential back ---------------------------------------------------------

# Secrets whose characters get escaped or that are too short to cut out of text.
SECRETS = {
    "plain": "sk-echoed-provider-secret-0123456789",
    "special": 'sk-"quote"/slash\\back+plus=eq&amp;%25-9876543210',
    "short": "k9!",
}


@pytest.fixture
def echoer():
    with Echoer() as server:
        yield server


@pytest.fixture(params=["plain", "json"])
def logs(request, settings):
    """Everything the process's configured handlers (ours and LiteLLM's) write, while the test runs.

    The proxy's per-request line is switched on, so the sweep covers it too,
    once in each log format (GATEWAY_LOG_FORMAT).
    """
    settings.GATEWAY_REQUEST_LOG_LEVEL = logging.INFO
    sink = io.StringIO()
    handlers = {h for name in ("", "LiteLLM", "LiteLLM Router") for h in logging.getLogger(name).handlers}
    streams = {h: h.setStream(sink) for h in handlers if isinstance(h, logging.StreamHandler)}
    formatters = {h: h.formatter for h in streams}
    if request.param == "json":
        configured = settings.LOGGING["formatters"]["json"]
        for handler in streams:
            handler.setFormatter(DictConfigurator(settings.LOGGING).configure_formatter(dict(configured)))
    yield sink
    for handler, stream in streams.items():
        handler.setStream(stream)
        handler.setFormatter(formatters[handler])


def echo_endpoint(world, echoer, secret: str) -> None:
    provider = "hosted_vllm" if len(secret) < 8 else "openai"
    key = world.make_key(provider, name="echoed", secret=secret, api_base=echoer.url + "/v1")
    world.endpoint(name="echo", models=[world.model("echo-model", key=key, provider=provider)])


def assert_clean(text: str, secret: str) -> None:
    escaped = json.dumps(secret)[1:-1]
    assert secret not in text and escaped not in text, text[:2000]


@pytest.mark.parametrize("kind", SECRETS)
def test_a_provider_error_that_echoes_the_key_reaches_nobody(gateway, world, echoer, logs, kind):
    secret = SECRETS[kind]
    echo_endpoint(world, echoer, secret)
    response = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {world.token(world.alice)}"},
        json={"model": "echo", "messages": MESSAGES},
        timeout=30,
    )
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert message.startswith("The provider rejected the request: ")
    assert (WITHHELD in message) == (kind == "short")
    assert_clean(response.text, secret)
    assert f"POST /v1/chat/completions 400 request_id={response.headers['x-request-id']}" in logs.getvalue()
    assert_clean(logs.getvalue(), secret)
    # The request log keeps the provider's words for whoever debugs it, scrubbed the same way.
    recorder.flush()
    row = RequestLog.objects.get(request_id=uuid.UUID(response.headers["x-request-id"]))
    assert row.error_message == message and len(row.failed_attempts) == 1
    assert_clean(row.error_message + json.dumps(row.failed_attempts), secret)


@pytest.mark.parametrize("kind", SECRETS)
def test_an_openai_stream_that_breaks_with_the_key_in_its_error_reaches_nobody(gateway, world, echoer, logs, kind):
    secret = SECRETS[kind]
    echo_endpoint(world, echoer, secret)
    with httpx.stream(
        "POST",
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {world.token(world.alice)}"},
        json={"model": "echo", "messages": MESSAGES, "stream": True},
        timeout=30,
    ) as response:
        body = "".join(response.iter_text())
    assert response.status_code == 200
    assert '"error"' in body, body
    assert_clean(body, secret)
    assert_clean(logs.getvalue(), secret)


@pytest.mark.parametrize("kind", SECRETS)
def test_an_anthropic_stream_error_event_never_carries_the_key(gateway, world, echoer, logs, kind):
    secret = SECRETS[kind]
    echo_endpoint(world, echoer, secret)
    client = anthropic.Anthropic(base_url=gateway.url, api_key=world.token(world.alice), max_retries=0)
    frames = []
    with client.messages.with_streaming_response.create(
        model="echo", max_tokens=20, messages=MESSAGES, stream=True
    ) as response:
        frames = list(response.iter_text())
    body = "".join(frames)
    assert "event: error" in body, body
    assert_clean(body, secret)
    assert_clean(logs.getvalue(), secret)
