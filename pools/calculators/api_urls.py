"""/api/v1/calculators/ (included from config/api/urls.py)."""

from django.urls import path

from pools.calculators import api

urlpatterns = [
    path("impermanent-loss/", api.ImpermanentLossView.as_view(), name="api-calculators-impermanent-loss"),
    path("apy/", api.ApyView.as_view(), name="api-calculators-apy"),
    path("break-even/", api.BreakEvenView.as_view(), name="api-calculators-break-even"),
]
