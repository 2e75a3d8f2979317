from django.urls import path
from rest_framework.routers import SimpleRouter

from renders.api.analyses import AnalysisViewSet
from renders.api.product_image import ProductImageView
from renders.api.views import RenderJobViewSet, WorkerViewSet
from renders.api.webhooks import WebhookViewSet

router = SimpleRouter()
router.register("renders", RenderJobViewSet, basename="render")
router.register("workers", WorkerViewSet, basename="worker")
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register("analyses", AnalysisViewSet, basename="analysis")

urlpatterns = [
    path("products/<str:sku>/image/", ProductImageView.as_view(), name="product-image"),
    *router.urls,
]
