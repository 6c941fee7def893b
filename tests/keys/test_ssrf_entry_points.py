"""A key's api_base may not point at a forbidden address, whichever way it gets there.

Forbidden: link-local and cloud metadata addresses always; private and
loopback ones once the operator sets ``GATEWAY_BLOCK_PRIVATE_API_BASE``.
Every way of saving a key checks it (the API, the key pages, the Django
admin; creating and changing), each with the same exact message under
``api_base`` and nothing saved. A key saved while its address was allowed is
checked again wherever the gateway connects for it after the rule changes
(starting an endpoint, which probes its models; a key's connection test; a
proxied call), each refused with the exact reason and nothing sent.

No real DNS: the destinations are IP literals, and the one hostname is
answered by a stubbed resolver (at save time and at connect time).
"""

from __future__ import annotations

import socket

import httpx
import pytest
from aiohttp.resolver import ThreadedResolver

from endpoints import services as endpoint_services
from endpoints.models import Endpoint, Status
from endpoints.validation import ModelSpec
from gatewaylib import netguard
from keys import services as key_services
from keys.models import Key
from tests.factories import PASSWORD
from tests.proxy import conftest as proxy_fixtures

API = "/api/3.0/mlflow/gateway/"
SECRET = "sk-ssrf-entry-points-0123456789"

LINK_LOCAL = "169.254.169.254 is a link-local or cloud metadata address."
PRIVATE = "10.0.0.5 is a private or loopback address, which this gateway does not allow."
METADATA_NAME = "metadata.google.internal is a cloud metadata service."

# (api_base, whether the operator blocks private addresses, the exact refusal)
FORBIDDEN = {
    "metadata-ip": ("http://169.254.169.254/latest/meta-data", False, LINK_LOCAL),
    "metadata-ipv4-mapped": ("http://[::ffff:169.254.169.254]/", False, LINK_LOCAL),
    "metadata-name": ("http://metadata.google.internal/computeMetadata/v1", False, METADATA_NAME),
    "private-blocked": ("http://10.0.0.5:8000/v1", True, PRIVATE),
}
ALLOWED_BEFORE = "http://93.184.216.34/v1"  # a public IP literal: checked without DNS

# The proxy tests' fixtures (a gateway in a thread, alice's key on the fake upstream), for the proxied call.
gateway, world = proxy_fixtures.gateway, proxy_fixtures.world


@pytest.fixture(autouse=True)
def _no_dns(monkeypatch):
    """Any name resolved while saving a key fails the test instead of reaching a real resolver."""

    def resolve(host, port):
        raise AssertionError(f"unexpected DNS lookup of {host!r}")

    monkeypatch.setattr(netguard, "resolve", resolve)


@pytest.fixture(params=list(FORBIDDEN), ids=list(FORBIDDEN))
def forbidden(request, settings):
    api_base, block_private, message = FORBIDDEN[request.param]
    settings.GATEWAY_BLOCK_PRIVATE_API_BASE = block_private
    return api_base, message


@pytest.fixture
def saved_key(alice):
    """alice's key, saved with an allowed destination."""
    return key_services.create_key(actor=alice, name="saved", provider="openai", secret=SECRET, api_base=ALLOWED_BEFORE)


def assert_unchanged(key: Key) -> None:
    key.refresh_from_db()
    assert (key.api_base, key.secret()) == (ALLOWED_BEFORE, SECRET)


# -- saving: the API ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_refuses_to_create_the_key(api, alice, forbidden):
    api_base, message = forbidden
    body = {"name": "k", "provider": "openai", "secret": SECRET, "api_base": api_base}
    response = api(alice).post(f"{API}keys/", body, format="json")
    assert (response.status_code, response.json()) == (400, {"api_base": [message]})
    assert not Key.objects.exists()


@pytest.mark.django_db
def test_the_api_refuses_to_move_the_key(api, alice, saved_key, forbidden):
    api_base, message = forbidden
    body = {"api_base": api_base, "secret": SECRET}
    response = api(alice).patch(f"{API}keys/{saved_key.public_id}/", body, format="json")
    assert (response.status_code, response.json()) == (400, {"api_base": [message]})
    assert_unchanged(saved_key)


# -- saving: the key pages ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_new_key_page_refuses_it(client, alice, forbidden):
    api_base, message = forbidden
    client.login(username="alice", password=PASSWORD)
    response = client.post("/keys/new", {"name": "k", "provider": "openai", "secret": SECRET, "api_base": api_base})
    assert response.status_code == 422
    assert response.context["form"].errors == {"api_base": [message]}
    assert not Key.objects.exists()


@pytest.mark.django_db
def test_the_edit_key_page_refuses_it(client, alice, saved_key, forbidden):
    api_base, message = forbidden
    client.login(username="alice", password=PASSWORD)
    form = {"name": "saved", "provider": "openai", "description": "", "api_base": api_base, "secret": SECRET}
    response = client.post(f"/keys/{saved_key.public_id}/edit", form)
    assert response.status_code == 422
    assert response.context["form"].errors == {"api_base": [message]}
    assert_unchanged(saved_key)


# -- saving: the Django admin ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_add_form_refuses_it(client, admin_user, forbidden):
    api_base, message = forbidden
    client.force_login(admin_user)
    form = {"name": "k", "provider": "openai", "secret": SECRET, "description": "", "api_base": api_base}
    response = client.post("/admin/keys/key/add/", form)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"api_base": [message]}
    assert not Key.objects.exists()


@pytest.mark.django_db
def test_the_admin_change_form_refuses_it(client, admin_user, saved_key, forbidden):
    api_base, message = forbidden
    client.force_login(admin_user)
    form = {"name": "saved", "provider": "openai", "secret": SECRET, "description": "", "api_base": api_base}
    response = client.post(f"/admin/keys/key/{saved_key.pk}/change/", form)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"api_base": [message]}
    assert_unchanged(saved_key)


# -- connecting: a key saved while allowed, then the operator blocks private addresses ------------

REFUSED_AT_CONNECT = (
    "The gateway refused to connect to 127.0.0.1: "
    "127.0.0.1 is a private or loopback address, which this gateway does not allow."
)


@pytest.fixture
def local_key(alice, upstream, settings):
    """A key on the fake upstream (127.0.0.1), saved while private addresses were allowed; then they are not."""
    settings.GATEWAY_PROBE_TIMEOUT = 5
    key = key_services.create_key(
        actor=alice, name="local", provider="openai", secret=SECRET, api_base=upstream.base_url
    )
    settings.GATEWAY_BLOCK_PRIVATE_API_BASE = True
    return key


@pytest.fixture
def local_endpoint(alice, local_key, settings):
    settings.GATEWAY_START_PROBES = "free"
    spec = ModelSpec(provider="openai", model_name="fake-model", key_id=local_key.public_id)
    return endpoint_services.create_endpoint(actor=alice, name="local-ep", endpoint_type="chat", models=[spec])


def without_latency(result: dict) -> dict:
    """A probe result without its measured ``latency_ms`` (an int however fast the refusal was)."""
    assert isinstance(result.pop("latency_ms"), int), result
    return result


def assert_start_refused(endpoint: Endpoint, upstream) -> None:
    endpoint.refresh_from_db()
    assert (endpoint.status, endpoint.last_error) == (
        Status.ERROR,
        f"No model can serve: openai/fake-model: {REFUSED_AT_CONNECT}",
    )
    assert [(r["label"], r["outcome"], r["message"]) for r in endpoint.start_check] == [
        ("openai/fake-model", "failed", REFUSED_AT_CONNECT)
    ]
    assert upstream.requests() == []


@pytest.mark.django_db
def test_starting_through_the_api_is_refused(api, alice, local_endpoint, upstream, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(alice).post(f"{API}endpoints/{local_endpoint.public_id}/start/")
    assert (response.status_code, response.json()["status"]) == (200, "starting")
    assert_start_refused(local_endpoint, upstream)
    status = api(alice).get(f"{API}endpoints/{local_endpoint.public_id}/status/").json()
    assert (status["status"], status["error"]) == (
        "error",
        f"No model can serve: openai/fake-model: {REFUSED_AT_CONNECT}",
    )


@pytest.mark.django_db
def test_starting_from_the_endpoint_page_is_refused(
    client, alice, local_endpoint, upstream, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/endpoints/{local_endpoint.public_id}/start")
    assert (response.status_code, response["Location"]) == (302, f"/endpoints/{local_endpoint.public_id}/")
    assert_start_refused(local_endpoint, upstream)
    page = client.get(f"/endpoints/{local_endpoint.public_id}/").content.decode()
    assert "127.0.0.1 is a private or loopback address, which this gateway does not allow." in page


@pytest.mark.django_db
def test_the_api_connection_test_is_refused(api, alice, local_key, upstream):
    response = api(alice).post(f"{API}keys/{local_key.public_id}/test/")
    assert (response.status_code, without_latency(response.json())) == (
        200,
        {"label": "openai", "outcome": "failed", "message": REFUSED_AT_CONNECT},
    )
    assert upstream.requests() == []


@pytest.mark.django_db
def test_the_key_page_connection_test_is_refused(client, alice, local_key, upstream):
    client.force_login(alice)
    response = client.post(f"/keys/{local_key.public_id}/test", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.context["result"].message == REFUSED_AT_CONNECT
    assert "127.0.0.1 is a private or loopback address, which this gateway does not allow." in response.content.decode()
    assert upstream.requests() == []


@pytest.mark.django_db
def test_a_name_that_now_resolves_to_the_metadata_service_is_refused_at_connect_time(
    api, alice, monkeypatch, settings, upstream
):
    """Saved while the name resolved to a public address; it answers 169.254.169.254 when the test connects."""
    host, answer = "rebind.ssrf.test", {"address": "93.184.216.34"}
    monkeypatch.setattr(netguard, "resolve", lambda name, port: [answer["address"]] if name == host else [])

    async def resolve(self, name, port=0, family=socket.AF_INET):
        assert name == host, name
        return [{"hostname": name, "host": answer["address"], "port": port, "family": family, "proto": 0, "flags": 0}]

    monkeypatch.setattr(ThreadedResolver, "resolve", resolve)
    settings.GATEWAY_PROBE_TIMEOUT = 5
    key = key_services.create_key(
        actor=alice, name="rebind", provider="openai", secret=SECRET, api_base=f"http://{host}:8080/v1"
    )
    answer["address"] = "169.254.169.254"
    response = api(alice).post(f"{API}keys/{key.public_id}/test/")
    assert (response.status_code, without_latency(response.json())) == (
        200,
        {"label": "openai", "outcome": "failed", "message": f"The gateway refused to connect to {host}: {LINK_LOCAL}"},
    )


# -- connecting: a proxied call -------------------------------------------------------------------


@pytest.mark.parametrize("direct_path", [True, False], ids=["direct", "translated"])
def test_a_proxied_call_is_refused(gateway, world, settings, direct_path):
    settings.GATEWAY_DIRECT_PATH = direct_path
    world.endpoint(name="local-ep")  # on the fake upstream at 127.0.0.1, saved and started while allowed
    settings.GATEWAY_BLOCK_PRIVATE_API_BASE = True
    response = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {world.token(world.alice)}"},
        json={"model": "local-ep", "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )
    assert (response.status_code, response.json()) == (
        502,
        {
            "error": {
                "message": REFUSED_AT_CONNECT,
                "type": "server_error",
                "param": None,
                "code": "destination_refused",
            }
        },
    )
    assert world.upstream.stats()["total"] == 0
