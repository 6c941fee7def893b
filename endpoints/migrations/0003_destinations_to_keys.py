"""Move each endpoint model's destination (api_base, api_version, region, ...) onto its key.

Until now a model could say where its key's secret went; from now on only the
key does. For each key:

- the destination its models share (or, when they differ, the one most of
  them use) moves onto the key itself;
- every other destination gets its own copy of the key (same encrypted
  secret, same grants, named "<key> (<host>)") and its models are re-pointed
  to it, so every running endpoint keeps calling exactly what it called;
- revisions are rewritten the same way, so restoring one still works and can
  never bring a destination back onto a model.

Running endpoints get a new config_version (their Routers are rebuilt with
the same deployments). Every step is written to the audit trail as the
"system" actor and printed.

The rules are written out here rather than imported: a migration must keep
doing what it did when it was written.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from urllib.parse import urlsplit

from django.db import migrations
from django.db.models import F

# Model parameter -> key field, as the key now stores them.
MOVED = {
    "api_base": "api_base",
    "base_url": "api_base",
    "api_version": "api_version",
    "organization": "organization",
    "region_name": "region",
    "aws_region_name": "region",
    "vertex_location": "region",
    "vertex_project": "project",
}
KEY_FIELDS = ("api_base", "api_version", "organization", "region", "project")


def _destination(params: dict) -> tuple[tuple[str, str], ...]:
    found = {}
    for param, field in MOVED.items():
        value = params.get(param)
        if isinstance(value, str) and value.strip():
            found.setdefault(field, value.strip())
    return tuple(sorted(found.items()))


def _strip(params: dict) -> dict:
    return {name: value for name, value in (params or {}).items() if name not in MOVED}


def _label(destination: tuple[tuple[str, str], ...]) -> str:
    fields = dict(destination)
    if fields.get("api_base"):
        return urlsplit(fields["api_base"]).netloc or fields["api_base"]
    return ", ".join(f"{name} {value}" for name, value in destination) or "provider default"


def _audit(AuditEvent, action: str, key, changes: dict) -> None:
    AuditEvent.objects.create(
        actor=None,
        actor_name="system",
        action=action,
        object_type="key",
        object_id=key.pk,
        object_name=key.name[:200],
        changes=changes,
    )


def _copy_key(apps, key, destination, name: str):
    Key = apps.get_model("keys", "Key")
    UserPerm = apps.get_model("keys", "KeyUserObjectPermission")
    GroupPerm = apps.get_model("keys", "KeyGroupObjectPermission")
    copy = Key.objects.create(
        id=uuid.uuid4(),
        name=name[:100],
        provider=key.provider,
        secret_ciphertext=key.secret_ciphertext,
        masked_secret=key.masked_secret,
        description=key.description,
        created_by_id=key.created_by_id,
        last_rotated_at=key.last_rotated_at,
        **{**dict.fromkeys(KEY_FIELDS, ""), **dict(destination)},
    )
    UserPerm.objects.bulk_create(
        UserPerm(content_object=copy, user_id=row.user_id, permission_id=row.permission_id)
        for row in UserPerm.objects.filter(content_object=key)
    )
    GroupPerm.objects.bulk_create(
        GroupPerm(content_object=copy, group_id=row.group_id, permission_id=row.permission_id)
        for row in GroupPerm.objects.filter(content_object=key)
    )
    return copy


def _split_key(apps, key, report: list[str]) -> dict:
    """Give ``key`` one destination and copies for the others; return destination -> key."""
    EndpointModel = apps.get_model("endpoints", "EndpointModel")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    by_destination = defaultdict(list)
    for model in EndpointModel.objects.filter(key=key).order_by("created_at"):
        by_destination[_destination(model.litellm_params)].append(model)
    targets = {}
    ranked = sorted(by_destination.items(), key=lambda item: (-len(item[1]), item[0]))
    for position, (destination, models) in enumerate(ranked):
        if position == 0:
            target = key
            if destination:
                for field, value in destination:
                    setattr(key, field, value)
                key.save(update_fields=[field for field, _ in destination])
                _audit(AuditEvent, "update", key, {"destination": dict(destination), "migration": "moved from its endpoint models"})
                report.append(f"key {key.name!r}: destination {_label(destination)} moved from its models onto the key")
        else:
            target = _copy_key(apps, key, destination, f"{key.name} ({_label(destination)})")
            _audit(
                AuditEvent,
                "create",
                target,
                {"destination": dict(destination), "migration": f"copy of key {key.name!r} ({key.pk.hex}) for a second destination"},
            )
            report.append(f"key {key.name!r}: new key {target.name!r} ({target.pk.hex}) for {_label(destination)}, used by {len(models)} model(s)")
        for model in models:
            model.key = target
            model.litellm_params = _strip(model.litellm_params)
            model.save(update_fields=["key", "litellm_params"])
        targets[destination] = target
    return targets


def _rewrite_revisions(apps, targets_by_key: dict, report: list[str]) -> None:
    Revision = apps.get_model("endpoints", "Revision")
    for revision in Revision.objects.all():
        config, changed = revision.config, False
        for model in config.get("models", []):
            params = model.get("litellm_params") or {}
            destination = _destination(params)
            targets = targets_by_key.get(model.get("key_id"), {})
            if destination in targets:
                model["key_id"] = targets[destination].pk.hex
            elif destination:
                # A destination no current model uses: restoring this revision
                # now sends the secret where the key points, never elsewhere.
                report.append(
                    f"revision {revision.number} of endpoint {revision.endpoint_id.hex}: dropped destination "
                    f"{_label(destination)} (no current model uses it)"
                )
            if destination or any(name in MOVED for name in params):
                model["litellm_params"] = _strip(params)
                changed = True
        if changed:
            revision.config = config
            revision.save(update_fields=["config"])


def forwards(apps, schema_editor):
    Key = apps.get_model("keys", "Key")
    Endpoint = apps.get_model("endpoints", "Endpoint")
    EndpointModel = apps.get_model("endpoints", "EndpointModel")
    report: list[str] = []
    targets_by_key = {key.pk.hex: _split_key(apps, key, report) for key in Key.objects.order_by("created_at")}
    _rewrite_revisions(apps, targets_by_key, report)
    affected = EndpointModel.objects.values_list("endpoint_id", flat=True).distinct()
    Endpoint.objects.filter(pk__in=list(affected)).update(config_version=F("config_version") + 1)
    for line in report:
        print(f"  destinations: {line}")


class Migration(migrations.Migration):
    dependencies = [
        ("endpoints", "0002_state_version"),
        ("keys", "0002_key_destination"),
        ("audit", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
