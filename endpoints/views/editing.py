"""Creating and editing endpoints, and the catalog fragments the form loads as the user picks models."""

from __future__ import annotations

import copy
import re
from datetime import date
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from catalog import services as catalog
from endpoints import bindings, services
from endpoints.forms import (
    EndpointForm,
    ModelRowFormSet,
    apply_service_errors,
    catalog_models,
    model_option_groups,
    provider_option_groups,
    row_initial,
    used_rows,
)
from endpoints.models import Endpoint
from endpoints.validation import ENDPOINT_MODES, validate_models
from endpoints.views.common import endpoint_for
from keys.models import Key
from sharing.levels import Level

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.http import HttpRequest, HttpResponse

    from endpoints.validation import ModelSpec

PREFIX = "models"
DEPRECATION_WARNING_DAYS = catalog.DEPRECATION_NOTICE_DAYS
ROW_INDEX = re.compile(r"^\d{1,4}$")


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_create(request: HttpRequest) -> HttpResponse:
    """The new-endpoint form; query parameters pre-fill it and may hand it off (``endpoints.bindings``)."""
    handoff = bindings.hand_off(request, request.POST if request.method == "POST" else request.GET)
    if request.method == "GET":
        form = EndpointForm(initial=_prefill(request.GET))
        formset = ModelRowFormSet(prefix=PREFIX, initial=[_prefill_row(request, request.GET)])
        return _render_form(request, form, formset, handoff=handoff)

    def create(specs: list[ModelSpec], fields: dict[str, Any]) -> Endpoint:
        endpoint = services.create_endpoint(actor=request.user, models=specs, **fields)
        if handoff.target:
            bindings.bind_hand_off(endpoint, handoff, actor=request.user)
        return endpoint

    form, formset = EndpointForm(request.POST), ModelRowFormSet(request.POST, prefix=PREFIX)
    endpoint, weight_errors = _submit(request, form, formset, create)
    if endpoint is None:
        return _render_form(request, form, formset, handoff=handoff, weight_errors=weight_errors, status=400)
    if handoff.binds:
        messages.success(request, f"Endpoint “{endpoint.name}” created and linked. Start it to accept requests.")
    else:
        messages.success(request, f"Endpoint “{endpoint.name}” created. Start it to accept requests.")
    return redirect(handoff.returning(endpoint) or endpoint_url(endpoint))


@login_required
@require_http_methods(["GET", "POST"])
def endpoint_edit(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    endpoint, _ = endpoint_for(request, endpoint_id, Level.EDIT)
    if request.method == "GET":
        config = services.snapshot(endpoint)
        formset = ModelRowFormSet(prefix=PREFIX, initial=[row_initial(model) for model in config["models"]])
        return _render_form(request, EndpointForm(instance=endpoint), formset, endpoint=endpoint)

    version = endpoint.config_version

    def update(specs: list[ModelSpec], fields: dict[str, Any]) -> Endpoint:
        return services.update_endpoint(endpoint, actor=request.user, models=specs, **fields)

    # The form writes into its instance while validating; keep the page's copy as stored.
    form = EndpointForm(request.POST, instance=copy.copy(endpoint))
    formset = ModelRowFormSet(request.POST, prefix=PREFIX)
    updated, weight_errors = _submit(request, form, formset, update, endpoint=endpoint)
    if updated is None:
        return _render_form(request, form, formset, endpoint=endpoint, weight_errors=weight_errors, status=400)
    if updated.config_version == version:
        messages.info(request, "Nothing changed.")
    else:
        messages.success(request, f"Saved “{updated.name}” as revision {updated.revisions.first().number}.")
    return redirect(endpoint_url(updated))


def endpoint_url(endpoint: Endpoint) -> str:
    return reverse("endpoints:endpoint-detail", args=[endpoint.public_id])


def _submit(
    request: HttpRequest,
    form: EndpointForm,
    formset: Any,
    save: Callable[[list[ModelSpec], dict[str, Any]], Endpoint],
    endpoint: Endpoint | None = None,
) -> tuple[Endpoint | None, list[str]]:
    """Parse both forms and call ``save``; on failure the service's errors are on the forms."""
    form_ok, rows_ok = form.is_valid(), formset.is_valid()
    if not rows_ok:
        return None, []
    rows = used_rows(formset)
    specs = [row.to_spec() for row in rows]
    try:
        if not form_ok:
            # Report the rows' problems in the same round trip as the form's.
            _check_rows(request, form, specs, endpoint)
            return None, []
        with transaction.atomic():
            return save(specs, form.cleaned_data), []
    except ValidationError as exc:
        return None, apply_service_errors(exc, form, rows)


def _check_rows(request: HttpRequest, form: EndpointForm, specs: list[ModelSpec], endpoint: Endpoint | None) -> None:
    endpoint_type = form.cleaned_data.get("endpoint_type")
    if endpoint_type:
        attached = frozenset(key.hex for key in endpoint.models.values_list("key_id", flat=True)) if endpoint else None
        validate_models(endpoint_type, specs, request.user, trusted_key_ids=attached or frozenset())


def _prefill(query: Any) -> dict[str, Any]:
    return {name: query[name] for name in ("name", "endpoint_type", "description") if query.get(name)}


def _prefill_row(request: HttpRequest, query: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"priority": 1, "provider": query.get("provider", "")}
    model = query.get("model", "")
    if model and catalog.get_model(row["provider"], model) is not None:
        row["model_name"] = model
    elif model:
        row.update(custom=True, custom_model_name=model)
    key_id = query.get("key", "")
    if key_id and any(key.public_id == key_id for key in _usable_keys(request, None)):
        row["key_id"] = key_id
    return row


def _render_form(
    request: HttpRequest,
    form: EndpointForm,
    formset: Any,
    *,
    endpoint: Endpoint | None = None,
    handoff: bindings.HandOff | None = None,
    weight_errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    endpoint_type = _known_type(form["endpoint_type"].value())
    keys = _usable_keys(request, endpoint)
    for row in formset.forms:
        _decorate_row(row, endpoint_type)
    _decorate_row(formset.empty_form, endpoint_type)
    context = {
        "form": form,
        "formset": formset,
        "endpoint": endpoint,
        "carried": handoff.carried() if handoff else {},
        "linked_to": handoff.describe(request.user) if handoff else None,
        "next_url": handoff.return_to if handoff else None,
        "weight_errors": weight_errors or [],
        "provider_groups": provider_option_groups(endpoint_type, {key.provider for key in keys}),
        "keys": keys,
    }
    return render(request, "endpoints/form.html", context, status=status)


def _known_type(value: str | None) -> str:
    """The endpoint type the form's catalog lists are for; "chat" until a valid one is chosen."""
    return value if value in catalog.ENDPOINT_TYPE_MODES else "chat"


def _decorate_row(row: Any, endpoint_type: str) -> None:
    """Give a row form the catalog models and model details its selects need."""
    provider, model_name = row["provider"].value() or "", row["model_name"].value() or ""
    row.model_options = catalog_models(provider, endpoint_type)
    row.model_groups = model_option_groups(row.model_options)
    row.model_info = model_info(provider, model_name) if model_name else None


def _usable_keys(request: HttpRequest, endpoint: Endpoint | None) -> list[Key]:
    """Keys the user may USE, plus those already attached (kept when someone else attached them)."""
    keys = {key.pk: key for key in Key.objects.visible_to(request.user, Level.USE)}
    if endpoint is not None:
        keys.update({key.pk: key for key in Key.objects.filter(endpoint_models__endpoint=endpoint)})
    return sorted(keys.values(), key=lambda key: (key.provider, key.name.lower()))


def model_info(provider: str, model_name: str) -> dict[str, Any] | None:
    """A catalog model with prices per million tokens and its deprecation state, for the info panel."""
    model = catalog.get_model(provider, model_name) if provider and model_name else None
    if model is None:
        return None
    per_million = {
        name: format(model[f"{name}_cost_per_token"] * 1_000_000, ".4g")
        for name in ("input", "output")
        if model.get(f"{name}_cost_per_token")
    }
    return {**model, "price_per_million": per_million, **_deprecation(model.get("deprecation_date"))}


def _deprecation(value: str | None) -> dict[str, Any]:
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        day = None
    if day is None:
        return {}
    days_left = (day - timezone.localdate()).days
    if days_left > DEPRECATION_WARNING_DAYS:
        return {}
    return {"deprecated_on": day, "deprecation_days": days_left, "deprecated": days_left < 0}


@login_required
@require_GET
def catalog_provider_options(request: HttpRequest) -> HttpResponse:
    """The provider select's ``<option>``s for an endpoint type; the form swaps them in when the type changes."""
    endpoint_type = _known_type(request.GET.get("endpoint_type"))
    with_keys = {key.provider for key in _usable_keys(request, None)}
    context = {"groups": provider_option_groups(endpoint_type, with_keys), "selected": ""}
    return render(request, "endpoints/partials/provider_options.html", context)


@login_required
@require_GET
def catalog_model_options(request: HttpRequest) -> HttpResponse:
    """``<option>``s of the provider's models that can serve the endpoint type and match the search ``q``.

    Also the row's info panel and search status (out of band). A chosen model
    the search leaves out stays chosen, listed first, so typing a search never
    loses a choice; picking another option replaces it.
    """
    provider, endpoint_type = request.GET.get("provider", ""), request.GET.get("endpoint_type", "")
    search = request.GET.get("q", "").strip()[: catalog.MAX_SEARCH_LENGTH]
    models = catalog_models(provider, endpoint_type, search)
    chosen = catalog.get_model(provider, request.GET.get("selected", ""))
    if chosen is not None and chosen["mode"] not in ENDPOINT_MODES.get(endpoint_type, ()):
        chosen = None
    selected = chosen["model_name"] if chosen else ""
    pinned = None
    if chosen is not None and all(model["model_name"] != selected for model in models):
        pinned = {"name": selected, "note": catalog.deprecation_note(chosen)}
    context = {
        "options": models,
        "groups": model_option_groups(models),
        "pinned": pinned,
        "selected": selected,
        "search": search,
        "provider": provider,
        "endpoint_type": endpoint_type,
        "row": _row_index(request),
        "info": model_info(provider, selected),
    }
    return render(request, "endpoints/partials/model_options.html", context)


@login_required
@require_GET
def catalog_model_info(request: HttpRequest) -> HttpResponse:
    context = {
        "row": _row_index(request),
        "info": model_info(request.GET.get("provider", ""), request.GET.get("model_name", "")),
    }
    return render(request, "endpoints/partials/model_info.html", context)


def _row_index(request: HttpRequest) -> str | None:
    row = request.GET.get("row", "")
    return row if ROW_INDEX.match(row) else None
