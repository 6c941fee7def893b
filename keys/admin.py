from __future__ import annotations

from django.contrib import admin

from keys import services
from keys.forms import KeyForm
from keys.models import Key
from sharing.admin import SharedObjectAdmin


@admin.register(Key)
class KeyAdmin(SharedObjectAdmin):
    """Keys in the admin: the secret is write-only and only its masked hint is ever displayed."""

    form = KeyForm
    list_display = ["name", "provider", "api_base", "masked_secret", "created_by", "created_at", "last_rotated_at"]
    list_filter = ["provider"]
    search_fields = ["name", "description"]
    readonly_fields = ["masked_secret", "created_by", "created_at", "updated_at", "last_rotated_at"]
    fieldsets = [
        (None, {"fields": ["name", "provider", "description", "secret"]}),
        (
            "Where the secret is sent",
            {
                "fields": ["api_base", "api_version", "organization", "region", "project"],
                "description": "Changing the provider or any of these needs the secret re-entered.",
            },
        ),
        (
            "AWS access key (Bedrock)",
            {
                "fields": ["aws_access_key_id", "aws_secret_access_key", "aws_session_token"],
                "description": "A Bedrock key signs with an AWS access key instead of a Bedrock API key as the secret.",
            },
        ),
        ("Record", {"fields": readonly_fields}),
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The form's checks name only the endpoints this admin user may see.
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"viewer": request.user})

    def save_model(self, request, obj, form, change) -> None:
        saved = form.save_for(request.user)
        # The admin keeps using ``obj`` for its redirect and message.
        obj.pk, obj._state.adding = saved.pk, False

    def save_related(self, request, form, formsets, change) -> None:
        # Nothing related to save; KeyForm has no m2m fields.
        pass

    def delete_model(self, request, obj) -> None:
        services.delete_key(obj, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for key in queryset:
            services.delete_key(key, actor=request.user)
