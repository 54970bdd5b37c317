from django.urls import path

from portfolios.wallets import views

app_name = "wallets"

urlpatterns = [
    path("portfolio/<int:portfolio_id>/", views.wallet_list, name="list"),
    path("<int:wallet_id>/", views.wallet_detail, name="detail"),
    path("<int:wallet_id>/sync/", views.wallet_sync, name="sync"),
    path("<int:wallet_id>/delete/", views.wallet_delete, name="delete"),
]
