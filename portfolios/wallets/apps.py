from django.apps import AppConfig


class WalletsConfig(AppConfig):
    """Wallet sync from EVM chains: a Django app inside portfolios, the pure chain layer in ``chain/``."""

    name = "portfolios.wallets"
    label = "wallets"
    verbose_name = "Wallets"

    def ready(self) -> None:
        # Syncs whose worker dies are failed and queued again by config.tasks.reap_stale_work.
        from config.heartbeat import register
        from portfolios.wallets.services.reaping import STALE_WALLET_SYNCS

        register(STALE_WALLET_SYNCS)
