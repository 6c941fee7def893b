"""Token pages, mounted at /tokens/."""

from __future__ import annotations

from django.urls import path, re_path

from tokens import views

app_name = "tokens"

urlpatterns = [
    path("", views.token_list, name="token-list"),
    re_path(r"^(?P<token_id>[0-9a-f]{32})/revoke$", views.token_revoke, name="token-revoke"),
]
