from django.apps import AppConfig


class TaxConfig(AppConfig):
    """Tax reports: a Django app inside portfolios, with the pure engine in ``engine/``."""

    name = "portfolios.tax"
    label = "tax"
    verbose_name = "Tax reports"
