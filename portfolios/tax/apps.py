from django.apps import AppConfig


class TaxConfig(AppConfig):
    """Tax reports: a Django app inside portfolios, with the pure engine in ``engine/``."""

    name = "portfolios.tax"
    label = "tax"
    verbose_name = "Tax reports"

    def ready(self) -> None:
        # Builds whose worker dies are put back in the queue by config.tasks.reap_stale_work.
        from config.heartbeat import register
        from portfolios.tax.reaping import STALE_TAX_REPORTS

        register(STALE_TAX_REPORTS)
