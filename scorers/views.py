"""Scorer pages: list, create, detail (with the run form), edit, run, delete.

Objects are fetched with the level the page needs (``gatewaylib.ui.object_for``:
404 below READ, 403 below it). "Create endpoint" on the form saves the scorer,
then hands off to the endpoint form (``endpoints.bindings``), which comes
back to the scorer's edit page with the new endpoint linked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from audit.models import AuditEvent
from gatewaylib.ui import UNPROCESSABLE, Access, add_service_errors, object_for
from scorers import services
from scorers.forms import RunForm, ScorerForm
from scorers.models import Scorer
from sharing.levels import Level

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

HISTORY_LENGTH = 20
CREATE_ENDPOINT = "create_endpoint"  # the name of the form's "Create endpoint" submit button


def _get_scorer(request: HttpRequest, scorer_id: str, level: Level) -> tuple[Scorer, Access]:
    return object_for(request, Scorer.objects.select_related("endpoint", "created_by"), level, pk=scorer_id)


@login_required
def scorer_list(request: HttpRequest) -> HttpResponse:
    scorers = Scorer.objects.visible_to(request.user).select_related("endpoint")
    return render(request, "scorers/list.html", {"scorers": scorers})


@login_required
@require_http_methods(["GET", "POST"])
def scorer_create(request: HttpRequest) -> HttpResponse:
    form = ScorerForm(request.POST or None, user=request.user, initial=_initial(request))
    return _save(request, form)


@login_required
@require_http_methods(["GET", "POST"])
def scorer_edit(request: HttpRequest, scorer_id: str) -> HttpResponse:
    scorer, _ = _get_scorer(request, scorer_id, Level.EDIT)
    initial = None
    if request.method == "GET" and (linked := request.GET.get("endpoint")):
        # Back from the endpoint form (``return_to``): the new endpoint selected.
        initial = {**ScorerForm(user=request.user, instance=scorer).initial, "endpoint": linked}
    kwargs = {"initial": initial} if initial else {}
    form = ScorerForm(request.POST or None, user=request.user, instance=scorer, **kwargs)
    return _save(request, form)


def _initial(request: HttpRequest) -> dict[str, Any]:
    return {name: request.GET[name] for name in ("name", "endpoint") if request.GET.get(name)}


def _save(request: HttpRequest, form: ScorerForm) -> HttpResponse:
    creating = form.instance is None
    if request.method == "POST" and form.is_valid() and (scorer := form.try_save()):
        if CREATE_ENDPOINT in request.POST:
            return redirect(services.endpoint_form_url(scorer, request.user))
        messages.success(request, f"Scorer “{scorer.name}” {'created' if creating else 'saved'}.")
        return redirect(scorer.get_absolute_url())
    status = UNPROCESSABLE if form.is_bound and form.errors else 200
    return render(request, "scorers/form.html", {"form": form, "scorer": form.instance}, status=status)


@login_required
def scorer_detail(request: HttpRequest, scorer_id: str) -> HttpResponse:
    scorer, access = _get_scorer(request, scorer_id, Level.READ)
    return render(request, "scorers/detail.html", _detail_context(scorer, access, RunForm(scorer=scorer)))


def _detail_context(scorer: Scorer, access: Access, run_form: RunForm, **extra: Any) -> dict[str, Any]:
    return {
        "scorer": scorer,
        "access": access,
        "run_form": run_form,
        "events": AuditEvent.objects.filter(object_type="scorer", object_id=scorer.pk)[:HISTORY_LENGTH],
        **extra,
    }


@login_required
@require_POST
def scorer_run(request: HttpRequest, scorer_id: str) -> HttpResponse:
    """Judge the posted sample (USE on the scorer; the proxy checks USE on its endpoint)."""
    scorer, access = _get_scorer(request, scorer_id, Level.USE)
    form = RunForm(request.POST, scorer=scorer)
    context: dict[str, Any] = {"scorer": scorer}
    status = 200
    if form.is_valid():
        try:
            context["run"] = services.run_scorer(scorer, actor=request.user, sample=form.sample())
        except ValidationError as exc:
            add_service_errors(form, exc)
            status = UNPROCESSABLE
        except services.RunFailed as exc:
            context["failure"] = exc
    else:
        status = UNPROCESSABLE
    context["run_form"] = form
    if request.htmx:
        return render(request, "scorers/partials/run.html", context, status=status)
    return render(request, "scorers/detail.html", _detail_context(scorer, access, form, **context), status=status)


@login_required
@require_http_methods(["GET", "POST"])
def scorer_delete(request: HttpRequest, scorer_id: str) -> HttpResponse:
    scorer, _ = _get_scorer(request, scorer_id, Level.MANAGE)
    if request.method == "POST":
        services.delete_scorer(scorer, actor=request.user)
        messages.success(request, f"Deleted scorer “{scorer.name}”.")
        return redirect("scorers:scorer-list")
    return render(request, "scorers/delete.html", {"scorer": scorer})
