"""Bookkeeping for endpoints saved by the Django admin's own forms.

The admin writes the endpoint row and its model rows through a ModelForm and an
inline formset, after checking the whole model set with
``validation.validate_models`` (the rule the API applies). What must follow any
save is the same as in ``services.create_endpoint`` / ``services.update_endpoint``:
the creator manages a new endpoint, a change bumps ``config_version`` so running
proxies rebuild their Router, and both leave a Revision and an AuditEvent. This
module holds that step, built from the services' own helpers, so the admin does
not write those rules a second time.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from audit import services as audit
from endpoints.models import Endpoint, Revision
from endpoints.services import _bump, _comparable, _record_revision, snapshot
from sharing import services as sharing


@transaction.atomic
def record_saved_endpoint(endpoint: Endpoint, *, actor: Any, before: dict[str, Any] | None) -> Revision | None:
    """Record an endpoint the admin has just saved, models included.

    ``before`` is ``services.snapshot(endpoint)`` taken before the save, or
    None when the endpoint is new. Returns the new revision, or None when the
    save changed nothing (then nothing is bumped or recorded, as in
    ``update_endpoint``).
    """
    if before is None:
        sharing.grant_creator(endpoint, actor)
        revision = _record_revision(endpoint, actor, note="created in the admin")
        audit.record(actor, "create", endpoint, {"after": revision.config})
        return revision
    after = snapshot(endpoint)
    if _comparable(after) == _comparable(before):
        return None
    _bump(endpoint)
    revision = _record_revision(endpoint, actor, note="changed in the admin")
    audit.record(actor, "update", endpoint, audit.diff(_comparable(before), _comparable(after)))
    return revision
