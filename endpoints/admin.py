"""Endpoints in the admin: operators see and fix everything, through the same rules as the API.

- Models are edited inline; the formset checks the whole set with
  ``validation.validate_models`` (catalog, providers, keys, weights), and a
  save is recorded like an API change (config version, Revision, AuditEvent)
  by ``services.record_change``.
- Start, stop and delete call ``lifecycle`` and ``services``, as the API does.
- Status, revisions, bindings and request logs are read-only here.
- No page shows a key secret: keys appear by name (``Key.__str__``) and
  revisions hold key ids only.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from catalog import services as catalog
from endpoints import lifecycle, services
from endpoints.models import Binding, Endpoint, EndpointModel, RequestLog, Revision, Status
from endpoints.validation import ENDPOINT_MODES, ModelSpec, validate_models
from gatewaylib import errors, humanize
from gatewaylib.ui import add_row_errors
from sharing.admin import SharedObjectAdmin

# ``validate_models`` names a model's key ``key_id``; the inline form calls it ``key``.
_FORM_FIELDS = {"key_id": "key"}

# Where ``save_model`` leaves the configuration as it was, for ``save_related``.
_BEFORE = "_admin_snapshot_before_save"


def _form_field(form: forms.ModelForm, name: str) -> str | None:
    """The inline form's field for a name in ``validate_models``' errors (None: the row as a whole)."""
    field = _FORM_FIELDS.get(name, name)
    return field if field in form.fields else None


class EndpointModelForm(forms.ModelForm):
    """One model row: the provider is picked from the catalog; the rest is checked with the whole set."""

    class Meta:
        model = EndpointModel
        fields = ["provider", "model_name", "key", "weight", "priority", "litellm_params"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(provider["name"], provider["display_name"]) for provider in catalog.list_providers()]
        current = self.instance.provider
        if current and not catalog.is_provider(current):
            choices.append((current, f"{current} (not in the catalog)"))
        self.fields["provider"].widget = forms.Select(choices=[("", "---------"), *choices])
        self.fields[
            "litellm_params"
        ].help_text = 'Tuning as a JSON object, e.g. {"timeout": 30}. Where the model connects is set on its key.'

    def clean_litellm_params(self) -> Any:
        value = self.cleaned_data.get("litellm_params")
        return {} if value is None else value


class EndpointModelFormSet(BaseInlineFormSet):
    """Validates the endpoint's models as one set, with the rules the API applies."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        endpoint_type = self.instance.endpoint_type
        if endpoint_type not in ENDPOINT_MODES:
            return  # the endpoint form reports the type itself
        kept = [
            form
            for form in self.forms
            if form.cleaned_data and not (self.can_delete and self._should_delete_form(form))
        ]
        # Each kept form's instance holds its cleaned values by now (ModelForm's _post_clean).
        specs = [ModelSpec.from_model(form.instance) for form in kept]
        try:
            # Operators may attach any key, as start does: no per-key permission check.
            validate_models(endpoint_type, specs, actor=None)
        except ValidationError as exc:
            self._report(kept, exc)

    @staticmethod
    def _report(forms_: list[forms.ModelForm], exc: ValidationError) -> None:
        """Put per-model problems on their rows; raise the rest as errors of the whole set."""
        detail = errors.detail(exc)
        problems = add_row_errors(forms_, detail.pop("models", []), _form_field)
        problems += errors.texts(detail)
        if problems:
            raise forms.ValidationError(problems)


class EndpointModelInline(admin.TabularInline):
    model = EndpointModel
    form = EndpointModelForm
    formset = EndpointModelFormSet
    fields = ["provider", "model_name", "key", "weight", "priority", "litellm_params"]

    def get_extra(self, request, obj=None, **kwargs: Any) -> int:
        return 1 if obj is None else 0


class ReadOnly:
    """Admin permissions for rows only the services write: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class BindingInline(ReadOnly, admin.TabularInline):
    """Bindings are recorded by the resources that use an endpoint; the admin only shows them."""

    model = Binding
    fields = ["resource_type", "resource_id", "created_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Endpoint)
class EndpointAdmin(SharedObjectAdmin):
    list_display = ["name", "endpoint_type", "status", "config_version", "created_by", "started_at"]
    list_filter = ["status", "endpoint_type"]
    search_fields = ["name", "description"]
    list_select_related = ["created_by"]
    readonly_fields = [
        "status",
        "last_error",
        "started_at",
        "stopped_at",
        "config_version",
        "history_links",
        "public_id",
        "created_by",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "endpoint_type", "description"]}),
        ("Limits", {"fields": ["rate_limit_rpm", "rate_limit_tpm"]}),
        ("State", {"fields": ["status", "last_error", "started_at", "stopped_at", "config_version", "history_links"]}),
        ("Record", {"fields": ["public_id", "created_by", "created_at", "updated_at"]}),
    ]
    inlines = [EndpointModelInline, BindingInline]
    actions = ["start_endpoints", "stop_endpoints"]

    @admin.display(description="History")
    def history_links(self, obj: Endpoint) -> str:
        if obj.pk is None:
            return "-"
        query = urlencode({"endpoint": obj.pk})
        return format_html(
            '<a href="{}?{}">Revisions</a> · <a href="{}?{}">Request logs</a>',
            reverse("admin:endpoints_revision_changelist"),
            query,
            reverse("admin:endpoints_requestlog_changelist"),
            query,
        )

    # Saving: the admin's forms write the rows; the services' bookkeeping (``record_change``) follows.

    def save_model(self, request, obj: Endpoint, form, change: bool) -> None:
        if change:
            current = Endpoint.objects.select_for_update().get(pk=obj.pk)
            setattr(obj, _BEFORE, services.snapshot(current))
        else:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        endpoint = form.instance
        before = endpoint.__dict__.pop(_BEFORE, None)
        if before is None:
            services.record_change(endpoint, actor=request.user, action="create", note="created in the admin")
        else:
            services.record_change(
                endpoint, actor=request.user, action="update", note="changed in the admin", before=before
            )

    # Deleting: the service stops a running endpoint first and records the deletion.
    # The confirmation page lists bindings, so the admin forces.

    def get_deleted_objects(self, objs, request):
        """Summarise what goes with each endpoint for the confirmation page.

        Django's default lists every cascaded row, request logs included
        (there may be millions), and refuses because revisions and request
        logs are read-only here; they belong to the endpoint and go with it.
        """
        to_delete: list[Any] = []
        counts: Counter[str] = Counter()
        perms_needed: set[str] = set()
        for endpoint in objs:
            if not self.has_delete_permission(request, endpoint):
                perms_needed.add(str(Endpoint._meta.verbose_name))
            models = [f"Endpoint model: {model}" for model in endpoint.models.all()]
            bindings = [f"Binding (the endpoint is in use): {binding}" for binding in endpoint.bindings.all()]
            revisions, logs = endpoint.revisions.count(), endpoint.request_logs.count()
            url = reverse("admin:endpoints_endpoint_change", args=[endpoint.pk])
            to_delete += [
                format_html('Endpoint: <a href="{}">{}</a>', url, endpoint),
                [
                    *models,
                    *bindings,
                    f"{revisions} revision{pluralize(revisions)}",
                    f"{logs} request log{pluralize(logs)}",
                ],
            ]
            counts.update(
                {
                    "endpoints": 1,
                    "endpoint models": len(models),
                    "bindings": len(bindings),
                    "revisions": revisions,
                    "request logs": logs,
                }
            )
        return to_delete, {name: count for name, count in counts.items() if count}, perms_needed, []

    def delete_model(self, request, obj: Endpoint) -> None:
        services.delete_endpoint(obj, actor=request.user, force=True)

    def delete_queryset(self, request, queryset) -> None:
        with transaction.atomic():
            for endpoint in queryset:
                services.delete_endpoint(endpoint, actor=request.user, force=True)

    # Lifecycle actions: the same functions as the API's start and stop.

    @admin.action(description="Start selected endpoints", permissions=["change"])
    def start_endpoints(self, request, queryset) -> None:
        self._lifecycle(request, queryset, lifecycle.start_endpoint, "start", "Started")

    @admin.action(description="Stop selected endpoints", permissions=["change"])
    def stop_endpoints(self, request, queryset) -> None:
        self._lifecycle(request, queryset, lifecycle.stop_endpoint, "stop", "Stopped")

    def _lifecycle(self, request, queryset, change: Callable[..., Endpoint], verb: str, done_label: str) -> None:
        done = []
        for endpoint in queryset:
            try:
                result = change(endpoint, actor=request.user)
            except ValidationError as exc:
                problems = "; ".join(errors.lines(exc))
                self.message_user(request, f"Could not {verb} {endpoint.name}: {problems}", messages.ERROR)
                continue
            if result.status == Status.ERROR:
                self.message_user(request, f"{result.name} failed to start: {result.last_error}", messages.WARNING)
            else:
                done.append(f"{result.name} ({result.status})")
        if done:
            self.message_user(request, f"{done_label}: {', '.join(done)}.", messages.SUCCESS)


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    """Records that only the services write: viewable, never added, changed or deleted here."""


@admin.register(Revision)
class RevisionAdmin(ReadOnlyAdmin):
    list_display = ["endpoint", "number", "note", "created_by", "created_at"]
    list_select_related = ["endpoint", "created_by"]
    search_fields = ["endpoint__name", "note"]
    ordering = ["-created_at"]
    fields = ["endpoint", "number", "note", "created_by", "created_at", "configuration"]
    readonly_fields = fields

    @admin.display(description="Configuration")
    def configuration(self, obj: Revision) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.config, indent=2, sort_keys=True))


class OutcomeFilter(admin.SimpleListFilter):
    """Success or error without a DISTINCT scan of a large table."""

    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return [("ok", "Success (< 400)"), ("error", "Error (>= 400)")]

    def queryset(self, request, queryset):
        if self.value() == "ok":
            return queryset.filter(status_code__lt=400)
        if self.value() == "error":
            return queryset.filter(status_code__gte=400)
        return queryset


def _formatted(field: str, formatter: Callable[[Any], str], description: str) -> Callable[[Any, RequestLog], str]:
    """An admin column (and detail field) showing ``field`` formatted for people, sortable by the raw value."""

    @admin.display(description=description, ordering=field)
    def show(model_admin: Any, log: RequestLog) -> str:
        return formatter(getattr(log, field))

    return show


@admin.register(RequestLog)
class RequestLogAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "endpoint",
        "model_served",
        "status_code",
        "latency",
        "attempts",
        "stream",
        "prompt",
        "completion",
        "cost",
        "error_type",
    ]
    list_filter = [OutcomeFilter, "stream"]
    list_select_related = ["endpoint"]
    search_fields = ["endpoint__name", "model_served"]
    ordering = ["-created_at"]
    show_full_result_count = False
    fields = [
        "created_at",
        "request_id",
        "endpoint",
        "model_served",
        "endpoint_model_id",
        "status_code",
        "error_type",
        "error_message",
        "attempts_that_failed",
        "latency",
        "time_to_first_token",
        "attempts",
        "stream",
        "prompt",
        "completion",
        "cost",
        "user_id",
        "token_id",
    ]
    readonly_fields = fields

    latency = _formatted("latency_ms", humanize.duration_ms, "latency")
    time_to_first_token = _formatted("ttft_ms", humanize.duration_ms, "time to first token")
    prompt = _formatted("prompt_tokens", humanize.count, "prompt tokens")
    completion = _formatted("completion_tokens", humanize.count, "completion tokens")
    cost = _formatted("cost_usd", humanize.usd, "cost")

    @admin.display(description="attempts that failed")
    def attempts_that_failed(self, log: RequestLog) -> str:
        if not log.failed_attempts:
            return "—"
        return format_html_join(
            mark_safe("<br>"),  # noqa: S308 - a constant
            "{} → {}: {}",
            ((a.get("model") or "—", a.get("status"), a.get("message", "")) for a in log.failed_attempts),
        )
