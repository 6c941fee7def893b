from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from audit import services
from audit.api.serializers import AuditEventSerializer
from audit.filters import AuditEventFilterSet
from audit.models import AuditEvent
from sharing.api import HEX_ID_REGEX


@extend_schema_view(list=extend_schema(summary="The audit trail of the objects you can read"))
class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = AuditEvent.objects.none()
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet
    lookup_value_regex = HEX_ID_REGEX

    def get_queryset(self):
        # The same rule as the audit page: events on objects the caller can READ.
        return services.visible_events(self.request.user)
