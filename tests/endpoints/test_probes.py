"""Start probes: each model checked with the cheapest request its provider answers (endpoints.probes)."""

from __future__ import annotations

import pytest

from endpoints import lifecycle, services
from endpoints.models import Status
from endpoints.validation import ModelSpec
from keys import services as key_services
from tests.endpoints.conftest import URL

pytestmark = pytest.mark.django_db

SECRET = "sk-probe-secret-0000PPPP"
LISTED = "The key works and the provider lists this model."


@pytest.fixture
def probes_on(settings):
    settings.GATEWAY_START_PROBES = "free"
    settings.GATEWAY_PROBE_TIMEOUT = 5
    return settings


def fake_key(alice, upstream, *, provider="openai", name="fake", secret=SECRET, api_base=None):
    base = api_base if api_base is not None else (upstream.base_url if provider == "openai" else upstream.url)
    return key_services.create_key(actor=alice, name=name, provider=provider, secret=secret, api_base=base)


def started(alice, key, *names, provider="openai", endpoint_type="chat", capture):
    specs = [
        ModelSpec(provider=provider, model_name=name, key_id=key.id.hex, priority=priority)
        for priority, name in enumerate(names, start=1)
    ]
    endpoint = services.create_endpoint(actor=alice, name="probed", endpoint_type=endpoint_type, models=specs)
    with capture(execute=True):
        lifecycle.start_endpoint(endpoint, actor=alice)
    endpoint.refresh_from_db()
    return endpoint


def outcomes(endpoint):
    return [(result["label"], result["outcome"], result["message"]) for result in endpoint.start_check]


def listings(upstream, path="/v1/models"):
    return [record for record in upstream.requests() if record["path"] == path and record["method"] == "GET"]


def test_a_listed_model_runs_and_the_listing_went_to_the_key_with_its_secret(
    probes_on, alice, upstream, api, django_capture_on_commit_callbacks
):
    endpoint = started(alice, fake_key(alice, upstream), "fake-model", capture=django_capture_on_commit_callbacks)
    assert endpoint.status == Status.RUNNING, endpoint.last_error
    assert outcomes(endpoint) == [("openai/fake-model", "ok", LISTED)]
    assert isinstance(endpoint.start_check[0]["latency_ms"], int)
    (listing,) = listings(upstream)
    assert listing["headers"]["authorization"] == f"Bearer {SECRET}"
    shown = api(alice).get(f"{URL}{endpoint.public_id}/").json()["start_check"]
    assert [(r["label"], r["outcome"], r["message"]) for r in shown] == outcomes(endpoint)


def test_a_refused_key_ends_in_error_with_the_reason(probes_on, alice, upstream, django_capture_on_commit_callbacks):
    upstream.configure("*", fail_status=401)
    endpoint = started(alice, fake_key(alice, upstream), "fake-model", capture=django_capture_on_commit_callbacks)
    message = "The provider refused the key (HTTP 401): check the secret. It said: fake failure"
    assert endpoint.status == Status.ERROR
    assert endpoint.last_error == f"No model can serve: openai/fake-model: {message}"
    assert outcomes(endpoint) == [("openai/fake-model", "failed", message)]


def test_a_model_the_server_does_not_list_fails(probes_on, alice, upstream, django_capture_on_commit_callbacks):
    endpoint = started(alice, fake_key(alice, upstream), "gpt-missing", capture=django_capture_on_commit_callbacks)
    assert endpoint.status == Status.ERROR
    assert outcomes(endpoint) == [
        ("openai/gpt-missing", "failed", "The key works, but the server does not list the model “gpt-missing”.")
    ]


def test_one_servable_model_is_enough_and_a_shared_key_is_listed_once(
    probes_on, alice, upstream, django_capture_on_commit_callbacks
):
    key = fake_key(alice, upstream)
    endpoint = started(alice, key, "fake-model", "gpt-missing", capture=django_capture_on_commit_callbacks)
    assert endpoint.status == Status.RUNNING
    assert endpoint.last_error == ""
    assert [(label, outcome) for label, outcome, _ in outcomes(endpoint)] == [
        ("openai/fake-model", "ok"),
        ("openai/gpt-missing", "failed"),
    ]
    assert len(listings(upstream)) == 1


def test_probes_off_send_nothing(settings, alice, upstream, django_capture_on_commit_callbacks):
    settings.GATEWAY_START_PROBES = "off"
    endpoint = started(alice, fake_key(alice, upstream), "gpt-missing", capture=django_capture_on_commit_callbacks)
    assert endpoint.status == Status.RUNNING
    assert endpoint.start_check == []
    assert upstream.requests() == []


def test_a_probe_obeys_the_address_rules(probes_on, alice, upstream, django_capture_on_commit_callbacks):
    key = fake_key(alice, upstream)  # saved while private addresses were allowed
    probes_on.GATEWAY_BLOCK_PRIVATE_API_BASE = True
    endpoint = started(alice, key, "fake-model", capture=django_capture_on_commit_callbacks)
    reason = (
        "The gateway refused to connect to 127.0.0.1: "
        "127.0.0.1 is a private or loopback address, which this gateway does not allow."
    )
    assert endpoint.status == Status.ERROR
    assert outcomes(endpoint) == [("openai/fake-model", "failed", reason)]
    assert upstream.requests() == []


def test_a_provider_message_quoting_the_secret_is_scrubbed(
    probes_on, alice, upstream, django_capture_on_commit_callbacks
):
    # The fake's 404 quotes the path, and this key's base URL carries its secret.
    key = fake_key(alice, upstream, api_base=f"{upstream.url}/{SECRET}")
    endpoint = started(alice, key, "fake-model", capture=django_capture_on_commit_callbacks)
    message = (
        "The provider answered 404 for its model listing: check the key's API base URL. "
        "It said: fake upstream has no route GET /***/models"
    )
    assert outcomes(endpoint) == [("openai/fake-model", "failed", message)]
    assert SECRET not in endpoint.last_error


def test_anthropic_and_gemini_listings_warn_about_an_unlisted_model(
    probes_on, alice, upstream, django_capture_on_commit_callbacks
):
    upstream.configure("claude-listed")
    anthropic = fake_key(alice, upstream, provider="anthropic", name="ant")
    gemini = fake_key(alice, upstream, provider="gemini", name="gem")
    specs = [
        ModelSpec(provider="anthropic", model_name="claude-listed", key_id=anthropic.id.hex, priority=1),
        ModelSpec(provider="anthropic", model_name="claude-alias", key_id=anthropic.id.hex, priority=2),
        ModelSpec(provider="gemini", model_name="fake-model", key_id=gemini.id.hex, priority=3),
    ]
    endpoint = services.create_endpoint(actor=alice, name="probed", endpoint_type="chat", models=specs)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.start_endpoint(endpoint, actor=alice)
    endpoint.refresh_from_db()
    assert endpoint.status == Status.RUNNING
    assert outcomes(endpoint) == [
        ("anthropic/claude-listed", "ok", LISTED),
        (
            "anthropic/claude-alias",
            "warning",
            "The key works, but the provider does not list “claude-alias” (it may be an alias).",
        ),
        ("gemini/fake-model", "ok", LISTED),
    ]
    (ant,) = listings(upstream)
    assert (ant["headers"]["x-api-key"], ant["headers"]["anthropic-version"]) == (SECRET, "2023-06-01")
    (gem,) = listings(upstream, "/v1beta/models")
    assert gem["headers"]["x-goog-api-key"] == SECRET


def test_a_provider_without_a_free_listing_is_skipped(probes_on, alice, upstream, django_capture_on_commit_callbacks):
    key = key_services.create_key(actor=alice, name="co", provider="cohere", secret=SECRET)
    capture = django_capture_on_commit_callbacks
    endpoint = started(alice, key, "embed-english-v3.0", provider="cohere", endpoint_type="embedding", capture=capture)
    assert endpoint.status == Status.RUNNING
    assert outcomes(endpoint) == [
        (
            "cohere/embed-english-v3.0",
            "skipped",
            "cohere has no free model listing to probe; set GATEWAY_START_PROBES=all for a one-token call.",
        )
    ]


def test_all_makes_a_one_token_call(probes_on, alice, upstream, django_capture_on_commit_callbacks):
    probes_on.GATEWAY_START_PROBES = "all"
    endpoint = started(alice, fake_key(alice, upstream), "gpt-paid", capture=django_capture_on_commit_callbacks)
    assert endpoint.status == Status.RUNNING, endpoint.last_error
    assert outcomes(endpoint) == [("openai/gpt-paid", "ok", "A one-token call succeeded.")]
    (call,) = upstream.requests("gpt-paid")
    assert (call["path"], call["json"]["max_tokens"]) == ("/v1/chat/completions", 1)
    assert call["headers"]["authorization"] == f"Bearer {SECRET}"


def test_all_reports_a_refused_one_token_call(probes_on, alice, upstream, django_capture_on_commit_callbacks):
    probes_on.GATEWAY_START_PROBES = "all"
    upstream.configure("*", fail_status=401)
    endpoint = started(alice, fake_key(alice, upstream), "gpt-paid", capture=django_capture_on_commit_callbacks)
    assert endpoint.status == Status.ERROR
    ((label, outcome, message),) = outcomes(endpoint)
    assert (label, outcome) == ("openai/gpt-paid", "failed")
    assert message.startswith("The provider refused the key (HTTP 401): check the secret. It said: ")
    assert "fake failure" in message
    assert SECRET not in message


def test_all_probes_an_embedding_endpoint_with_one_word(probes_on, alice, upstream, django_capture_on_commit_callbacks):
    probes_on.GATEWAY_START_PROBES = "all"
    key = fake_key(alice, upstream)
    capture = django_capture_on_commit_callbacks
    endpoint = started(alice, key, "emb-paid", endpoint_type="embedding", capture=capture)
    assert outcomes(endpoint) == [("openai/emb-paid", "ok", "A one-token call succeeded.")]
    (call,) = upstream.requests("emb-paid")
    assert (call["path"], call["json"]["input"]) == ("/v1/embeddings", ["ping"])


def test_the_endpoint_page_lists_each_models_result(
    probes_on, client, alice, upstream, django_capture_on_commit_callbacks
):
    key = fake_key(alice, upstream)
    endpoint = started(alice, key, "fake-model", "gpt-missing", capture=django_capture_on_commit_callbacks)
    client.force_login(alice)
    html = client.get(f"/endpoints/{endpoint.public_id}/status-fragment").content.decode()
    assert '<details class="start-check">' in html  # closed: the endpoint runs
    assert html.count('<tr><td class="mono">') == 2
    assert "The key works, but the server does not list the model “gpt-missing”." in html
    assert '<span class="badge badge-probe-failed">Failed</span>' in html
    assert '<span class="badge badge-probe-ok">OK</span>' in html
    assert SECRET not in html
