from __future__ import annotations

from django.apps import apps
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from audit import services
from audit.api.filters import AuditEventFilterSet
from audit.api.serializers import AuditEventSerializer
from audit.models import AuditEvent
from sharing.api import HEX_ID_REGEX

# The shareable models whose events a user may see when they can READ the object.
SHARED_MODELS = ("keys.Key", "endpoints.Endpoint")


@extend_schema_view(list=extend_schema(summary="The audit trail of the objects you can read"))
class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = AuditEvent.objects.none()
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet
    lookup_value_regex = HEX_ID_REGEX

    def get_queryset(self):
        models = []
        for label in SHARED_MODELS:
            try:
                models.append(apps.get_model(label))
            except LookupError:
                continue
        return services.visible_events(self.request.user, models)
