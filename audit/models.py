from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

# The kinds of object the trail speaks of, as ``object_type`` stores them (the model
# name), with the word a person reads.
OBJECT_TYPES = {"key": "key", "endpoint": "endpoint", "team": "team"}


class AuditEvent(models.Model):
    """One action on a key or endpoint: who, what, which object, when, and a before/after summary.

    ``changes`` never holds a secret: callers pass summaries built from the
    objects' public fields (a key contributes its masked hint only).
    """

    class Action(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        DELETE = "delete"
        START = "start"
        STOP = "stop"
        SHARE = "share"
        UNSHARE = "unshare"
        ROTATE = "rotate"
        RESTORE = "restore"
        ADD_MEMBER = "add_member"
        REMOVE_MEMBER = "remove_member"
        CHANGE_ROLE = "change_role"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_name = models.CharField(max_length=150, blank=True, help_text="Kept when the user is deleted.")
    action = models.CharField(max_length=16, choices=Action.choices)
    object_type = models.CharField(max_length=32)
    object_id = models.UUIDField()
    object_name = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["object_type", "object_id", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.actor_name or 'system'} {self.action} {self.object_type} {self.object_name}"

    @property
    def object_label(self) -> str:
        """The object's kind in words (``team`` for a group)."""
        return OBJECT_TYPES.get(self.object_type, self.object_type)
