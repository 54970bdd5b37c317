"""/api/v1/wallets/ and /api/v1/wallet-syncs/ (authenticated; the user's own wallets)."""

from rest_framework.routers import SimpleRouter

from portfolios.wallets.api.views import WalletSyncViewSet, WalletViewSet

router = SimpleRouter()
router.register("wallets", WalletViewSet, basename="wallet")
router.register("wallet-syncs", WalletSyncViewSet, basename="wallet-sync")

urlpatterns = router.urls
