from __future__ import annotations

from audit.api.views import AuditEventViewSet
from gateway_site.api import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("audit", AuditEventViewSet, basename="audit-event")

urlpatterns = router.urls
