"""The sharing panel, mounted at /share/ (see ``sharing.views`` for the contract)."""

from __future__ import annotations

from django.urls import re_path

from sharing import views

app_name = "sharing"

OBJECT = r"^(?P<kind>key|endpoint|scorer)/(?P<obj_id>[0-9a-f]{32})/"

urlpatterns = [
    re_path(OBJECT + r"$", views.panel, name="panel"),
    re_path(OBJECT + r"grant$", views.grant, name="grant"),
    re_path(OBJECT + r"revoke$", views.revoke, name="revoke"),
]
