"""/tax/: request a report, see it, download its files."""

from django.urls import path

from portfolios.tax import views

app_name = "tax"

urlpatterns = [
    path("", views.home, name="home"),
    path("reports/<int:report_id>/", views.report, name="report"),
    path("reports/<int:report_id>/rebuild/", views.rebuild, name="rebuild"),
    path("reports/<int:report_id>/download/<str:kind>/", views.download, name="download"),
]
