from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from gatewaylib.endpoint_types import ENDPOINT_TYPES
from gatewaylib.validators import no_control_characters, no_control_characters_multiline
from sharing.levels import level_permissions
from sharing.models import SharedQuerySet

# The registry's types, in its order (``EndpointType.CHAT == "chat"``). A
# type added there changes these choices: ``makemigrations`` then writes one.
EndpointType = models.TextChoices(
    "EndpointType", [(entry.value.upper(), (entry.value, entry.label)) for entry in ENDPOINT_TYPES]
)


class Status(models.TextChoices):
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    ERROR = "error"


class EndpointQuerySet(SharedQuerySet):
    def running(self) -> EndpointQuerySet:
        return self.filter(status=Status.RUNNING)


class Endpoint(models.Model):
    """A name applications call (``model=<name>``), served by one or more provider models.

    ``config_version`` changes whenever the endpoint, its models or a key they
    use changes; the proxy keys its cached LiteLLM Router on it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.SlugField(max_length=64, unique=True, help_text="What clients pass as `model`.")
    endpoint_type = models.CharField(max_length=32, choices=EndpointType.choices)
    description = models.TextField(blank=True, validators=[no_control_characters_multiline])
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STOPPED, editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    stopped_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    # The start probes' results, one per model (endpoints.probes.Result.as_dict), from the last start.
    start_check = models.JSONField(default=list, blank=True, editable=False)
    rate_limit_rpm = models.PositiveIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    rate_limit_tpm = models.PositiveIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    config_version = models.PositiveBigIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = EndpointQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        permissions = level_permissions("endpoint")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("endpoints:endpoint-detail", kwargs={"endpoint_id": self.public_id})

    @property
    def public_id(self) -> str:
        return self.id.hex

    @property
    def invocation_path(self) -> str:
        return f"/gateway/{self.name}/invocations"


class EndpointModel(models.Model):
    """One provider model serving an endpoint, with its key, weight and priority."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="models")
    provider = models.CharField(max_length=64)
    model_name = models.CharField(max_length=255)
    key = models.ForeignKey("keys.Key", on_delete=models.PROTECT, related_name="endpoint_models")
    weight = models.FloatField(default=1.0, help_text="Share of traffic among models of the same priority.")
    priority = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    litellm_params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "-weight", "created_at"]

    def __str__(self) -> str:
        return f"{self.provider}/{self.model_name}"

    @property
    def public_id(self) -> str:
        return self.id.hex


class Binding(models.Model):
    """An outside resource (a scorer, an app) that uses an endpoint; deletion warns about it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="bindings")
    resource_type = models.CharField(max_length=64, validators=[no_control_characters])
    resource_id = models.CharField(max_length=255, validators=[no_control_characters])
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "resource_type", "resource_id"], name="unique_binding")
        ]

    def __str__(self) -> str:
        return f"{self.resource_type}:{self.resource_id}"


class Revision(models.Model):
    """A numbered snapshot of an endpoint's configuration (no secrets: keys by id only)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    config = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "number"], name="unique_revision_number")]

    def __str__(self) -> str:
        return f"{self.endpoint} r{self.number}"


class RequestLog(models.Model):
    """One proxied request: who, which model served it, status, latency, tokens, cost. No content."""

    id = models.BigAutoField(primary_key=True)
    # The x-request-id the client saw; unique, so a batch written twice (the
    # database acknowledged a commit the writer never heard of) lands once.
    request_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="request_logs")
    endpoint_model_id = models.UUIDField(null=True, blank=True)
    model_served = models.CharField(max_length=255, blank=True)
    user_id = models.BigIntegerField(null=True, blank=True)
    token_id = models.UUIDField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField()
    latency_ms = models.FloatField()
    ttft_ms = models.FloatField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    stream = models.BooleanField(default=False)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=8, default=0)
    error_type = models.CharField(max_length=64, blank=True)
    # What the client was told when the request failed, and why each attempt
    # that did not serve failed ({"model", "status", "message"} each); the
    # provider's words, scrubbed of every secret, cut to 500 characters.
    error_message = models.CharField(max_length=500, blank=True)
    failed_attempts = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["endpoint", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.endpoint_id} {self.status_code} {self.latency_ms:.0f}ms"


class EndpointUserObjectPermission(UserObjectPermissionBase):
    """Guardian grant of a level on an endpoint to a user (direct FK)."""

    content_object = models.ForeignKey(Endpoint, on_delete=models.CASCADE)


class EndpointGroupObjectPermission(GroupObjectPermissionBase):
    """Guardian grant of a level on an endpoint to a group (direct FK)."""

    content_object = models.ForeignKey(Endpoint, on_delete=models.CASCADE)


Endpoint.user_permission_model = EndpointUserObjectPermission
Endpoint.group_permission_model = EndpointGroupObjectPermission


class StateVersion(models.Model):
    """One row whose counter changes with anything the proxy caches (endpoints, keys, grants, tokens).

    Without Redis, proxy processes poll it (about twice a second, off the
    request path) to learn of changes made by other processes.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"state v{self.version}"

    @classmethod
    def bump(cls) -> None:
        """Count one change (the row is made on first use)."""
        increment = {"version": models.F("version") + 1}
        if cls.objects.filter(pk=1).update(**increment):
            return
        _, created = cls.objects.get_or_create(pk=1, defaults={"version": 1})
        if not created:  # another process made the row meanwhile
            cls.objects.filter(pk=1).update(**increment)

    @classmethod
    def read(cls) -> int:
        return cls.objects.filter(pk=1).values_list("version", flat=True).first() or 0
