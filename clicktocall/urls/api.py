"""The read-only results API (``lines/…``, ``attempts/…``), relative to where it is included."""

from rest_framework.routers import SimpleRouter

from ..api.views import AttemptViewSet, LineViewSet

router = SimpleRouter()
router.register("lines", LineViewSet, basename="api-line")
router.register("attempts", AttemptViewSet, basename="api-attempt")

urlpatterns = router.urls
