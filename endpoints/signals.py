"""Announce every change the proxy caches, whichever entry point made it (API, UI, admin, shell)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save

from gatewaylib.invalidation import changed


def _changed(sender, **kwargs) -> None:
    changed()


def connect() -> None:
    from endpoints.models import Endpoint, EndpointGroupObjectPermission, EndpointModel, EndpointUserObjectPermission
    from keys.models import Key
    from tokens.models import GatewayToken

    for model in (
        Endpoint,
        EndpointModel,
        EndpointUserObjectPermission,
        EndpointGroupObjectPermission,
        Key,
        GatewayToken,
        get_user_model(),
        Group,
    ):
        post_save.connect(_changed, sender=model, dispatch_uid=f"proxy-save-{model._meta.label}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"proxy-delete-{model._meta.label}")
    m2m_changed.connect(_changed, sender=get_user_model().groups.through, dispatch_uid="proxy-user-groups")
