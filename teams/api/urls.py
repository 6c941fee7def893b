from __future__ import annotations

from gatewaylib.api import OptionalSlashRouter
from teams.api.views import TeamViewSet

router = OptionalSlashRouter()
router.register("teams", TeamViewSet, basename="team")

urlpatterns = router.urls
