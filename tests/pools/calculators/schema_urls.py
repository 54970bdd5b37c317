"""Only the calculator API, so a schema check reports warnings about these views alone."""

from django.urls import include, path

urlpatterns = [
    path("api/v1/calculators/", include("pools.calculators.api_urls")),
]
