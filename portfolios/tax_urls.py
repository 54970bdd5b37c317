"""/tax/: request a report, see it, download its files."""

from django.urls import path

from portfolios import tax_views

app_name = "tax"

urlpatterns = [
    path("", tax_views.home, name="home"),
    path("reports/<int:report_id>/", tax_views.report, name="report"),
    path("reports/<int:report_id>/rebuild/", tax_views.rebuild, name="rebuild"),
    path("reports/<int:report_id>/download/<str:kind>/", tax_views.download, name="download"),
]
