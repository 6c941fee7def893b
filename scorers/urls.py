"""Scorer pages, mounted at /scorers/. Scorers are addressed by their 32-hex public id."""

from __future__ import annotations

from django.urls import path, re_path

from scorers import views

app_name = "scorers"

SCORER = r"^(?P<scorer_id>[0-9a-f]{32})/"

urlpatterns = [
    path("", views.scorer_list, name="scorer-list"),
    path("new", views.scorer_create, name="scorer-create"),
    re_path(SCORER + r"$", views.scorer_detail, name="scorer-detail"),
    re_path(SCORER + r"edit$", views.scorer_edit, name="scorer-edit"),
    re_path(SCORER + r"run$", views.scorer_run, name="scorer-run"),
    re_path(SCORER + r"delete$", views.scorer_delete, name="scorer-delete"),
]
