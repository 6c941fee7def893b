from __future__ import annotations

from audit.api.views import AuditEventViewSet
from gatewaylib.api import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("audit", AuditEventViewSet, basename="audit-event")

urlpatterns = router.urls
