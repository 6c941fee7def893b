from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from gatewaylib.validators import no_control_characters, no_control_characters_multiline
from sharing.levels import level_permissions
from sharing.models import SharedQuerySet

GATEWAY_URI_PREFIX = "gateway:/"
INSTRUCTIONS_MAX_LENGTH = 20_000


class AnswerKind(models.TextChoices):
    YES_NO = "yes_no", "Yes or no"
    SCALE = "scale_1_5", "Score from 1 to 5"


class ScorerQuerySet(SharedQuerySet):
    pass


class Scorer(models.Model):
    """An LLM judge: instructions with ``{{ inputs }}``/``{{ outputs }}``/``{{ expectations }}``, asked of an endpoint.

    The endpoint is the judge's model, written ``gateway:/<endpoint-name>``;
    the scorer calls it through the proxy as whoever runs it. Its binding on
    the endpoint (``scorer:<id>``) follows ``endpoint`` (``scorers.services``).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, unique=True, validators=[no_control_characters])
    instructions = models.TextField(
        validators=[no_control_characters_multiline, MaxLengthValidator(INSTRUCTIONS_MAX_LENGTH)],
        help_text="What the judge is asked; {{ inputs }}, {{ outputs }} and {{ expectations }} are filled in.",
    )
    answer_kind = models.CharField(max_length=16, choices=AnswerKind.choices, default=AnswerKind.YES_NO)
    endpoint = models.ForeignKey(
        "endpoints.Endpoint", null=True, blank=True, on_delete=models.SET_NULL, related_name="scorers"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScorerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        permissions = level_permissions("scorer")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("scorers:scorer-detail", kwargs={"scorer_id": self.public_id})

    @property
    def public_id(self) -> str:
        return self.id.hex

    @property
    def model_uri(self) -> str:
        """``gateway:/<endpoint-name>``, or "" without an endpoint."""
        return f"{GATEWAY_URI_PREFIX}{self.endpoint.name}" if self.endpoint_id else ""


class ScorerUserObjectPermission(UserObjectPermissionBase):
    """Guardian grant of a level on a scorer to a user (direct FK)."""

    content_object = models.ForeignKey(Scorer, on_delete=models.CASCADE)


class ScorerGroupObjectPermission(GroupObjectPermissionBase):
    """Guardian grant of a level on a scorer to a group (direct FK)."""

    content_object = models.ForeignKey(Scorer, on_delete=models.CASCADE)


Scorer.user_permission_model = ScorerUserObjectPermission
Scorer.group_permission_model = ScorerGroupObjectPermission
