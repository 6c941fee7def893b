from __future__ import annotations

from gatewaylib.api import OptionalSlashRouter
from tokens.api.views import GatewayTokenViewSet

app_name = "tokens-api"

router = OptionalSlashRouter()
router.register("tokens", GatewayTokenViewSet, basename="token")

urlpatterns = router.urls
