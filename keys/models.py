from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from gatewaylib.validators import no_control_characters, no_control_characters_multiline
from keys import aws, crypto
from keys.aws import PROVIDERS as AWS_PROVIDERS
from keys.aws import AwsCredentials
from sharing.levels import level_permissions
from sharing.models import SharedQuerySet


class KeyQuerySet(SharedQuerySet):
    pass


# The fields that decide where a key's secret is sent, or how it is presented
# there. They belong to the key, not to the endpoints that use it: whoever may
# change them decides who receives the secret, so changing any of them needs
# EDIT on the key and the secret re-entered (keys.services.update_key).
DESTINATION_FIELDS = ("provider", "api_base", "api_version", "organization", "region", "project")

# How ``region`` and ``project`` are named in LiteLLM's parameters, per provider.
REGION_PARAMS = {"bedrock": "aws_region_name", "sagemaker": "aws_region_name", "vertex_ai": "vertex_location"}
PROJECT_PARAMS = {"vertex_ai": "vertex_project", "watsonx": "project_id"}
NO_SECRET = "EMPTY"
# The credentials inside a secret that is a JSON document (an AWS access key, a Google service
# account): each is cut out of replies and log lines on its own, as the whole secret is.
SECRET_JSON_FIELDS = (
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "private_key",
    "private_key_id",
)


class Key(models.Model):
    """A provider credential *and where it may be sent*. The secret is encrypted at rest and never read back.

    Only ``masked_secret`` (``sk-...abcd``) is ever shown. ``secret()``
    decrypts for the one caller that needs it: the code building a provider
    call, which takes the destination from the same row
    (``litellm_connection``), so the secret only ever goes where the key's
    owner pointed it. Self-hosted servers are keys too: their destination is
    the server, and their secret may be empty.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, validators=[no_control_characters])
    provider = models.CharField(max_length=64, help_text="A provider of the catalog, e.g. openai.")
    secret_ciphertext = models.TextField(editable=False)
    masked_secret = models.CharField(max_length=32, editable=False, blank=True)
    api_base = models.CharField(
        "API base URL",
        max_length=2000,
        blank=True,
        help_text="Where the secret is sent: a self-hosted or OpenAI-compatible server, an Azure resource. "
        "Empty: the provider's own API.",
    )
    api_version = models.CharField("API version", max_length=64, blank=True, help_text="Azure OpenAI's api-version.")
    organization = models.CharField(max_length=200, blank=True, help_text="OpenAI organization id.")
    region = models.CharField(max_length=64, blank=True, help_text="AWS region or Vertex AI location.")
    project = models.CharField(max_length=200, blank=True, help_text="Vertex AI or watsonx project.")
    description = models.TextField(blank=True, validators=[no_control_characters_multiline])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_rotated_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = KeyQuerySet.as_manager()

    class Meta:
        ordering = ["name", "created_at"]
        permissions = level_permissions("key")

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        # Never include the ciphertext: reprs end up in logs and tracebacks.
        return f"<Key {self.id.hex} {self.name!r} provider={self.provider!r} secret={self.masked_secret!r}>"

    def get_absolute_url(self) -> str:
        return reverse("keys:key-detail", kwargs={"key_id": self.public_id})

    @property
    def public_id(self) -> str:
        return self.id.hex

    def set_secret(self, plaintext: str) -> None:
        self.secret_ciphertext = crypto.encrypt(plaintext)
        # An AWS access key is known by its id's hint (``AKI...MPLE``), not by the end of its JSON.
        self.masked_secret = crypto.mask(aws.hint_of(plaintext))

    def secret(self) -> str:
        """The decrypted secret; raises ``SecretDecryptionError`` rather than return ciphertext."""
        return crypto.decrypt(self.secret_ciphertext)

    @property
    def has_secret(self) -> bool:
        return bool(self.masked_secret)

    def secret_parts(self) -> tuple[str, ...]:
        """The decrypted secret and each credential inside it, for scrubbing (never log or return this)."""
        secret = self.secret()
        if not secret.startswith("{"):
            return (secret,)
        try:
            document = json.loads(secret)
        except ValueError:
            return (secret,)
        if not isinstance(document, dict):
            return (secret,)
        parts = (document.get(name) for name in SECRET_JSON_FIELDS)
        return (secret, *(part for part in parts if isinstance(part, str) and part))

    def destination(self) -> dict[str, str]:
        """The key's destination fields (no secret): what decides where the secret goes."""
        return {field: getattr(self, field) for field in DESTINATION_FIELDS}

    def litellm_connection(self) -> dict[str, str]:
        """LiteLLM parameters that send this key's secret to this key's destination (decrypts)."""
        params = {"api_base": self.api_base, "api_version": self.api_version, "organization": self.organization}
        if self.provider in REGION_PARAMS:
            params[REGION_PARAMS[self.provider]] = self.region
        if self.provider in PROJECT_PARAMS:
            params[PROJECT_PARAMS[self.provider]] = self.project
        connection = {name: value for name, value in params.items() if value}
        secret = self.secret() if self.has_secret else ""
        if self.provider in AWS_PROVIDERS and (credentials := AwsCredentials.from_secret(secret)) is not None:
            # Signed with the access key; a Bedrock ``api_key`` would be sent as a bearer token instead.
            connection.update(credentials.litellm_params())
            return connection
        # Always pass a credential: without one LiteLLM falls back to the
        # gateway's environment (OPENAI_API_KEY, OLLAMA_API_KEY, ...) and would
        # send the operator's secret to this key's server. "EMPTY" is what
        # vLLM's docs use for a server that checks no key.
        connection["api_key"] = secret or NO_SECRET
        return connection


class KeyUserObjectPermission(UserObjectPermissionBase):
    """Guardian grant of a level on a key to a user (direct FK for indexed joins)."""

    content_object = models.ForeignKey(Key, on_delete=models.CASCADE)


class KeyGroupObjectPermission(GroupObjectPermissionBase):
    """Guardian grant of a level on a key to a group (direct FK for indexed joins)."""

    content_object = models.ForeignKey(Key, on_delete=models.CASCADE)


Key.user_permission_model = KeyUserObjectPermission
Key.group_permission_model = KeyGroupObjectPermission
