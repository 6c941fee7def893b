"""System check: the encryption keys parse, so a typo is caught by ``manage.py check``."""

from __future__ import annotations

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.security)
def check_encryption_keys(app_configs, **kwargs):
    from keys.crypto import get_multifernet

    try:
        get_multifernet()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="keys.E001")]
    return []
