"""Business rules for provider keys. The API, the UI, the admin and commands call these."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone

from audit import services as audit
from catalog import services as catalog
from endpoints import probes
from gatewaylib import netguard
from gatewaylib.errors import Conflict
from keys import aws, crypto
from keys.models import DESTINATION_FIELDS, PROJECT_PARAMS, REGION_PARAMS, Key
from keys.signals import key_changed
from sharing import services as sharing

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

MAX_SECRET_LENGTH = 64 * 1024  # large enough for a cloud service-account JSON


def clean_secret(value: str, provider: str = "") -> str:
    """Normalise and check a secret, with messages that never echo it.

    Only a self-hosted server's key may have an empty secret.
    """
    if not isinstance(value, str):
        raise ValidationError("The secret must be a string.")
    value = value.strip()
    if not value and not catalog.is_self_hosted(provider):
        raise ValidationError("The secret may not be empty.")
    if len(value) > MAX_SECRET_LENGTH:
        raise ValidationError(f"The secret may be at most {MAX_SECRET_LENGTH} characters.")
    if "\x00" in value:
        raise ValidationError("The secret contains a NUL character.")
    if provider in aws.PROVIDERS and value.startswith("{") and aws.AwsCredentials.from_secret(value) is None:
        raise ValidationError(
            "A Bedrock key's secret is a Bedrock API key; enter an AWS access key in its own fields "
            "(access key id, secret access key, session token)."
        )
    return value


def summary(key: Key) -> dict[str, str]:
    """The audit-safe description of a key: public fields, its destination and the masked hint only."""
    return {
        "name": key.name,
        "description": key.description,
        **key.destination(),
        "masked_secret": key.masked_secret,
    }


def clean_provider(value: str) -> str:
    if not catalog.is_provider(value):
        raise ValidationError(catalog.unknown_provider_message(value))
    return value


# What each destination field may look like: no spaces, no control characters,
# nothing a header or URL could be bent with.
_TOKEN = re.compile(r"^[A-Za-z0-9._:/-]+$")
_FIELD_LIMITS = {"api_version": 64, "organization": 200, "region": 64, "project": 200}


def _clean_api_base(provider: str, value: str, stored: str = "") -> str:
    if not value:
        if catalog.requires_api_base(provider):
            raise ValidationError(f"A {provider} key needs the API base URL of its server.")
        return ""
    if len(value) > 2000 or any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValidationError("Enter a URL of at most 2000 characters, without control characters.")
    if value == stored:
        return value  # checked when it was saved; the proxy checks again at every connection
    try:
        netguard.check_url(value)
    except netguard.UnsafeAddress as exc:
        raise ValidationError(str(exc)) from None
    return value


def _clean_token(field: str, provider: str, value: str) -> str:
    if not value:
        return ""
    if field == "region" and provider not in REGION_PARAMS:
        raise ValidationError(f"A region applies to {', '.join(sorted(REGION_PARAMS))} keys only.")
    if field == "project" and provider not in PROJECT_PARAMS:
        raise ValidationError(f"A project applies to {', '.join(sorted(PROJECT_PARAMS))} keys only.")
    if len(value) > _FIELD_LIMITS[field] or not _TOKEN.match(value):
        raise ValidationError(
            f"Use at most {_FIELD_LIMITS[field]} letters, digits and . _ : / - (no spaces or control characters)."
        )
    return value


def clean_destination(provider: str, fields: dict[str, str], stored_api_base: str = "") -> dict[str, str]:
    """Check a key's connection fields for ``provider``; every problem is reported under its field."""
    cleaned, errors = {}, {}
    for field in ("api_base", *_FIELD_LIMITS):
        value = (fields.get(field) or "").strip()
        try:
            cleaned[field] = (
                _clean_api_base(provider, value, stored_api_base)
                if field == "api_base"
                else _clean_token(field, provider, value)
            )
        except ValidationError as exc:
            errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


def _checked(field: str, check, *args):
    """Run a field check, reporting its error under ``field``."""
    try:
        return check(*args)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None


def check_key(
    stored: Key | None, *, secret: str | None, viewer: AbstractBaseUser | None = None, **fields: str
) -> tuple[dict[str, str], str | None]:
    """Check a new key (``stored`` None) or a change to ``stored``; return the cleaned fields and secret.

    The one place the rules of a key's provider, destination and secret are
    written; ``create_key``/``update_key`` and the forms (so the admin can
    show the errors before it saves) call it. Changing where the secret goes
    (any of ``DESTINATION_FIELDS``) needs the secret in the same call:
    holding EDIT on a key must not be enough to send its stored secret
    somewhere new (a real bug of this kind in MLflow's gateway sent the
    stored key to an edited ``api_base``). ``viewer`` (who asks) decides which
    endpoints a refusal may name.
    """
    current = stored.destination() if stored is not None else dict.fromkeys(DESTINATION_FIELDS, "")
    access_key = {name: fields.pop(name) for name in aws.FIELDS if name in fields}
    provider = _checked("provider", clean_provider, fields.get("provider", current["provider"]))
    destination = clean_destination(provider, {**current, **fields}, stored_api_base=current["api_base"])
    cleaned = {**fields, **destination, "provider": provider}
    if (composed := aws.compose(provider, access_key)) is not None:
        if secret:
            raise ValidationError({"secret": ["Enter either a secret or an AWS access key, not both."]})
        secret = composed
    if secret is not None or stored is None:
        secret = _checked("secret", clean_secret, secret or "", provider)
    if stored is not None:
        moved = [field for field in DESTINATION_FIELDS if cleaned.get(field, current[field]) != current[field]]
        _check_destination_change(stored, provider, moved, secret, viewer)
    return cleaned, secret


def _check_destination_change(
    stored: Key, provider: str, moved: list[str], secret: str | None, viewer: AbstractBaseUser | None
) -> None:
    if moved and secret is None and stored.has_secret:
        raise ValidationError(
            {"secret": [f"Re-enter the secret to change where this key sends it ({', '.join(moved)})."]}
        )
    if secret is None and not stored.has_secret and not catalog.is_self_hosted(provider):
        raise ValidationError({"secret": [f"A {provider} key needs a secret."]})
    if "provider" in moved and stored.endpoint_models.exists():
        # The endpoints' models were chosen for the old provider's catalog.
        users = _in_use_by(stored, viewer)
        message = f"This key is used by {users}; move those models to another key before changing its provider."
        raise ValidationError({"provider": [message]})


def _in_use_by(key: Key, viewer: AbstractBaseUser | None) -> str:
    """The endpoints using ``key``, for a refusal: those ``viewer`` may see by name, the others only counted."""
    visible, hidden = endpoints_using(key, viewer)
    if not visible:
        return f"{hidden} endpoint{pluralize(hidden)}" + (" you cannot see" if viewer is not None else "")
    names = [f"“{endpoint.name}”" for endpoint in visible] + ([f"{hidden} you cannot see"] if hidden else [])
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"endpoint{pluralize(len(visible) + hidden)} {listed}"


@transaction.atomic
def create_key(*, actor: AbstractBaseUser, secret: str, **fields: str) -> Key:
    fields, secret = check_key(None, secret=secret, **fields)
    key = Key(**fields)
    key.created_by = actor
    key.set_secret(secret)
    key.full_clean(exclude=["secret_ciphertext", "masked_secret"])
    key.save()
    sharing.grant_creator(key, actor)
    audit.record(actor, "create", key, {"after": summary(key)})
    # Said once it is true: a dry-run import creates keys in a transaction it rolls back.
    transaction.on_commit(
        lambda: logger.info("key created id=%s provider=%s by=%s", key.public_id, key.provider, actor.pk)
    )
    return key


@transaction.atomic
def update_key(key: Key, *, actor: AbstractBaseUser, secret: str | None = None, **changes: str) -> Key:
    """Change a key's fields; a ``secret`` replaces the stored one (see ``check_key`` for the rules)."""
    key = Key.objects.select_for_update().get(pk=key.pk)
    before, stored = summary(key), key.destination()
    changes, secret = check_key(key, secret=secret, viewer=actor, **changes)
    for field, value in changes.items():
        setattr(key, field, value)
    if secret is not None:
        key.set_secret(secret)
        key.last_rotated_at = timezone.now()
    key.full_clean(exclude=["secret_ciphertext", "masked_secret"])
    key.save()
    if secret is not None or key.destination() != stored:
        key_changed.send(sender=Key, key=key)
    changes = audit.diff(before, summary(key))
    if secret is not None:
        changes["secret"] = "replaced"
    audit.record(actor, "update", key, changes)
    logger.info("key updated id=%s fields=%s by=%s", key.public_id, sorted(changes), actor.pk)
    return key


def endpoints_using(key: Key, viewer: AbstractBaseUser | None) -> tuple[list, int]:
    """The endpoints using ``key`` that ``viewer`` can see, and how many others use it.

    Only visible endpoints are named, so a key's usage never reveals the
    existence of an endpoint the viewer cannot READ (with no viewer, none is named).
    """
    from endpoints.models import Endpoint

    using = Endpoint.objects.filter(models__key=key).distinct()
    visible = list(using.visible_to(viewer).order_by("name")) if viewer is not None else []
    return visible, using.count() - len(visible)


@transaction.atomic
def delete_key(key: Key, *, actor: AbstractBaseUser) -> None:
    visible, hidden = endpoints_using(key, actor)
    if visible or hidden:
        raise Conflict(
            {
                "detail": "This key is used by endpoints; remove it from them first.",
                "endpoints": [endpoint.name for endpoint in visible],
                "hidden_endpoints": hidden,
            }
        )
    logger.info("key deleted id=%s by=%s", key.public_id, actor.pk)
    audit.record(actor, "delete", key, {"before": summary(key)})
    key.delete()


def rotate_all(*, actor: AbstractBaseUser | None = None, batch_size: int = 500) -> int:
    """Re-encrypt every stored secret under the newest encryption key.

    Each row is rotated in its own short transaction with a row lock, so a
    concurrent secret replacement is never overwritten with a stale value.
    A row that no configured key decrypts stops the run with an error naming
    the key id (never the secret): removing the old key then would lose it.
    """
    rotated = 0
    ids = list(Key.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        for pk in ids[start : start + batch_size]:
            with transaction.atomic():
                key = Key.objects.select_for_update().filter(pk=pk).first()
                if key is None:
                    continue  # deleted meanwhile
                try:
                    key.secret_ciphertext = crypto.rotate(key.secret_ciphertext)
                except crypto.SecretDecryptionError:
                    raise crypto.SecretDecryptionError(
                        f"Key {key.public_id} ({key.name!r}) cannot be decrypted with any configured key; "
                        "nothing after it was rotated."
                    ) from None
                key.last_rotated_at = timezone.now()
                key.save(update_fields=["secret_ciphertext", "last_rotated_at"])
                audit.record(actor, "rotate", key, {"encryption": "re-encrypted under the newest key"})
                rotated += 1
    return rotated


def test_connection(key: Key, *, actor: AbstractBaseUser) -> probes.Result:
    """Check that ``key`` is accepted at its destination by listing its models (never a billed call).

    The caller needs USE on the key (whoever may send traffic with it may
    check it); the request goes through the proxy's guarded egress, and the
    result's message never contains the secret.
    """
    try:
        params = key.litellm_connection()
    except crypto.SecretDecryptionError:
        return probes.Result(key.provider, probes.FAILED, "The secret cannot be decrypted with the configured keys.")
    secrets = key.secret_parts() if key.has_secret else ()
    result = probes.probe_key(key.provider, params, secrets)
    logger.info("key tested id=%s outcome=%s by=%s", key.public_id, result.outcome, actor.pk)
    return result
