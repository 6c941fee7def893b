"""Checking that a deployment can serve before an endpoint is marked running.

A probe makes the cheapest request a deployment's provider answers:

- **free** (the default): list the key's models, which no provider bills.
  OpenAI and the servers that speak its API (``GET /models``), Azure OpenAI,
  Anthropic and Google AI Studio have such a listing; it proves the key is
  accepted at the key's destination and, where the listing is complete
  (OpenAI-compatible servers), that the model exists. Other providers are
  *skipped*, with a message saying so.
- **all**: a one-token call (``max_tokens=1`` chat or completion, a one-word
  embedding) through LiteLLM, for the types that have one; it costs a
  fraction of a cent, which is why the operator has to turn it on
  (``GATEWAY_START_PROBES=all``).
- **off**: no probe; start checks the configuration only.

Every probe connects through the proxy's guarded egress (``gatewaylib.egress``),
so it obeys the same address rules and never follows a redirect; every
message is scrubbed of the key's secret before it is stored or shown.

Probes run on one background event loop per process (``_Loop``): the sync
callers (a Celery task, a view, the admin) submit coroutines to it, and
LiteLLM's cached async clients stay bound to the one loop that made them.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import aiohttp
from django.conf import settings
from django.template.defaultfilters import pluralize

from endpoints.routing import ROUTER_LIMITS
from gatewaylib import egress, provider_apis
from gatewaylib.endpoint_types import ENDPOINT_TYPES
from gatewaylib.scrub import Scrubber
from keys.models import NO_SECRET

OK, WARNING, FAILED, SKIPPED = "ok", "warning", "failed", "skipped"
ONE_TOKEN_TYPES = frozenset(entry.value for entry in ENDPOINT_TYPES if entry.one_token_probe)
# OpenAI-compatible servers whose listing is every model the key may call; a
# model missing from it would fail. (Perplexity has no listing at all.)
NO_LISTING = frozenset({"perplexity"})
ROUTER_ONLY_PARAMS = frozenset({"weight", "order", *ROUTER_LIMITS})
MESSAGE_LIMIT = 300


@dataclass(frozen=True, slots=True)
class Result:
    """One deployment's probe outcome; ``message`` is already scrubbed and safe to show."""

    label: str
    outcome: str
    message: str
    latency_ms: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Listing:
    """How to list a provider's models: the request, and whether a missing model is an error."""

    url: str
    headers: Mapping[str, str]
    complete: bool  # the listing names every model the key can call

    def __repr__(self) -> str:  # the headers hold the secret
        return f"<Listing {self.url}>"


def listing_for(provider: str, params: Mapping[str, Any]) -> Listing | None:
    """The free models request for ``provider`` at the key's destination, or None if it has none."""
    secret = params.get("api_key")
    secret = "" if secret in (None, NO_SECRET) else secret
    base = (params.get("api_base") or "").rstrip("/")
    if provider in provider_apis.OPENAI_COMPATIBLE and provider not in NO_LISTING:
        openai_base = provider_apis.openai_base(provider, params)
        if openai_base is None:
            return None
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        return Listing(openai_base + "/models", headers, complete=True)
    if provider == "azure" and base and params.get("api_version"):
        # Azure lists the resource's base models, not its deployments: the key is checked, the model is not.
        url = f"{base}/openai/models?api-version={params['api_version']}"
        return Listing(url, {"api-key": secret}, complete=False)
    if provider == "anthropic":
        root = (base or provider_apis.ANTHROPIC_BASE).removesuffix("/v1/messages").removesuffix("/v1")
        headers = {"x-api-key": secret, "anthropic-version": provider_apis.ANTHROPIC_VERSION}
        return Listing(root + "/v1/models?limit=1000", headers, complete=False)
    if provider == "gemini":
        return Listing(
            (base or provider_apis.GEMINI_BASE) + "/v1beta/models?pageSize=1000", {"x-goog-api-key": secret}, False
        )
    return None


def _model_ids(body: Any) -> set[str]:
    """Model names from an OpenAI/Anthropic (``data[].id``) or Gemini (``models[].name``) listing."""
    if not isinstance(body, dict):
        return set()
    ids = {item.get("id") for item in body.get("data") or () if isinstance(item, dict)}
    ids |= {
        str(item.get("name", "")).removeprefix("models/") for item in body.get("models") or () if isinstance(item, dict)
    }
    return {_normalise(name) for name in ids if isinstance(name, str) and name}


def _normalise(model: str) -> str:
    return model.removesuffix(":latest")  # Ollama lists "llama3:latest" for "llama3"


def _refusal(status: int) -> str:
    if status in (401, 403):
        return f"The provider refused the key (HTTP {status}): check the secret."
    if status == 404:
        return "The provider answered 404 for its model listing: check the key's API base URL."
    if status == 429:
        return "The provider is rate limiting this key (HTTP 429)."
    return f"The provider answered HTTP {status}."


def _provider_message(body: Any) -> str:
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else error
    return message if isinstance(message, str) else ""


async def _fetch(listing: Listing, timeout: float) -> tuple[int, Any]:
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with egress.session().get(listing.url, headers=listing.headers, timeout=client_timeout) as response:
        try:
            body = await response.json(content_type=None)
        except ValueError:
            body = None
        return response.status, body


def _connection_message(exc: BaseException) -> str:
    if isinstance(exc, egress.EgressRefused):
        return exc.reason
    if isinstance(exc, TimeoutError):
        return "The provider did not answer in time."
    return f"Could not connect to the provider: {exc.__class__.__name__}: {exc}"


async def _list_models(listing: Listing, timeout: float) -> tuple[set[str] | None, str]:
    """The listed models, or None and why the listing failed."""
    try:
        status, body = await _fetch(listing, timeout)
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        return None, _connection_message(exc)
    if status != 200:
        detail = _provider_message(body)
        return None, _refusal(status) + (f" It said: {detail}" if detail else "")
    return _model_ids(body), ""


class _Cache:
    """One listing request per destination and credential within one run (several models share a key)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._tasks: dict[tuple[str, tuple[tuple[str, str], ...]], asyncio.Task] = {}

    def models(self, listing: Listing) -> asyncio.Task:
        key = (listing.url, tuple(sorted(listing.headers.items())))
        if key not in self._tasks:
            self._tasks[key] = asyncio.ensure_future(_list_models(listing, self.timeout))
        return self._tasks[key]


async def _listing_probe(provider: str, model: str, listing: Listing, cache: _Cache) -> tuple[str, str]:
    models, problem = await cache.models(listing)
    if models is None:
        return FAILED, problem
    if _normalise(model) in models:
        return OK, "The key works and the provider lists this model."
    if listing.complete:
        return FAILED, f"The key works, but the server does not list the model “{model}”."
    if provider == "azure":
        return OK, "The key works (Azure does not list deployments, so the deployment name was not checked)."
    return WARNING, f"The key works, but the provider does not list “{model}” (it may be an alias)."


async def _one_token_probe(endpoint_type: str, params: Mapping[str, Any], timeout: float) -> tuple[str, str]:
    import litellm

    from gatewaylib.llm import configure_litellm

    configure_litellm()
    call = {name: value for name, value in params.items() if name not in ROUTER_ONLY_PARAMS}
    call.update(timeout=timeout, num_retries=0)
    try:
        if endpoint_type == "embedding":
            await litellm.aembedding(input=["ping"], **call)
        elif endpoint_type == "completion":
            await litellm.atext_completion(prompt="ping", max_tokens=1, **call)
        else:
            await litellm.acompletion(messages=[{"role": "user", "content": "ping"}], max_tokens=1, **call)
    except Exception as exc:  # LiteLLM raises one class per provider error; all are reported, scrubbed
        status = getattr(exc, "status_code", None)
        if isinstance(status, int) and status >= 400:
            return FAILED, f"{_refusal(status)} It said: {getattr(exc, 'message', exc)}"
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, egress.EgressRefused):
            return FAILED, cause.reason
        return FAILED, f"The one-token call failed: {exc.__class__.__name__}: {exc}"
    return OK, "A one-token call succeeded."


def _label(info: Mapping[str, Any]) -> str:
    return f"{info['provider']}/{info['model_name']}"


async def _probe(endpoint_type: str, deployment: Mapping[str, Any], mode: str, cache: _Cache) -> Result:
    params, info = deployment["litellm_params"], deployment["model_info"]
    provider, model = info["provider"], info["model_name"]
    listing = listing_for(provider, params)
    started = time.perf_counter()
    if mode == "all" and endpoint_type in ONE_TOKEN_TYPES:
        outcome, message = await _one_token_probe(endpoint_type, params, cache.timeout)
    elif listing is not None:
        outcome, message = await _listing_probe(provider, model, listing, cache)
    else:
        how = (
            "set GATEWAY_START_PROBES=all for a one-token call"
            if endpoint_type in ONE_TOKEN_TYPES
            else "this endpoint type has no one-token call"
        )
        return Result(_label(info), SKIPPED, f"{provider} has no free model listing to probe; {how}.")
    latency = round((time.perf_counter() - started) * 1000)
    return Result(_label(info), outcome, message, latency)


async def _probe_all(endpoint_type: str, deployments: list[Mapping[str, Any]], mode: str) -> list[Result]:
    cache = _Cache(float(settings.GATEWAY_PROBE_TIMEOUT))
    return list(await asyncio.gather(*(_probe(endpoint_type, deployment, mode, cache) for deployment in deployments)))


class _Loop:
    """A daemon thread running one event loop, made on first use (and again in a forked child)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0

    def run(self, coroutine: Any, timeout: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._get())
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def _get(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():  # a Celery prefork child inherits no thread
                self._loop, self._pid = asyncio.new_event_loop(), os.getpid()
                threading.Thread(target=self._loop.run_forever, name="gateway-probes", daemon=True).start()
                atexit.register(self._close, self._loop)
            return self._loop

    @staticmethod
    def _close(loop: asyncio.AbstractEventLoop) -> None:
        """Close the loop's guarded session at exit, so nothing warns about an unclosed one."""
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(egress.close(), loop).result(1)


_loop = _Loop()


def probe(
    endpoint_type: str, deployments: list[Mapping[str, Any]], secrets: tuple[str, ...], *, mode: str
) -> list[Result]:
    """Probe every deployment concurrently; messages come back scrubbed of ``secrets``.

    ``deployments`` are the Router's (``endpoints.routing.model_list``), so a
    probe goes exactly where the proxy's calls go, with the same credential.
    """
    if mode == "off" or not deployments:
        return []
    labels = [_label(deployment["model_info"]) for deployment in deployments]
    return _run(_probe_all(endpoint_type, deployments, mode), labels, secrets)


def probe_key(provider: str, params: Mapping[str, Any], secrets: tuple[str, ...]) -> Result:
    """List the models of one key (``Key.litellm_connection()`` as ``params``): never a billed call."""
    listing = listing_for(provider, params)
    if listing is None:
        return Result(
            provider,
            SKIPPED,
            f"{provider} has no free model listing, so this key cannot be tested without a billed call. "
            "Starting an endpoint with GATEWAY_START_PROBES=all checks it with a one-token call.",
        )
    return _run(_probe_listing(provider, listing), [provider], secrets)[0]


async def _probe_listing(provider: str, listing: Listing) -> list[Result]:
    started = time.perf_counter()
    models, problem = await _list_models(listing, float(settings.GATEWAY_PROBE_TIMEOUT))
    latency = round((time.perf_counter() - started) * 1000)
    if models is None:
        return [Result(provider, FAILED, problem, latency)]
    return [
        Result(
            provider,
            OK,
            f"The key works: the provider lists {len(models)} model{pluralize(len(models))} for it.",
            latency,
        )
    ]


def _run(coroutine: Any, labels: list[str], secrets: tuple[str, ...]) -> list[Result]:
    # Each request has its own timeout; this bound only stops a wedged loop from hanging the caller.
    bound = float(settings.GATEWAY_PROBE_TIMEOUT) * 2 + 5
    try:
        results = _loop.run(coroutine, bound)
    except TimeoutError:
        results = [Result(label, FAILED, "The probe did not finish in time.") for label in labels]
    scrub = Scrubber(secrets)
    return [
        Result(result.label, result.outcome, scrub.text(result.message)[:MESSAGE_LIMIT], result.latency_ms)
        for result in results
    ]


def none_can_serve(results: list[Result]) -> str:
    """Why no deployment can serve (every probe failed), or "" when one can or none was probed."""
    if not results or any(result.outcome != FAILED for result in results):
        return ""
    return "No model can serve: " + "; ".join(f"{result.label}: {result.message}" for result in results)
