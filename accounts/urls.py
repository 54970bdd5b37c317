from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("settings/", views.settings_view, name="settings"),
    path("settings/sessions/<int:session_id>/end/", views.session_end_view, name="session_end"),
    path("settings/api-token/revoke/", views.legacy_token_revoke_view, name="legacy_token_revoke"),
    path("resend-verification/", views.resend_verification, name="resend_verification"),
]
