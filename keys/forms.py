from __future__ import annotations

from typing import Any

from django import forms

from keys import services
from keys.models import Key


class KeyForm(forms.ModelForm):
    """Create or change a key. The secret is write-only: it is never rendered back, not even after an error."""

    EDITABLE_FIELDS = ("name", "provider", "description")

    secret = forms.CharField(
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        required=False,
        strip=True,
        max_length=services.MAX_SECRET_LENGTH,
        help_text="Stored encrypted and never shown again. Leave empty to keep the current secret.",
    )

    class Meta:
        model = Key
        fields = ["name", "provider", "description"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance._state.adding:
            self.fields["secret"].required = True
            self.fields["secret"].help_text = "Stored encrypted and never shown again."

    def clean_provider(self) -> str:
        return services.clean_provider(self.cleaned_data["provider"])

    def clean_secret(self) -> str | None:
        value = self.cleaned_data.get("secret")
        if not value:
            return None
        return services.clean_secret(value)

    def save_for(self, actor) -> Key:
        """Save through the services so the admin and UI follow the API's rules."""
        data = {field: self.cleaned_data[field] for field in self.EDITABLE_FIELDS if field in self.cleaned_data}
        secret = self.cleaned_data.get("secret")
        if self.instance._state.adding:
            return services.create_key(actor=actor, secret=secret, **data)
        return services.update_key(self.instance, actor=actor, secret=secret, **data)
