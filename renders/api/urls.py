from rest_framework.routers import SimpleRouter

from renders.api.views import RenderJobViewSet, WorkerViewSet

router = SimpleRouter()
router.register("renders", RenderJobViewSet, basename="render")
router.register("workers", WorkerViewSet, basename="worker")

urlpatterns = router.urls
