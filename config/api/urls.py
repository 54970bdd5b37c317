"""/api/v1/: each app contributes its own routes from <app>/api/urls.py."""

from django.urls import include, path

from config.api import extensions  # noqa: F401 - registers the OpenAPI extensions before any schema is built

urlpatterns = [
    path("", include("accounts.api.urls")),
    path("", include("pools.api.urls")),
    path("", include("portfolios.api.urls")),
    path("", include("portfolios.tax.api.urls")),
    path("", include("portfolios.wallets.api.urls")),
    path("", include("education.api.urls")),
    path("", include("alerts.api.urls")),
    path("calculators/", include("pools.calculators.api_urls")),
]
