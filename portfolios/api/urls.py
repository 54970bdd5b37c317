"""/api/v1/portfolios/, positions/, transactions/ (authenticated; the user's own data)."""

from rest_framework.routers import SimpleRouter

from portfolios.api import views

router = SimpleRouter()
router.register("portfolios", views.PortfolioViewSet, basename="portfolio")
router.register("positions", views.PositionViewSet, basename="position")
router.register("transactions", views.TransactionViewSet, basename="transaction")

urlpatterns = router.urls
