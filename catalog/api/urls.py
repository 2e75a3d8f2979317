from rest_framework.routers import SimpleRouter

from catalog.api.views import ColorViewSet, ProductViewSet, RecipeViewSet

router = SimpleRouter()
router.register("colors", ColorViewSet, basename="color")
router.register("products", ProductViewSet, basename="product")
router.register("recipes", RecipeViewSet, basename="recipe")

urlpatterns = router.urls
