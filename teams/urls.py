"""Teams pages, mounted at /teams/. Teams are addressed by their 32-hex public id."""

from __future__ import annotations

from django.urls import path, re_path

from teams import views

app_name = "teams"

TEAM = r"^(?P<team_id>[0-9a-f]{32})/"

urlpatterns = [
    path("", views.team_list, name="team-list"),
    re_path(TEAM + r"$", views.team_detail, name="team-detail"),
    re_path(TEAM + r"rename$", views.team_rename, name="team-rename"),
    re_path(TEAM + r"delete$", views.team_delete, name="team-delete"),
    re_path(TEAM + r"members/add$", views.member_add, name="member-add"),
    re_path(TEAM + r"members/remove$", views.member_remove, name="member-remove"),
    re_path(TEAM + r"members/role$", views.member_role, name="member-role"),
]
