"""The UI form that creates a gateway token."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from tokens.models import GatewayToken


class TokenForm(forms.ModelForm):
    """A name and an optional last day of validity (the token expires at the end of that day)."""

    expires_on = forms.DateField(
        required=False,
        label="Expires",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional. The token stops working at the end of this day (UTC).",
    )

    class Meta:
        model = GatewayToken
        fields = ["name"]
        widgets = {"name": forms.TextInput(attrs={"placeholder": "ci-pipeline", "autocomplete": "off"})}

    def clean_expires_on(self) -> datetime | None:
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        if day < timezone.localdate():
            raise forms.ValidationError("Pick today or a later day.")
        return datetime.combine(day + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone())
