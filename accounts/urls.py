from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("settings/", views.settings_view, name="settings"),
    path("resend-verification/", views.resend_verification, name="resend_verification"),
]
