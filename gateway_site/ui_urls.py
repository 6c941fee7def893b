"""The UI's root pages, mounted at "/"."""

from __future__ import annotations

from django.urls import path

from gateway_site import dashboard

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
]
