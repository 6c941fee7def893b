from __future__ import annotations

from gatewaylib.api import OptionalSlashRouter
from scorers.api.views import ScorerViewSet

router = OptionalSlashRouter()
router.register("scorers", ScorerViewSet, basename="scorer")

urlpatterns = router.urls
