"""/api/v1/pools/, chains/, protocols/, tokens/: public, read-only pool data."""

from rest_framework.routers import SimpleRouter

from pools.api import views

router = SimpleRouter()
router.register("pools", views.PoolViewSet, basename="pool")
router.register("chains", views.ChainViewSet, basename="chain")
router.register("protocols", views.ProtocolViewSet, basename="protocol")
router.register("tokens", views.TokenViewSet, basename="token")

urlpatterns = router.urls
