"""Business rules for scorers: create, change, delete, link an endpoint, run.

The UI, the API and the admin call these. A scorer's endpoint is its judge:
linking one needs USE on it, and records the binding ``scorer:<id>`` on it
(the endpoint page's "Used by"); running a scorer calls that endpoint through
the proxy as the person who runs it, so the proxy's rules (USE on the
endpoint, a running endpoint, limits, the request log) apply unchanged.
"""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import orjson
from asgiref.sync import async_to_sync
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import slugify

from audit import services as audit
from catalog import services as catalog
from endpoints import bindings
from endpoints import services as endpoint_services
from endpoints.models import Endpoint, EndpointType
from keys.models import Key
from scorers import judge
from scorers.models import GATEWAY_URI_PREFIX, AnswerKind, Scorer
from sharing import services as sharing
from sharing.levels import Level
from tokens import services as tokens

if TYPE_CHECKING:
    from collections.abc import Iterator

    from proxy.http import Response

RESOURCE_TYPE = "scorer"
NAME_TAKEN = "scorer with this name already exists."  # as DRF and the model say it
EDITABLE_FIELDS = ("name", "instructions", "answer_kind", "endpoint")
# A run calls the proxy with a token of the runner's own, made for the one
# call and deleted after it; it expires soon in case the process dies between.
RUN_TOKEN_NAME = "Scorer run (server)"
RUN_TOKEN_LIFETIME = timedelta(minutes=5)
RUN_PATH = "/v1/chat/completions"
RUN_USER_AGENT = "ai-gateway-scorer"
# Models that judge well at a small price, per provider in the order the
# hand-off prefers them: the first in the catalog that is not retiring within
# the catalog's notice period (else the first in the catalog), for the first
# provider the user holds a usable key for. (tests/scorers/test_pages.py
# checks that each provider has one.)
JUDGE_MODELS = {
    "openai": ("gpt-5.4-mini", "gpt-4.1-mini", "gpt-4o-mini"),
    "anthropic": ("claude-haiku-4-5", "claude-haiku-latest"),
    "gemini": ("gemini-3.1-flash-lite", "gemini-2.5-flash-lite"),
    "vertex_ai": ("gemini-3.1-flash-lite", "gemini-2.5-flash-lite"),
    "bedrock": ("anthropic.claude-3-5-haiku-20241022-v1:0",),
    "mistral": ("mistral-small-latest",),
}


def _user(actor: Any) -> Any:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def snapshot(scorer: Scorer) -> dict[str, Any]:
    return {
        "name": scorer.name,
        "instructions": scorer.instructions,
        "answer_kind": scorer.answer_kind,
        "endpoint": scorer.model_uri,
    }


def endpoint_from_uri(value: str) -> str:
    """The endpoint name in ``gateway:/<name>``."""
    value = value.strip()
    if not value.startswith(GATEWAY_URI_PREFIX) or not value[len(GATEWAY_URI_PREFIX) :]:
        raise ValidationError({"endpoint": [f"Write the endpoint as {GATEWAY_URI_PREFIX}<endpoint-name>."]})
    return value[len(GATEWAY_URI_PREFIX) :]


def visible_endpoint(actor: Any, name: str) -> Endpoint:
    """The endpoint called ``name`` that ``actor`` may READ; one they cannot see is as one that does not exist."""
    endpoint = Endpoint.objects.visible_to(actor, Level.READ).filter(name=name).first()
    if endpoint is None:
        raise ValidationError({"endpoint": [f"No endpoint named {name!r} that you can see."]})
    return endpoint


def usable_endpoint(actor: Any, name: str) -> Endpoint:
    """The chat endpoint called ``name`` that ``actor`` may USE (what linking and running need)."""
    endpoint = visible_endpoint(actor, name)
    if (sharing.get_level(actor, endpoint) or 0) < Level.USE:
        raise ValidationError({"endpoint": [f"You need USE permission on endpoint {name!r} to judge with it."]})
    if endpoint.endpoint_type != EndpointType.CHAT:
        kind = endpoint.endpoint_type
        raise ValidationError({"endpoint": [f"Endpoint {name!r} is of type {kind}; a judge needs a chat endpoint."]})
    return endpoint


def _validated(scorer: Scorer, current_endpoint_id: Any, actor: Any) -> None:
    check_fields(scorer.instructions, current_endpoint_id, actor, scorer.endpoint)
    scorer.full_clean(exclude=["endpoint", "created_by"])


def _save(scorer: Scorer) -> None:
    """Save; a name taken since it was checked (a concurrent save) is the same field error as before."""
    try:
        with transaction.atomic():
            scorer.save()
    except IntegrityError:
        raise ValidationError({"name": [NAME_TAKEN]}) from None


def _sync_binding(scorer: Scorer, actor: Any) -> None:
    """One binding ``scorer:<id>``, on the scorer's endpoint only."""
    from endpoints.models import Binding

    stale = Binding.objects.filter(resource_type=RESOURCE_TYPE, resource_id=scorer.public_id)
    if scorer.endpoint_id:
        stale = stale.exclude(endpoint_id=scorer.endpoint_id)
        endpoint_services.add_binding(
            scorer.endpoint, actor=actor, resource_type=RESOURCE_TYPE, resource_id=scorer.public_id
        )
    stale.delete()


@transaction.atomic
def create_scorer(
    *, actor: Any, name: str, instructions: str, answer_kind: str = AnswerKind.YES_NO, endpoint: Endpoint | None = None
) -> Scorer:
    """Create a scorer; its creator manages it. ``endpoint`` must be one ``actor`` may USE."""
    scorer = Scorer(name=name, instructions=instructions, answer_kind=answer_kind, endpoint=endpoint)
    scorer.created_by = _user(actor)
    _validated(scorer, None, actor)
    _save(scorer)
    if scorer.created_by is not None:
        sharing.grant_creator(scorer, scorer.created_by)
    _sync_binding(scorer, actor)
    audit.record(actor, "create", scorer, {"after": snapshot(scorer)})
    return scorer


@transaction.atomic
def update_scorer(scorer: Scorer, *, actor: Any, **fields: Any) -> Scorer:
    """Change the fields given (EDIT, checked by the caller); a new endpoint must be one ``actor`` may USE."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    before, current_endpoint_id = snapshot(scorer), scorer.endpoint_id
    for name, value in fields.items():
        setattr(scorer, name, value)
    _validated(scorer, current_endpoint_id, actor)
    _save(scorer)
    _sync_binding(scorer, actor)
    if changes := audit.diff(before, snapshot(scorer)):
        audit.record(actor, "update", scorer, changes)
    return scorer


@transaction.atomic
def delete_scorer(scorer: Scorer, *, actor: Any) -> None:
    audit.record(actor, "delete", scorer, {"before": snapshot(scorer)})
    from endpoints.models import Binding

    Binding.objects.filter(resource_type=RESOURCE_TYPE, resource_id=scorer.public_id).delete()
    scorer.delete()


def _check_endpoint_change(current_id: Any, actor: Any, endpoint: Endpoint | None) -> None:
    """Linking a new endpoint needs USE on it; keeping the current one does not (another user linked it)."""
    if endpoint is None or endpoint.pk == current_id:
        return
    usable_endpoint(actor, endpoint.name)


def check_fields(instructions: str, current_endpoint_id: Any, actor: Any, endpoint: Endpoint | None) -> None:
    """The rules beyond the model's own fields (a form may ask before saving, as the admin's does)."""
    try:
        judge.variables_in(instructions)
    except judge.TemplateError as exc:
        raise ValidationError({"instructions": [str(exc)]}) from None
    _check_endpoint_change(current_endpoint_id, actor, endpoint)


# -- the hand-off: "Create endpoint" on a scorer ---------------------------------


def endpoint_form_url(scorer: Scorer, actor: Any) -> str:
    """``/endpoints/new`` pre-filled for this scorer's judge, handing back to the scorer's edit page."""
    query = {
        "for": f"{RESOURCE_TYPE}:{scorer.public_id}",
        "return_to": reverse("scorers:scorer-edit", args=[scorer.public_id]),
        "endpoint_type": EndpointType.CHAT,
        "name": _free_endpoint_name(f"{slugify(scorer.name)[:50] or 'scorer'}-judge"),
        "description": f"The judge of scorer “{scorer.name}”.",
        **judge_model(actor),
    }
    return f"{reverse('endpoints:endpoint-create')}?{urlencode(query)}"


def judge_model(actor: Any) -> dict[str, str]:
    """A model that suits judging, on a key ``actor`` may use: ``provider``, ``model`` and ``key``."""
    keys = list(Key.objects.visible_to(actor, Level.USE).order_by("created_at"))
    for provider in JUDGE_MODELS:
        key = next((key for key in keys if key.provider == provider), None)
        if key is not None and (model := suggested_judge(provider)) is not None:
            return {"provider": provider, "model": model, "key": key.public_id}
    return {"provider": keys[0].provider, "key": keys[0].public_id} if keys else {}


def suggested_judge(provider: str) -> str | None:
    """The provider's preferred judge model in the catalog, one not retiring soon when there is one."""
    listed = [name for name in JUDGE_MODELS.get(provider, ()) if catalog.get_model(provider, name) is not None]
    soon = (timezone.localdate() + timedelta(days=catalog.DEPRECATION_NOTICE_DAYS)).isoformat()
    lasting = [name for name in listed if (catalog.get_model(provider, name).get("deprecation_date") or "9999") > soon]
    return (lasting or listed or [None])[0]


def _free_endpoint_name(base: str) -> str:
    taken = set(Endpoint.objects.filter(name__startswith=base).values_list("name", flat=True))
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)


def _ids(resource_ids: list[str]) -> list[uuid.UUID]:
    """The resource ids that are scorer ids (a binding's id is any text another tool chose)."""
    parsed = []
    for value in resource_ids:
        try:
            parsed.append(uuid.UUID(value))
        except ValueError:
            continue
    return parsed


def _describe(ids: list[str], viewer: Any) -> dict[str, tuple[str, str]]:
    visible = Scorer.objects.visible_to(viewer, Level.READ).filter(pk__in=_ids(ids))
    return {scorer.public_id: (scorer.name, scorer.get_absolute_url()) for scorer in visible}


def _may_edit(actor: Any, scorer: Scorer) -> bool:
    return (sharing.get_level(actor, scorer) or 0) >= Level.EDIT


def _on_bound(endpoint: Endpoint, resource_id: str, actor: Any) -> None:
    """An endpoint made through the hand-off becomes the scorer's judge, when its maker may edit the scorer."""
    scorer = Scorer.objects.filter(pk__in=_ids([resource_id])).first()
    if scorer is not None and _may_edit(actor, scorer):
        update_scorer(scorer, actor=actor, endpoint=endpoint)


def _on_unbound(endpoint: Endpoint, resource_id: str, actor: Any) -> None:
    """A scorer whose judge this is loses it with its binding: only someone who may edit the scorer unlinks it."""
    scorer = Scorer.objects.filter(pk__in=_ids([resource_id]), endpoint=endpoint).first()
    if scorer is None:
        return
    if not _may_edit(actor, scorer):
        raise ValidationError(
            {"resource_id": ["A scorer judges with this endpoint; someone who may edit the scorer must unlink it."]}
        )
    update_scorer(scorer, actor=actor, endpoint=None)


BINDING_TYPE = bindings.ResourceType(label="Scorer", describe=_describe, on_bound=_on_bound, on_unbound=_on_unbound)


# -- running ---------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One judgement: the verdict, which model gave it, how long the call took, and the request's id."""

    score: str | int
    reason: str
    model: str
    latency_ms: float
    request_id: str
    endpoint: str

    @property
    def tone(self) -> str:
        """The alert style a page shows the verdict in: a pass, a fail, or in between (a 3 of 5)."""
        if self.score in ("yes", 4, 5):
            return "success"
        return "danger" if self.score in ("no", 1, 2) else "warning"


class RunFailed(Exception):
    """The proxy refused or failed the call, or the judge's reply held no score; ``status`` for the API."""

    def __init__(self, message: str, *, status: int, answer: str = "", request_id: str = "") -> None:
        super().__init__(message)
        self.status, self.answer, self.request_id = status, answer, request_id


def run_scorer(scorer: Scorer, *, actor: Any, sample: dict[str, Any]) -> Run:
    """Ask the scorer's endpoint to judge ``sample`` (``inputs``/``outputs``/``expectations``), as ``actor``.

    Raises ValidationError for a sample that lacks what the instructions use
    or a scorer without an endpoint, RunFailed when the call or the answer
    fails. The call goes through the proxy's own pipeline with a token of
    ``actor``'s, so it is authenticated, permission-checked, limited, routed,
    failed over and logged exactly as an application's call would be.
    """
    if scorer.endpoint_id is None:
        raise ValidationError({"endpoint": ["This scorer has no endpoint yet; link one first."]})
    try:
        messages = judge.messages(scorer.instructions, scorer.answer_kind, sample)
    except judge.SampleError as exc:
        raise ValidationError({exc.field: [str(exc)]}) from None
    except judge.TemplateError as exc:
        raise ValidationError({"instructions": [str(exc)]}) from None
    name = scorer.endpoint.name
    body = orjson.dumps({"model": name, "messages": messages})
    with _run_token(actor) as token:
        started = time.perf_counter()
        response, payload = async_to_sync(_call_proxy)(token, body)
        latency_ms = (time.perf_counter() - started) * 1000
    request_id = response.headers.get("x-request-id", "")
    if response.status >= 400:
        raise RunFailed(_error_message(payload, response.status), status=response.status, request_id=request_id)
    text = _reply_text(payload)
    try:
        verdict = judge.read_answer(text, scorer.answer_kind)
    except judge.AnswerError as exc:
        raise RunFailed(str(exc), status=502, answer=exc.answer, request_id=request_id) from None
    model = response.headers.get("x-gateway-model") or str(payload.get("model", ""))
    return Run(verdict.score, verdict.reason, model, round(latency_ms, 1), request_id, name)


@contextmanager
def _run_token(actor: Any) -> Iterator[str]:
    if _user(actor) is None:
        raise PermissionDenied("Sign in to run a scorer.")
    token, plaintext = tokens.create_token(actor, RUN_TOKEN_NAME, expires_at=timezone.now() + RUN_TOKEN_LIFETIME)
    try:
        yield plaintext
    finally:
        token.delete()


async def _call_proxy(token: str, body: bytes) -> tuple[Response, dict[str, Any]]:
    from proxy import pipeline
    from proxy.http import Request

    headers = {"authorization": f"Bearer {token}", "content-type": "application/json", "user-agent": RUN_USER_AGENT}
    response = await pipeline.handle(Request(method="POST", path=RUN_PATH, headers=headers, body=body), "chat")
    try:
        payload = orjson.loads(response.body) if response.body else {}
    except orjson.JSONDecodeError:
        payload = {}
    finally:
        response.close()
    return response, payload if isinstance(payload, dict) else {}


def _error_message(payload: dict[str, Any], status: int) -> str:
    error = payload.get("error")
    message = error.get("message") if isinstance(error, dict) else None
    return str(message or f"The endpoint answered {status}.")


def _reply_text(payload: dict[str, Any]) -> str:
    try:
        content = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        content = None
    return content if isinstance(content, str) else ""
