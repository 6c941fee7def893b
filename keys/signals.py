"""Signals other apps listen to, so keys need not import them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after a key's secret or provider changed (kwargs: key). Endpoints using
# it bump their config_version so every proxy process rebuilds its Router.
key_changed = Signal()
