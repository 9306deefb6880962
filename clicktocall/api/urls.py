"""The API's URLs, included under ``api/v1/`` by the app's URLconf."""

from rest_framework.routers import SimpleRouter

from .views import AttemptViewSet, LineViewSet

router = SimpleRouter()
router.register("lines", LineViewSet, basename="api-line")
router.register("attempts", AttemptViewSet, basename="api-attempt")

urlpatterns = router.urls
