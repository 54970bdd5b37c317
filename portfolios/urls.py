from django.urls import path

from portfolios import views

app_name = "portfolios"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("tax/", views.tax, name="tax"),
]
