"""Forms of the endpoint pages.

They only parse the browser's input into the values ``endpoints.services``
takes; every rule (catalog membership, key permission, weights summing to 1)
is checked by the services, whose errors ``apply_service_errors`` puts back
next to the field or model row that caused them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils import timezone

from catalog import services as catalog
from endpoints.models import Endpoint, EndpointType, Status
from endpoints.validation import ENDPOINT_MODES, ModelSpec
from gatewaylib.ui import add_row_errors, add_service_errors

if TYPE_CHECKING:
    from django.core.exceptions import ValidationError


class EndpointFilterForm(forms.Form):
    """The list page's search box and filters (a GET form)."""

    q = forms.CharField(required=False, label="Search", max_length=200)
    endpoint_type = forms.ChoiceField(required=False, label="Type", choices=[("", "All types"), *EndpointType.choices])
    status = forms.ChoiceField(required=False, label="Status", choices=[("", "Any status"), *Status.choices])

    def filter(self, queryset):
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data["q"]:
            queryset = queryset.filter(name__icontains=data["q"]) | queryset.filter(description__icontains=data["q"])
        if data["endpoint_type"]:
            queryset = queryset.filter(endpoint_type=data["endpoint_type"])
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        return queryset


class EndpointForm(forms.ModelForm):
    """The endpoint's own fields; labels, help and formats come from the model."""

    class Meta:
        model = Endpoint
        fields = ["name", "endpoint_type", "description", "rate_limit_rpm", "rate_limit_tpm"]
        labels = {"endpoint_type": "Type", "rate_limit_rpm": "Requests / minute", "rate_limit_tpm": "Tokens / minute"}
        help_texts = {
            "name": "Lowercase letters, digits and dashes. Applications pass it as the model name.",
            "rate_limit_rpm": "Leave empty for no limit.",
            "rate_limit_tpm": "Leave empty for no limit.",
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "rate_limit_rpm": forms.NumberInput(attrs={"placeholder": "No limit"}),
            "rate_limit_tpm": forms.NumberInput(attrs={"placeholder": "No limit"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs.update(autocomplete="off", spellcheck="false", placeholder="chat-prod")
        self.fields["endpoint_type"].choices = [
            (value, label.replace("_", " ").capitalize()) for value, label in EndpointType.choices
        ]

    def validate_unique(self) -> None:
        # The service reports a taken name (inside its transaction); checking
        # here too would only add a race-prone second copy of the rule.
        pass


class ModelRowForm(forms.Form):
    """One model row of the endpoint form."""

    id = forms.CharField(required=False, widget=forms.HiddenInput)
    provider = forms.CharField(required=False)
    model_name = forms.CharField(required=False, label="Model")
    custom = forms.BooleanField(required=False, label="Custom model")
    custom_model_name = forms.CharField(required=False, label="Model name", max_length=255)
    key_id = forms.CharField(required=False, label="Key")
    weight = forms.FloatField(required=False, widget=forms.NumberInput(attrs={"step": "0.05", "min": "0"}))
    priority = forms.IntegerField(required=False, initial=1, widget=forms.NumberInput(attrs={"min": "1"}))
    extra_params = forms.CharField(
        required=False,
        label="Extra LiteLLM parameters (JSON)",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": '{"timeout": 30}', "spellcheck": "false"}),
    )

    def clean_extra_params(self) -> dict[str, Any]:
        raw = self.cleaned_data["extra_params"].strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}).") from None
        if not isinstance(value, dict):
            raise forms.ValidationError('Enter a JSON object, like {"timeout": 30}.')
        return value

    def is_blank(self) -> bool:
        """An added row the user never touched."""
        return self.empty_permitted and not self.has_changed()

    def to_spec(self) -> ModelSpec:
        data = self.cleaned_data
        params = dict(data["extra_params"])
        return ModelSpec(
            provider=data["provider"],
            model_name=(data["custom_model_name"] if data["custom"] else data["model_name"]).strip(),
            key_id=data["key_id"],
            weight=data["weight"],
            priority=data["priority"] or 1,
            litellm_params=params,
            id=data["id"] or None,
        )


ModelRowFormSet = forms.formset_factory(ModelRowForm, extra=0, can_delete=True)


def row_initial(model: dict[str, Any]) -> dict[str, Any]:
    """A model row's initial values from a ``services.model_snapshot`` dict."""
    params = dict(model.get("litellm_params") or {})
    custom = catalog.get_model(model["provider"], model["model_name"]) is None
    return {
        "id": model.get("id", ""),
        "provider": model["provider"],
        "model_name": "" if custom else model["model_name"],
        "custom": custom,
        "custom_model_name": model["model_name"] if custom else "",
        "key_id": model["key_id"],
        "weight": model["weight"],
        "priority": model["priority"],
        "extra_params": json.dumps(params) if params else "",
    }


def catalog_models(provider: str, endpoint_type: str, search: str = "") -> list[dict[str, Any]]:
    """The catalog models of ``provider`` that can serve ``endpoint_type`` and match ``search``, in picker order.

    Empty when the provider or the type is unknown. The order is the
    catalog's (``catalog.model_sort_key``), an exact name match first.
    """
    if not provider or endpoint_type not in ENDPOINT_MODES:
        return []
    try:
        return catalog.list_models(provider, endpoint_type=endpoint_type, search=search, order="recommended")
    except catalog.UnknownProvider:
        return []


def model_option_groups(models: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, str]]]]:
    """The model select's ``<optgroup>``s, ``[(label, [{"name", "note"}, ...]), ...]``, in ``MODEL_GROUPS`` order.

    ``note`` is the deprecation shown after the name ("deprecated 2025-06-01").
    Empty groups are left out; ``models`` keep their order inside a group.
    """
    today = timezone.localdate()
    groups: dict[str, list[dict[str, str]]] = {key: [] for key in catalog.MODEL_GROUPS}
    for model in models:
        option = {"name": model["model_name"], "note": catalog.deprecation_note(model, today)}
        groups[catalog.model_group(model, today)].append(option)
    return [(catalog.MODEL_GROUPS[key], options) for key, options in groups.items() if options]


def provider_option_groups(endpoint_type: str, with_keys: set[str]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The provider select's ``<optgroup>``s for ``endpoint_type``: ``[(label, providers), ...]``.

    Only providers that serve the type (``catalog.providers_for_type``, the
    rule validation enforces), each listed once: first those the user holds a
    usable key for (by display name), then the catalog's short popular group
    (``catalog.POPULAR_PROVIDERS`` order), then every other one A–Z.
    """
    providers = catalog.providers_for_type(endpoint_type)
    yours = sorted((p for p in providers if p["name"] in with_keys), key=lambda p: p["display_name"].lower())
    popular, others = catalog.popular_first(p for p in providers if p["name"] not in with_keys)
    last = "Other providers (A–Z)" if yours or popular else "All providers (A–Z)"
    groups = [("With your keys", yours), ("Popular", popular), (last, others)]
    return [(label, group) for label, group in groups if group]


def used_rows(formset: forms.BaseFormSet) -> list[ModelRowForm]:
    """The rows that make up the endpoint: not removed, not left blank."""
    deleted = set(formset.deleted_forms)
    return [form for form in formset.forms if form not in deleted and not form.is_blank()]


# Where each key of a service error lands on a model row.
ROW_FIELDS = {"provider": "provider", "key_id": "key_id", "weight": "weight", "priority": "priority"}


def _row_field(form: ModelRowForm, name: str) -> str:
    if name == "model_name":
        return "custom_model_name" if form.cleaned_data.get("custom") else "model_name"
    if name == "litellm_params":
        return "extra_params"
    return ROW_FIELDS.get(name, "extra_params")


def apply_service_errors(exc: ValidationError, form: forms.Form, rows: list[ModelRowForm]) -> list[str]:
    """Put a service's errors on the fields and rows that caused them; return those shown under the rows.

    ``rows`` are the forms the specs were built from, in the same order, so
    the n-th item of the error's ``models`` belongs to ``rows[n]``. Returned:
    the problems of the set as a whole (the weights, "at least one model").
    """
    kept = add_service_errors(form, exc, keep=("models", "weights"))
    return add_row_errors(rows, kept.get("models", []), _row_field) + kept.get("weights", [])
