"""Key pages, mounted at /keys/. Keys are addressed by their 32-hex public id."""

from __future__ import annotations

from django.urls import path, re_path

from keys import views

app_name = "keys"

KEY = r"^(?P<key_id>[0-9a-f]{32})/"

urlpatterns = [
    path("", views.key_list, name="key-list"),
    path("new", views.key_create, name="key-create"),
    re_path(KEY + r"$", views.key_detail, name="key-detail"),
    re_path(KEY + r"edit$", views.key_edit, name="key-edit"),
    re_path(KEY + r"secret$", views.key_secret, name="key-secret"),
    re_path(KEY + r"delete$", views.key_delete, name="key-delete"),
    re_path(KEY + r"test$", views.key_test, name="key-test"),
]
