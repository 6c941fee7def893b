from __future__ import annotations

from rest_framework import serializers

from audit.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    """One audit event; ``changes`` is a secret-free before/after summary."""

    id = serializers.CharField(source="id.hex", read_only=True)
    actor = serializers.CharField(source="actor_name", read_only=True)
    object_id = serializers.CharField(source="object_id.hex", read_only=True)

    class Meta:
        model = AuditEvent
        fields = ["id", "created_at", "actor", "action", "object_type", "object_id", "object_name", "changes"]
        read_only_fields = fields
