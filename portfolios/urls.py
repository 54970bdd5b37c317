from django.urls import path

from portfolios import views

app_name = "portfolios"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("tax/", views.tax, name="tax"),
    # Portfolios
    path("new/", views.portfolio_create, name="portfolio_create"),
    path("<int:portfolio_id>/", views.portfolio_detail, name="portfolio_detail"),
    path("<int:portfolio_id>/edit/", views.portfolio_edit, name="portfolio_edit"),
    path("<int:portfolio_id>/delete/", views.portfolio_delete, name="portfolio_delete"),
    path("<int:portfolio_id>/import/", views.portfolio_import, name="portfolio_import"),
    path("<int:portfolio_id>/export.csv", views.portfolio_export, name="portfolio_export"),
    path("<int:portfolio_id>/transactions/", views.transaction_list, name="transaction_list"),
    path("<int:portfolio_id>/transactions/new/", views.transaction_create, name="transaction_create"),
    # Positions
    path("positions/new/", views.position_create, name="position_create"),
    path("positions/<int:position_id>/", views.position_detail, name="position_detail"),
    path("positions/<int:position_id>/add/", views.position_add_liquidity, name="position_add_liquidity"),
    path("positions/<int:position_id>/remove/", views.position_remove_liquidity, name="position_remove_liquidity"),
    path("positions/<int:position_id>/stake/", views.position_stake, name="position_stake"),
    path("positions/<int:position_id>/unstake/", views.position_unstake, name="position_unstake"),
    path("positions/<int:position_id>/claim/", views.position_claim_rewards, name="position_claim_rewards"),
    path("positions/<int:position_id>/close/", views.position_close, name="position_close"),
    path("positions/<int:position_id>/amounts/", views.position_override_amounts, name="position_override_amounts"),
    # Transactions
    path("transactions/<int:transaction_id>/edit/", views.transaction_edit, name="transaction_edit"),
    path("transactions/<int:transaction_id>/delete/", views.transaction_delete, name="transaction_delete"),
]
