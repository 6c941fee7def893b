"""Forms for keys: the admin's ``KeyForm`` and the UI's create, edit and replace-secret forms.

The secret is write-only everywhere: ``PasswordInput(render_value=False)``
never renders it back, not even after a validation error, and every error
message comes from ``keys.services.clean_secret``, which never echoes it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from catalog import services as catalog
from gatewaylib.ui import add_service_errors
from keys import aws, services
from keys.models import Key


def _secret_widget(attrs: dict[str, str] | None = None) -> forms.PasswordInput:
    # "new-password" keeps browsers from autofilling the user's login password here.
    return forms.PasswordInput(
        render_value=False,
        attrs={"autocomplete": "new-password", "spellcheck": "false", "autocapitalize": "off", **(attrs or {})},
    )


# Shown only while the form's provider is Bedrock (static/js/app.js; without scripts, always shown).
_FOR_BEDROCK = {"data-provider": "bedrock"}


def provider_choices() -> list[tuple[str, str]]:
    """Catalog providers for a <select>, by display name."""
    providers = sorted(catalog.list_providers(), key=lambda provider: provider["display_name"].casefold())
    return [("", "Choose a provider…")] + [(provider["name"], provider["display_name"]) for provider in providers]


CONNECTION_FIELDS = ("api_base", "api_version", "organization", "region", "project")


# A Bedrock key's AWS access key, instead of the secret; write-only like it.
def _access_key_id_field() -> forms.CharField:
    return forms.CharField(
        label="AWS access key ID",
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off", **_FOR_BEDROCK}
        ),
        help_text="Bedrock only, instead of a Bedrock API key as the secret: requests are signed with this "
        "access key for the key's region.",
    )


def _secret_access_key_field() -> forms.CharField:
    return forms.CharField(label="AWS secret access key", required=False, widget=_secret_widget(_FOR_BEDROCK))


def _session_token_field() -> forms.CharField:
    return forms.CharField(
        label="AWS session token",
        required=False,
        widget=_secret_widget(_FOR_BEDROCK),
        help_text="Only for temporary credentials.",
    )


def _access_key(data: dict[str, Any]) -> dict[str, str]:
    """The AWS access-key fields as entered, for the service (which composes the secret from them)."""
    return {name: data.get(name) or "" for name in aws.FIELDS}


class KeyForm(forms.ModelForm):
    """Create or change a key. The secret is write-only: it is never rendered back, not even after an error.

    Leaving the secret empty keeps the stored one, except that changing the
    provider or a connection field needs it re-entered (the service says so).
    """

    EDITABLE_FIELDS = ("name", "provider", "description", *CONNECTION_FIELDS)
    # Who fills the form in: a refusal names only the endpoints they may see.
    viewer: Any = None

    secret = forms.CharField(
        widget=_secret_widget(),
        required=False,
        strip=True,
        max_length=services.MAX_SECRET_LENGTH,
        help_text="Stored encrypted and never shown again. Leave empty to keep the current secret; "
        "re-enter it to change the provider or where the key connects.",
    )
    aws_access_key_id = _access_key_id_field()
    aws_secret_access_key = _secret_access_key_field()
    aws_session_token = _session_token_field()

    class Meta:
        model = Key
        fields = ["name", "provider", "description", *CONNECTION_FIELDS]
        widgets = {"api_base": forms.URLInput(attrs={"placeholder": "https://...", "spellcheck": "false"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance._state.adding:
            self.fields[
                "secret"
            ].help_text = "Stored encrypted and never shown again. May be empty only for a self-hosted server."

    def clean_provider(self) -> str:
        return services.clean_provider(self.cleaned_data["provider"])

    def clean(self) -> dict[str, Any]:
        """The service's rules, checked here too so the admin shows their errors instead of failing on save."""
        data = super().clean()
        if not self.errors:
            stored = None if self.instance._state.adding else Key.objects.get(pk=self.instance.pk)
            fields = {field: data[field] for field in self.EDITABLE_FIELDS if field in data}
            try:
                secret = data.get("secret") or None
                services.check_key(stored, secret=secret, viewer=self.viewer, **fields, **_access_key(data))
            except ValidationError as exc:
                add_service_errors(self, exc)
        return data

    def save_for(self, actor) -> Key:
        """Save through the services so the admin and UI follow the API's rules."""
        data = {field: self.cleaned_data[field] for field in self.EDITABLE_FIELDS if field in self.cleaned_data}
        secret = self.cleaned_data.get("secret") or None
        if self.instance._state.adding:
            return services.create_key(actor=actor, secret=secret or "", **data, **_access_key(self.cleaned_data))
        # ModelForm validation already copied the new values onto self.instance;
        # hand the service the stored row so its audit "before" is the real one.
        stored = Key.objects.get(pk=self.instance.pk)
        return services.update_key(stored, actor=actor, secret=secret, **data, **_access_key(self.cleaned_data))

    def try_save(self, actor) -> Key | None:
        """``save_for``, turning a service's ValidationError into form errors (None when it failed)."""
        try:
            return self.save_for(actor)
        except ValidationError as exc:
            add_service_errors(self, exc)
            return None


class KeyCreateForm(KeyForm):
    """The UI's create form: the provider is picked from the catalog by display name."""

    provider = forms.ChoiceField(choices=provider_choices)

    field_order = ["name", "provider", "secret", *aws.FIELDS, *CONNECTION_FIELDS, "description"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["description"].widget.attrs["rows"] = 3
        self.fields["name"].widget.attrs.update(placeholder="openai-prod", autocomplete="off")


class KeyEditForm(KeyCreateForm):
    """The UI's edit form: the secret stays empty unless the provider or the connection changes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["secret"].label = "Secret (only to change the provider or connection)"


class SecretForm(forms.Form):
    """Replace a key's secret (or a Bedrock key's AWS access key); the old one is overwritten, neither shown."""

    secret = forms.CharField(
        widget=_secret_widget(),
        required=False,
        strip=True,
        max_length=services.MAX_SECRET_LENGTH,
        label="New secret",
        help_text="Replaces the stored secret immediately; running endpoints pick it up.",
    )
    aws_access_key_id = _access_key_id_field()
    aws_secret_access_key = _secret_access_key_field()
    aws_session_token = _session_token_field()

    def __init__(self, *args: Any, key: Key | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if key is None or key.provider not in aws.PROVIDERS:
            for name in aws.FIELDS:
                del self.fields[name]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors and not data.get("secret") and not any(_access_key(data).values()):
            self.add_error("secret", "Enter the new secret.")
        return data

    def try_save(self, key: Key, actor) -> Key | None:
        secret = self.cleaned_data["secret"] or None
        try:
            return services.update_key(key, actor=actor, secret=secret, **_access_key(self.cleaned_data))
        except ValidationError as exc:
            add_service_errors(self, exc)
            return None
