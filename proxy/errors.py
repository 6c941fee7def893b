"""Errors in the shapes clients expect: OpenAI's ``{"error": {...}}``, Anthropic's, Google's or AWS's.

Provider failures are mapped from LiteLLM's exceptions to the right status
(429 with Retry-After, 502/503/504), and their messages are scrubbed of any
provider secret before they leave the gateway.
"""

from __future__ import annotations

import logging

import orjson

from gatewaylib import eventstream
from gatewaylib.endpoint_types import BEDROCK, GOOGLE_WIRES
from gatewaylib.scrub import Scrubber
from proxy.http import Response, json_response

logger = logging.getLogger(__name__)

OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}
ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}
# google.rpc.Code names by HTTP status, as Google's APIs answer them.
GOOGLE_STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    409: "FAILED_PRECONDITION",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

# AWS's error codes by HTTP status, as Bedrock Runtime answers them (boto3 reads the code
# from the x-amzn-ErrorType header; inside a stream it is the exception's lowerCamel name).
BEDROCK_ERRORS = {
    400: "ValidationException",
    401: "UnrecognizedClientException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    405: "ValidationException",
    408: "ModelTimeoutException",
    409: "ConflictException",
    413: "ValidationException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    503: "ServiceUnavailableException",
    504: "ModelTimeoutException",
}


class ProxyError(Exception):
    """An error the proxy answers with; ``message`` must already be safe to show."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param
        self.headers = headers or {}
        self.error_type = error_type

    def body(self, flavour: str = "openai") -> dict:
        if flavour == BEDROCK:  # AWS's shape; the gateway's own code beside the message
            body = {"message": self.message, "reason": self.code or "error"}
            return {**body, "param": self.param} if self.param else body
        if flavour in GOOGLE_WIRES:
            # The gateway's own code goes where Google puts a machine-readable reason.
            info = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": self.code or "error"}
            info["domain"] = "ai-gateway"
            if self.param:
                info["metadata"] = {"param": self.param}
            status = GOOGLE_STATUSES.get(self.status, "INTERNAL")
            return {"error": {"code": self.status, "message": self.message, "status": status, "details": [info]}}
        if flavour == "anthropic":
            kind = self.error_type or ANTHROPIC_TYPES.get(self.status, "api_error")
            return {"type": "error", "error": {"type": kind, "message": self.message}}
        kind = self.error_type or OPENAI_TYPES.get(
            self.status, "server_error" if self.status >= 500 else "invalid_request_error"
        )
        return {"error": {"message": self.message, "type": kind, "param": self.param, "code": self.code}}

    @property
    def aws_code(self) -> str:
        return BEDROCK_ERRORS.get(self.status, "InternalServerException")

    def response(self, flavour: str = "openai") -> Response:
        headers = dict(self.headers)
        if flavour == BEDROCK:
            headers["x-amzn-ErrorType"] = self.aws_code
        return json_response(self.body(flavour), status=self.status, headers=headers)

    def event(self, flavour: str = "openai") -> bytes:
        """The error as one SSE event (an event-stream exception on Bedrock), for a stream that has started."""
        if flavour == BEDROCK:
            code = self.aws_code
            return eventstream.exception(code[0].lower() + code[1:], orjson.dumps(self.body(flavour)))
        prefix = b"event: error\n" if flavour == "anthropic" else b""
        return prefix + b"data: " + orjson.dumps(self.body(flavour)) + b"\n\n"


def database_unavailable() -> ProxyError:
    """A request needed the database (a cache miss) while it is away: retryable, not a gateway bug."""
    return ProxyError(
        503,
        "The gateway cannot reach its database; retry shortly.",
        code="database_unavailable",
        headers={"Retry-After": "5"},
        error_type="service_unavailable",
    )


def timed_out() -> ProxyError:
    return ProxyError(504, "The provider did not answer in time.", code="provider_timeout", error_type="timeout")


def no_healthy_model() -> ProxyError:
    return ProxyError(
        503,
        "Every model of this endpoint is cooling down after failures; retry shortly.",
        code="no_healthy_model",
        headers={"Retry-After": "5"},
        error_type="service_unavailable",
    )


def unreachable() -> ProxyError:
    return ProxyError(502, "The gateway could not reach the provider.", code="provider_unreachable")


def from_status(status: int | None, detail: str, retry_after: str | None = None) -> ProxyError:
    """What the client sees for a provider's HTTP status (``detail`` already scrubbed)."""
    if status == 408:
        return timed_out()
    if status == 429:
        return ProxyError(
            429,
            "The provider is rate limiting this endpoint; retry later.",
            code="provider_rate_limited",
            headers={"Retry-After": retry_after or "1"},
        )
    if status in {400, 413, 422}:
        return ProxyError(400, f"The provider rejected the request: {detail}", code="provider_bad_request")
    if status in {401, 403}:
        # The client's token was fine; the gateway's provider credential was not.
        return ProxyError(
            502, "The provider rejected the gateway's credentials for this model.", code="provider_auth_error"
        )
    if status == 503:
        return ProxyError(
            503, "The provider is unavailable.", code="provider_unavailable", headers={"Retry-After": "5"}
        )
    logger.warning("provider error (status %s): %s", status, detail)
    return ProxyError(
        502, f"The provider failed: {detail}" if detail else "The provider failed.", code="provider_error"
    )


# LiteLLM's exception names for the statuses ``from_status`` maps, for the
# errors it raises without one (or with a misleading one).
_STATUS_OF = {
    "Timeout": 408,
    "APITimeoutError": 408,
    "RateLimitError": 429,
    "BadRequestError": 400,
    "ContextWindowExceededError": 400,
    "UnprocessableEntityError": 400,
    "AuthenticationError": 401,
    "PermissionDeniedError": 403,
    "ServiceUnavailableError": 503,
}


def from_provider(exc: Exception, scrubber: Scrubber) -> ProxyError:
    """Map a LiteLLM/provider exception to the status and message the client sees.

    Every provider message goes through the endpoint's scrubber first: a
    provider may echo the request (and its Authorization header) back.
    """
    status = getattr(exc, "status_code", None)
    name = exc.__class__.__name__
    detail = scrubber.text(str(getattr(exc, "message", None) or exc))[:500]
    if name == "RouterRateLimitError" or "No deployments available" in detail:
        return no_healthy_model()
    if name in _STATUS_OF and (status is None or name in {"Timeout", "APITimeoutError"}):
        status = _STATUS_OF[name]
    if status in {408, 429, 400, 413, 422, 401, 403, 503}:
        return from_status(status, detail, _retry_after(exc))
    if _request_rejected_before_sending(exc):
        # LiteLLM checks a request against the provider's format before it
        # sends anything and raises a bare ValueError (for example "Hosted
        # VLLM does not support max_chunks_per_doc"); it then reports a
        # connection error. The request, not the provider, is at fault.
        return ProxyError(400, f"The provider cannot take this request: {detail}", code="unsupported_by_provider")
    if name in {"APIConnectionError", "ConnectError"} and status in (None, 500):
        return unreachable()
    return from_status(status, detail)


def _request_rejected_before_sending(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current) in (ValueError, TypeError):
            return True
        current = current.__cause__ or current.__context__
    return False


def _retry_after(exc: Exception) -> str | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is not None:
        value = headers.get("retry-after")
        if value:
            return str(value)
    return None
