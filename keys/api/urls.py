from __future__ import annotations

from gatewaylib.api import OptionalSlashRouter
from keys.api.views import KeyViewSet

router = OptionalSlashRouter()
router.register("keys", KeyViewSet, basename="key")

urlpatterns = router.urls
