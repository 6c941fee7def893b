"""The scorer form and the run form; both save or run through ``scorers.services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from endpoints.models import Endpoint, EndpointType
from gatewaylib.ui import add_service_errors
from scorers import services
from scorers.models import GATEWAY_URI_PREFIX, AnswerKind, Scorer
from sharing.levels import Level

EXAMPLE_INSTRUCTIONS = (
    "Does the answer in {{ outputs }} respond correctly to the question in {{ inputs }}, "
    "agreeing with {{ expectations }}?"
)


class ScorerForm(forms.Form):
    name = forms.CharField(max_length=100)
    instructions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "true", "placeholder": EXAMPLE_INSTRUCTIONS}),
        help_text="Write {{ inputs }}, {{ outputs }} and {{ expectations }} where the sample's values go.",
    )
    answer_kind = forms.ChoiceField(choices=AnswerKind.choices, initial=AnswerKind.YES_NO, label="Answer")
    endpoint = forms.ChoiceField(
        required=False,
        label="Judge endpoint",
        help_text="A chat endpoint you may use; the scorer calls it through the proxy as whoever runs it.",
    )

    def __init__(self, *args: Any, user: Any, instance: Scorer | None = None, **kwargs: Any) -> None:
        self.user, self.instance = user, instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
                "instructions": instance.instructions,
                "answer_kind": instance.answer_kind,
                "endpoint": instance.endpoint.name if instance.endpoint_id else "",
            }
        super().__init__(*args, **kwargs)
        self.endpoints = {endpoint.name: endpoint for endpoint in self._choosable()}
        self.fields["endpoint"].choices = [("", "None yet")] + [
            (name, f"{GATEWAY_URI_PREFIX}{name}") for name in sorted(self.endpoints)
        ]

    def _choosable(self) -> list[Endpoint]:
        """Chat endpoints the user may USE, and the scorer's own (kept when someone else linked it)."""
        endpoints = list(Endpoint.objects.visible_to(self.user, Level.USE).filter(endpoint_type=EndpointType.CHAT))
        if self.instance is not None and self.instance.endpoint_id and self.instance.endpoint not in endpoints:
            endpoints.append(self.instance.endpoint)
        return endpoints

    def try_save(self) -> Scorer | None:
        """Create or change the scorer; None with the service's refusal on the form."""
        fields = {**self.cleaned_data, "endpoint": self.endpoints.get(self.cleaned_data["endpoint"])}
        try:
            if self.instance is None:
                return services.create_scorer(actor=self.user, **fields)
            return services.update_scorer(self.instance, actor=self.user, **fields)
        except ValidationError as exc:
            add_service_errors(self, exc)
            return None


class RunForm(forms.Form):
    """A sample to judge: text for each variable the instructions use."""

    inputs = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Inputs")
    outputs = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Outputs")
    expectations = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Expectations")

    def __init__(self, *args: Any, scorer: Scorer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        try:
            used = set(services.judge.variables_in(scorer.instructions))
        except ValueError:
            used = set()
        for name, field in self.fields.items():
            field.used = name in used
            field.widget.attrs["data-variable"] = name

    def sample(self) -> dict[str, str]:
        return {name: value for name, value in self.cleaned_data.items() if value}
