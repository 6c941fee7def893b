"""Key pages: list, create, detail, edit, replace the secret, delete.

Every object is fetched with the level the page needs
(``gatewaylib.ui.object_for``: 404 below READ, 403 below that level); the
same lookup gives the caller's level, passed to the template as ``access``
so buttons show only when they would work. The secret is never rendered:
pages show ``masked_secret`` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, OuterRef
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from audit.services import visible_events
from catalog import services as catalog
from endpoints.models import Endpoint, EndpointModel
from gatewaylib.errors import Conflict
from gatewaylib.ui import UNPROCESSABLE, Access, object_for
from keys import services
from keys.forms import KeyCreateForm, KeyEditForm, SecretForm
from keys.models import Key, KeyUserObjectPermission
from sharing.levels import Level

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

HISTORY_LENGTH = 20


def _get_key(request: HttpRequest, key_id: str, level: Level) -> tuple[Key, Access]:
    return object_for(request, Key.objects.all(), level, pk=key_id)


def _form_status(form: Any) -> int:
    return UNPROCESSABLE if form.is_bound and form.errors else 200


def _listed_keys(user: Any) -> list[Key]:
    """Visible keys with who-can-see-it counts and the visible endpoints using each, in three queries."""
    direct = KeyUserObjectPermission.objects.filter(content_object=OuterRef("pk"), user=user)
    keys = list(
        Key.objects.visible_to(user, Level.READ).annotate(
            user_grants=Count("keyuserobjectpermission__user", distinct=True),
            group_grants=Count("keygroupobjectpermission__group", distinct=True),
            endpoint_count=Count("endpoint_models__endpoint", distinct=True),
            held_directly=Exists(direct),
        )
    )
    names: dict[Any, list[str]] = {key.pk: [] for key in keys}
    pairs = (
        EndpointModel.objects.filter(key__in=names, endpoint__in=Endpoint.objects.visible_to(user))
        .values_list("key_id", "endpoint__name")
        .distinct()
        .order_by("endpoint__name")
    )
    for key_id, name in pairs:
        names[key_id].append(name)
    providers = {provider["name"]: provider["display_name"] for provider in catalog.list_providers()}
    for key in keys:
        key.endpoint_names = names[key.pk]
        key.hidden_endpoints = key.endpoint_count - len(key.endpoint_names)
        key.provider_name = providers.get(key.provider, key.provider)
    return keys


def _usage(key: Key, user: Any) -> dict[str, Any]:
    visible, hidden = services.endpoints_using(key, user)
    return {"endpoints": visible, "hidden_endpoints": hidden}


@login_required
def key_list(request: HttpRequest) -> HttpResponse:
    """Every key the caller can READ."""
    return render(request, "keys/list.html", {"keys": _listed_keys(request.user)})


@login_required
def key_create(request: HttpRequest) -> HttpResponse:
    """Add a key; the creator gets MANAGE."""
    form = KeyCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (key := form.try_save(request.user)):
        messages.success(request, f"Key “{key.name}” added. Its secret is stored encrypted.")
        return redirect("keys:key-detail", key_id=key.public_id)
    return render(request, "keys/form.html", {"form": form}, status=_form_status(form))


@login_required
def key_detail(request: HttpRequest, key_id: str) -> HttpResponse:
    """One key: masked secret, description, endpoints using it, sharing panel and history."""
    key, access = _get_key(request, key_id, Level.READ)
    return render(request, "keys/detail.html", _detail_context(request, key, access))


def _detail_context(request: HttpRequest, key: Key, access: Access) -> dict[str, Any]:
    return {
        "key": key,
        "access": access,
        "provider": catalog.get_provider(key.provider),
        "usage": _usage(key, request.user),
        "events": visible_events(request.user, [Key]).filter(object_type="key", object_id=key.pk)[:HISTORY_LENGTH],
    }


@login_required
def key_edit(request: HttpRequest, key_id: str) -> HttpResponse:
    """Change name, provider or description (EDIT)."""
    key, _ = _get_key(request, key_id, Level.EDIT)
    form = KeyEditForm(request.POST or None, instance=key)
    form.viewer = request.user
    if request.method == "POST" and form.is_valid() and (saved := form.try_save(request.user)):
        messages.success(request, f"Key “{saved.name}” saved.")
        return redirect("keys:key-detail", key_id=saved.public_id)
    return render(request, "keys/form.html", {"form": form, "key": key}, status=_form_status(form))


@login_required
def key_secret(request: HttpRequest, key_id: str) -> HttpResponse:
    """Replace the secret (EDIT). The old and the new one are never shown."""
    key, _ = _get_key(request, key_id, Level.EDIT)
    form = SecretForm(request.POST or None, key=key)
    if request.method == "POST" and form.is_valid() and form.try_save(key, actor=request.user):
        messages.success(request, f"Secret of “{key.name}” replaced.")
        return redirect("keys:key-detail", key_id=key.public_id)
    return render(request, "keys/secret.html", {"form": form, "key": key}, status=_form_status(form))


@require_POST
@login_required
def key_test(request: HttpRequest, key_id: str) -> HttpResponse:
    """Test the key's connection (USE): its models listed at its destination, the outcome shown."""
    key, access = _get_key(request, key_id, Level.USE)
    result = services.test_connection(key, actor=request.user)
    if request.htmx:
        return render(request, "keys/partials/test_result.html", {"result": result})
    context = {**_detail_context(request, key, access), "result": result}
    return render(request, "keys/detail.html", context)


@login_required
def key_delete(request: HttpRequest, key_id: str) -> HttpResponse:
    """Confirm, then delete (MANAGE); refused with the endpoints listed while any endpoint uses the key."""
    key, _ = _get_key(request, key_id, Level.MANAGE)
    if request.method == "POST":
        try:
            services.delete_key(key, actor=request.user)
        except Conflict as exc:
            return render(request, "keys/delete.html", {"key": key, "conflict": exc.payload}, status=409)
        messages.success(request, f"Key “{key.name}” deleted.")
        return redirect("keys:key-list")
    return render(request, "keys/delete.html", {"key": key, "usage": _usage(key, request.user)})
