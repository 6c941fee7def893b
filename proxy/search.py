"""Search endpoints: a web search provider (Tavily, Exa, Perplexity, SearXNG, ...) answers ``POST /v1/search``.

LiteLLM's search API (``litellm.asearch``) speaks each provider's own
request and answers in one shape (Perplexity's: ``{"object": "search",
"results": [{"title", "url", "snippet", ...}]}``). The Router chooses which
model serves, as on every other route (weights, priority order, cooldowns;
``endpoints.routing.router_deployments`` says why it holds stand-ins for
search models), and every failure is reported back to it, so a failing
provider cools down and the next priority takes over. The call goes out
through the same guarded egress as LiteLLM's other calls, with the key's
secret and destination; a search is billed per query (the catalog's
``input_cost_per_query``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from gatewaylib import egress
from keys.models import NO_SECRET
from proxy.direct import FAIL_OVER, AttemptFailed, with_failover
from proxy.errors import ProxyError, from_provider
from proxy.http import Response
from proxy.routes import to_json

if TYPE_CHECKING:
    from proxy.pipeline import Call
    from proxy.state import EndpointInfo, RouterEntry

logger = logging.getLogger(__name__)

# The request fields LiteLLM's search API takes (proxy.allowlist checks them), besides ``query``.
OPTIONS = ("max_results", "search_domain_filter", "max_tokens_per_page", "country")


async def dispatch(call: Call, endpoint: EndpointInfo, entry: RouterEntry, body: dict[str, Any]) -> Response:
    options = {name: body[name] for name in OPTIONS if body.get(name) is not None}

    async def attempt(deployment_id: str) -> Response:
        response = await _search(entry.deployment(deployment_id), body["query"], options, entry)
        call.serve(deployment_id)
        call.finish(200)
        limit = options.get("max_results")
        if limit is not None and len(response.results) > limit:
            # Some providers page instead of limiting (SearXNG answers a page of twenty): the limit holds anyway.
            response.results = response.results[:limit]
        return Response(status=200, body=to_json(response).encode())

    return await with_failover(call, endpoint, entry, attempt)


async def _search(deployment: dict[str, Any], query: Any, options: dict[str, Any], entry: RouterEntry) -> Any:
    import litellm

    params = deployment["litellm_params"]
    refused: list[str] = []
    egress.refusals.set(refused)
    try:
        return await litellm.asearch(
            query=query,
            search_provider=deployment["model_info"]["provider"],
            api_key=None if params.get("api_key") in (None, NO_SECRET) else params["api_key"],
            api_base=params.get("api_base"),
            timeout=params.get("timeout"),
            **options,
        )
    except Exception as exc:  # LiteLLM raises many types; each is mapped, scrubbed, and failed over or not
        if refused:  # the HTTP client reports a refused destination as a bare connection error
            raise AttemptFailed(ProxyError(502, refused[-1], code="destination_refused"), 502) from None
        error = from_provider(exc, entry.scrubber)
        status = getattr(exc, "status_code", None) or error.status
        if isinstance(status, int) and status < 500 and status not in FAIL_OVER:
            raise error from None
        raise AttemptFailed(error, status, error.headers.get("Retry-After")) from None
