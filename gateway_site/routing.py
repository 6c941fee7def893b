"""WebSocket routes (Channels). Endpoint status pushes are added by the UI."""

from __future__ import annotations

websocket_urlpatterns: list = []
