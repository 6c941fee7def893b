"""Where the direct path sends each deployment's requests, worked out once per Router.

A deployment is *direct* for a route when the client's format is its
provider's own: OpenAI-format routes to OpenAI and the providers that speak
OpenAI's API (groq, mistral, deepseek, together_ai, fireworks_ai, xai,
openrouter, perplexity, cerebras, deepinfra, self-hosted vLLM, Ollama's
``/v1``, LM Studio, llamafile), Azure OpenAI with its own URL scheme,
Anthropic's ``/v1/messages`` to Anthropic, and Gemini's, Vertex AI's and
Bedrock Runtime's own APIs to those providers (the only way they are served:
LiteLLM's Router has no call for them). Every other pair
(OpenAI format to Anthropic, Bedrock, Vertex, ...) is *translated*: LiteLLM
converts it.

The URL and headers (the key's secret among them) are built here from the
deployment LiteLLM's Router was given, so both paths send the secret to the
same destination: the key's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
from django.conf import settings
from yarl import URL

from endpoints.routing import ROUTER_LIMITS, passes_through
from gatewaylib.endpoint_types import ANTHROPIC, BEDROCK, GEMINI, GEMINI_VERSION, OPENAI, ROUTES, VERTEX
from gatewaylib.provider_apis import ANTHROPIC_BASE, ANTHROPIC_VERSION, GEMINI_BASE, OPENAI_COMPATIBLE, openai_base
from keys.aws import DEFAULT_REGION, AwsCredentials
from keys.models import NO_SECRET
from proxy.google_auth import ServiceAccount

# The OpenAI-format routes the direct path may forward, and their paths
# relative to an OpenAI-style base URL (".../v1"), from the registry.
OPENAI_PATHS = {
    name: route.path.removeprefix("/v1") for name, route in ROUTES.items() if route.passthrough and route.wire == OPENAI
}
TEXT_ROUTES = frozenset({"chat", "completion", "embedding"})

# Every OpenAI route is OpenAI's own; the others serve text routes only.
FULL_OPENAI = frozenset({"openai"})
AZURE_ROUTES = frozenset({"chat", "completion", "embedding", "image_generation"})


@dataclass(frozen=True, slots=True)
class Upstream:
    """One deployment's direct target for one route. ``headers`` carries the secret: never log it."""

    deployment_id: str
    url: str
    model: str  # the provider's model name, which replaces the client's ``model``
    headers: Mapping[str, str]
    timeout: aiohttp.ClientTimeout
    wire: str = OPENAI  # the API it speaks: where its usage is and what its events look like
    credentials: ServiceAccount | None = None  # Vertex AI: an access token minted from the key's service account
    signer: Any = None  # Bedrock: a proxy.aws_auth.AwsSigner for the key's access key (botocore: imported lazily)

    @property
    def signs(self) -> bool:
        return self.credentials is not None or self.signer is not None

    # What is posted to, when not ``url`` itself: a signed URL goes exactly as signed (``%3A`` in a model id stays).
    encoded_url: URL | None = None

    @property
    def target(self) -> str | URL:
        return self.encoded_url if self.encoded_url is not None else self.url

    async def signed_headers(self, body: bytes) -> dict[str, str]:
        """``headers`` with a current access token (minted, or cached until shortly before it expires),
        or with a signature of this request."""
        if self.signer is not None:
            return self.signer.sign(self.url, dict(self.headers), body)
        return {**self.headers, "Authorization": f"Bearer {await self.credentials.access_token()}"}

    def __repr__(self) -> str:  # the headers hold the secret
        return f"<Upstream {self.deployment_id} {self.url}>"


def _timeout(params: Mapping[str, Any]) -> aiohttp.ClientTimeout:
    read = float(params.get("stream_timeout") or params.get("timeout") or settings.GATEWAY_UPSTREAM_TIMEOUT)
    return aiohttp.ClientTimeout(total=None, connect=min(10.0, read), sock_read=read)


def _bearer(params: Mapping[str, Any]) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if (secret := params.get("api_key")) and secret != NO_SECRET:
        headers["Authorization"] = f"Bearer {secret}"
    if organization := params.get("organization"):
        headers["OpenAI-Organization"] = organization
    return headers


def upstream_for(route: str, deployment: Mapping[str, Any]) -> Upstream | None:
    """The direct target of ``deployment`` for ``route``, or None when LiteLLM must translate."""
    params, info = deployment["litellm_params"], deployment["model_info"]
    provider, model = info["provider"], info["model_name"]
    common = {"deployment_id": info["id"], "model": model, "timeout": _timeout(params)}
    if ROUTES[route].wire == GEMINI:
        return _gemini(route, provider, params, common)
    if ROUTES[route].wire == VERTEX:
        return _vertex(route, provider, params, common)
    if ROUTES[route].wire == BEDROCK:
        return _bedrock(route, provider, params, common)
    if ROUTES[route].wire == ANTHROPIC:
        if provider != "anthropic":
            return None
        base = (params.get("api_base") or ANTHROPIC_BASE).rstrip("/")
        url = base if base.endswith("/v1/messages") else base.removesuffix("/v1") + "/v1/messages"
        headers = {"Content-Type": "application/json", "anthropic-version": ANTHROPIC_VERSION}
        if (secret := params.get("api_key")) and secret != NO_SECRET:
            headers["x-api-key"] = secret
        return Upstream(url=url, headers=headers, wire=ANTHROPIC, **common)
    path = OPENAI_PATHS.get(route)
    if path is None:
        return None
    if provider == "azure":
        return _azure(route, path, params, common)
    if provider not in OPENAI_COMPATIBLE or (route not in TEXT_ROUTES and provider not in FULL_OPENAI):
        return None
    base = openai_base(provider, params)
    return Upstream(url=base + path, headers=_bearer(params), **common) if base else None


def _gemini(route: str, provider: str, params: Mapping[str, Any], common: dict[str, Any]) -> Upstream | None:
    if not passes_through(GEMINI, provider, params, common["model"]):
        return None
    spec = ROUTES[route]
    base = (params.get("api_base") or GEMINI_BASE).rstrip("/")
    url = f"{base}/{GEMINI_VERSION}/models/{common['model']}:{spec.native_method}"
    headers = {"Content-Type": "application/json"}
    if (secret := params.get("api_key")) and secret != NO_SECRET:
        headers["x-goog-api-key"] = secret
    return Upstream(url=url + "?alt=sse" if spec.always_streams else url, headers=headers, wire=GEMINI, **common)


def _vertex(route: str, provider: str, params: Mapping[str, Any], common: dict[str, Any]) -> Upstream | None:
    """Vertex AI's publisher model in the key's project and location, with a token from its service account.

    A key whose secret is not a service account's JSON holds a Vertex AI API
    key (express mode): no project, and the key in ``x-goog-api-key``.
    """
    if not passes_through(VERTEX, provider, params, common["model"]):
        return None
    spec, secret = ROUTES[route], params.get("api_key") or ""
    location = params.get("vertex_location") or "global"
    host = "aiplatform.googleapis.com" if location == "global" else f"{location}-aiplatform.googleapis.com"
    base = (params.get("api_base") or f"https://{host}").rstrip("/")
    model_path = f"publishers/google/models/{common['model']}:{spec.native_method}"
    headers = {"Content-Type": "application/json"}
    account = ServiceAccount.from_secret(secret)
    if account is None:
        headers["x-goog-api-key"] = secret
        url = f"{base}/v1/{model_path}"
    else:
        project = params.get("vertex_project") or account.project_id
        url = f"{base}/v1/projects/{project}/locations/{location}/{model_path}"
    url += "?alt=sse" if spec.always_streams else ""
    return Upstream(url=url, headers=headers, wire=VERTEX, credentials=account, **common)


def _bedrock(route: str, provider: str, params: Mapping[str, Any], common: dict[str, Any]) -> Upstream | None:
    """Bedrock Runtime in the key's region, signed with its AWS access key or with its Bedrock API key."""
    if not passes_through(BEDROCK, provider, params, common["model"]):
        return None
    spec = ROUTES[route]
    region = params.get("aws_region_name") or DEFAULT_REGION
    base = (params.get("api_base") or f"https://bedrock-runtime.{region}.amazonaws.com").rstrip("/")
    # The model id's ":" is sent encoded, as boto3 sends it (and signs it).
    url = f"{base}/model/{quote(common['model'], safe='')}/{spec.native_method}"
    accept = "application/vnd.amazon.eventstream" if spec.always_streams else "application/json"
    headers = {"Content-Type": "application/json", "Accept": accept}
    if params.get("aws_access_key_id") and params.get("aws_secret_access_key"):
        from proxy.aws_auth import AwsSigner  # botocore, only for the processes that serve Bedrock

        credentials = AwsCredentials(
            params["aws_access_key_id"], params["aws_secret_access_key"], params.get("aws_session_token") or ""
        )
        signer = AwsSigner.for_key(credentials, region)
        encoded = URL(url, encoded=True)
        return Upstream(url=url, headers=headers, wire=BEDROCK, signer=signer, encoded_url=encoded, **common)
    if (secret := params.get("api_key")) and secret != NO_SECRET:
        headers["Authorization"] = f"Bearer {secret}"  # a Bedrock API key
    return Upstream(url=url, headers=headers, wire=BEDROCK, **common)


def _azure(route: str, path: str, params: Mapping[str, Any], common: dict[str, Any]) -> Upstream | None:
    base, version = params.get("api_base"), params.get("api_version")
    if route not in AZURE_ROUTES or not base or not version:
        return None
    url = f"{base.rstrip('/')}/openai/deployments/{common['model']}{path}?api-version={version}"
    headers = {"Content-Type": "application/json", "api-key": params.get("api_key") or ""}
    return Upstream(url=url, headers=headers, **common)


def direct_targets(route: str, deployments: list[Mapping[str, Any]]) -> dict[str, Upstream] | None:
    """Every deployment's direct target for ``route``, or None unless all of them have one.

    An endpoint goes one way or the other for a route: the Router may pick any
    of its deployments, and failover must be able to move between them.
    """
    targets = {}
    for deployment in deployments:
        if ROUTER_LIMITS & deployment["litellm_params"].keys():
            return None  # the Router counts a deployment's rpm/tpm only on calls it makes itself
        upstream = upstream_for(route, deployment)
        if upstream is None:
            return None
        targets[upstream.deployment_id] = upstream
    return targets
