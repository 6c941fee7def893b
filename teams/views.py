"""The Teams pages: your teams and a new-team form, one team's members and what is shared with it.

Thin views over ``teams.services``, which decide who may do what: a team
that is not yours answers 404 (``get_team_for_user``), a change you may not
make answers 403 (the services raise ``PermissionDenied``).

The members card (``teams/partials/members.html``) is an htmx fragment: its
forms post to ``members/add``, ``members/remove`` and ``members/role`` and
replace the card in place (``closest .team-members``), 200 with a flash
message swapped out of band, or 422 with the error inline. Leaving the team,
or changing your own role, reloads the page instead (what you may see and do
has changed). Without htmx the same URLs redirect back to the team page, or
render it with the error, so the page also works without JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from audit.services import visible_events
from gatewaylib.ui import UNPROCESSABLE
from teams import services
from teams.forms import AddMemberForm, MemberForm, RoleForm, TeamForm
from teams.models import Team

if TYPE_CHECKING:
    from django.forms import Form
    from django.http import HttpRequest, HttpResponse

HISTORY_LENGTH = 20


def _status(form: Form) -> int:
    return UNPROCESSABLE if form.is_bound and form.errors else 200


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    """The caller's teams; a POST creates one, which the caller then manages."""
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (team := form.try_create(request.user)):
        messages.success(request, f"Team “{team}” created. Add its members below.")
        return redirect(team)
    context = {"teams": Team.objects.visible_to(request.user).with_counts(request.user), "form": form}
    return render(request, "teams/list.html", context, status=_status(form))


def _members_context(request: HttpRequest, team: Team, errors: list[str] | None = None, **forms: Form) -> dict:
    return {
        "team": team,
        "can_manage": services.can_manage(request.user, team),
        "members": services.members(team),
        "add_form": forms.get("add_form") or AddMemberForm(auto_id="add-%s"),
        "member_errors": errors or [],
    }


def _detail(request: HttpRequest, team: Team, status: int = 200, **parts: Any) -> HttpResponse:
    context = _members_context(request, team, parts.pop("errors", None), **parts)
    context |= {
        "role": services.role_of(request.user, team),
        "shared": services.shared_with(team, request.user),
        "events": visible_events(request.user, [Team]).filter(object_type="team", object_id=team.pk)[:HISTORY_LENGTH],
        "rename_form": parts.get("rename_form") or TeamForm(initial={"name": team.name}, auto_id="rename-%s"),
    }
    return render(request, "teams/detail.html", context, status=status)


@login_required
def team_detail(request: HttpRequest, team_id: str) -> HttpResponse:
    """One team: its members and roles, what is shared with it, its history; managers also change it here."""
    return _detail(request, services.get_team_for_user(request.user, team_id))


@login_required
@require_POST
def team_rename(request: HttpRequest, team_id: str) -> HttpResponse:
    team = services.get_team_for_user(request.user, team_id)
    services.check_can_manage(request.user, team)  # 403 before any form error
    form = TeamForm(request.POST, auto_id="rename-%s")
    if form.is_valid() and form.try_rename(team, request.user):
        messages.success(request, f"Team renamed to “{form.cleaned_data['name']}”.")
        return redirect(team)
    return _detail(request, team, UNPROCESSABLE, rename_form=form)


def _member_change(
    request: HttpRequest, team: Team, form: Form, change: Callable[[], Any], message: Callable[[Any], str]
) -> HttpResponse:
    """Run ``change`` (a form's ``try_*``, None when refused) and answer with the members card or the team page.

    A change to the caller's own membership or role reloads the page (or goes
    to the team list, once they can no longer see the team): what it may
    show and offer has changed.
    """
    done = change() if form.is_valid() else None
    if done is None:
        parts = {"add_form": form} if isinstance(form, AddMemberForm) else {"errors": _errors(form)}
        if request.htmx:
            context = _members_context(request, team, **parts)
            return render(request, "teams/partials/members.html", context, status=UNPROCESSABLE)
        return _detail(request, team, UNPROCESSABLE, **parts)
    messages.success(request, message(done))
    if done.user.pk == request.user.pk:
        still_seen = Team.objects.visible_to(request.user).filter(pk=team.pk).exists()
        destination = team.get_absolute_url() if still_seen else reverse("teams:team-list")
        return HttpResponseClientRedirect(destination) if request.htmx else redirect(destination)
    if request.htmx:
        return render(request, "teams/partials/members.html", _members_context(request, team))
    return redirect(team)


def _errors(form: Form) -> list[str]:
    return [error for errors in form.errors.values() for error in errors]


@login_required
@require_POST
def member_add(request: HttpRequest, team_id: str) -> HttpResponse:
    """Add a user by username, as a member or a manager."""
    team = services.get_team_for_user(request.user, team_id)
    services.check_can_manage(request.user, team)  # 403 before any form error
    form = AddMemberForm(request.POST, auto_id="add-%s")

    def message(added: services.Member) -> str:
        return f"Added {added.user} to “{team}”{' as a manager' if added.is_manager else ''}."

    return _member_change(request, team, form, lambda: form.try_save(team, request.user), message)


@login_required
@require_POST
def member_remove(request: HttpRequest, team_id: str) -> HttpResponse:
    """Remove a member (managers), or leave the team (any member)."""
    team = services.get_team_for_user(request.user, team_id)
    form = MemberForm(request.POST, team=team)

    def message(removed: services.Member) -> str:
        return f"You left “{team}”." if removed.user.pk == request.user.pk else f"Removed {removed.user} from “{team}”."

    return _member_change(request, team, form, lambda: form.try_remove(request.user), message)


@login_required
@require_POST
def member_role(request: HttpRequest, team_id: str) -> HttpResponse:
    """Make a member a manager, or a manager a plain member."""
    team = services.get_team_for_user(request.user, team_id)
    services.check_can_manage(request.user, team)  # 403 before any form error
    form = RoleForm(request.POST, team=team)

    def message(changed: services.Member) -> str:
        who = "You are" if changed.user.pk == request.user.pk else f"{changed.user} is"
        return f"{who} now a {changed.role.label.lower()} of “{team}”."

    return _member_change(request, team, form, lambda: form.try_save(request.user), message)


@login_required
def team_delete(request: HttpRequest, team_id: str) -> HttpResponse:
    """Confirm, then delete (managers); refused, naming them, while it would leave an object without a manager."""
    team = services.get_team_for_user(request.user, team_id)
    services.check_can_manage(request.user, team)
    context: dict[str, Any] = {"team": team, "members": services.members(team)}
    context["shared"] = services.shared_with(team, request.user)
    if request.method == "POST":
        try:
            services.delete_team(team, actor=request.user)
        except ValidationError as exc:
            context["refusal"] = " ".join(exc.messages)
            return render(request, "teams/delete.html", context, status=UNPROCESSABLE)
        messages.success(request, f"Team “{team}” deleted.")
        return redirect("teams:team-list")
    context["refusal"] = services.deletion_refusal(team)
    return render(request, "teams/delete.html", context)
