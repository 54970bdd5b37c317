"""/api/v1/tax-reports/ (authenticated; the user's own reports)."""

from rest_framework.routers import SimpleRouter

from portfolios.tax.api.views import TaxReportViewSet

router = SimpleRouter()
router.register("tax-reports", TaxReportViewSet, basename="tax-report")

urlpatterns = router.urls
