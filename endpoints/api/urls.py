from __future__ import annotations

from endpoints.api.views import EndpointModelViewSet, EndpointViewSet, RequestLogViewSet
from gatewaylib.api import OptionalSlashRouter
from sharing.api import HEX_ID_REGEX

router = OptionalSlashRouter()
router.register("endpoints", EndpointViewSet, basename="endpoint")
router.register(rf"endpoints/(?P<endpoint_pk>{HEX_ID_REGEX})/models", EndpointModelViewSet, basename="endpoint-model")
router.register(rf"endpoints/(?P<endpoint_pk>{HEX_ID_REGEX})/requests", RequestLogViewSet, basename="endpoint-request")

urlpatterns = router.urls
