from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from tokens.models import GatewayToken
from tokens.services import revoke_token


@admin.register(GatewayToken)
class GatewayTokenAdmin(admin.ModelAdmin):
    """Operators see and revoke tokens; they never see a digest and cannot mint tokens here."""

    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "expires_at"]
    list_filter = ["created_at", "last_used_at", "expires_at"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    # ``digest`` is deliberately absent from every list here, so the form neither shows nor accepts it.
    fields = ["name", "user", "prefix", "expires_at", "created_at", "last_used_at", "pepper_version"]
    readonly_fields = ["user", "prefix", "created_at", "last_used_at", "pepper_version"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Tokens are minted through the API or the create_token command, the
        # only places that can hand the plaintext to its owner.
        return False

    def delete_model(self, request: HttpRequest, obj: GatewayToken) -> None:
        revoke_token(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[GatewayToken]) -> None:
        for token in queryset:
            revoke_token(token)
