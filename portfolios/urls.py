from django.urls import path

from portfolios.views import dashboard, imports, portfolios, positions, transactions

app_name = "portfolios"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("tax/", dashboard.tax, name="tax"),
    # Portfolios
    path("new/", portfolios.portfolio_create, name="portfolio_create"),
    path("<int:portfolio_id>/", dashboard.portfolio_detail, name="portfolio_detail"),
    path("<int:portfolio_id>/edit/", portfolios.portfolio_edit, name="portfolio_edit"),
    path("<int:portfolio_id>/delete/", portfolios.portfolio_delete, name="portfolio_delete"),
    path("<int:portfolio_id>/import/", imports.portfolio_import, name="portfolio_import"),
    path("<int:portfolio_id>/export.csv", imports.portfolio_export, name="portfolio_export"),
    path("<int:portfolio_id>/transactions/", transactions.transaction_list, name="transaction_list"),
    path("<int:portfolio_id>/transactions/new/", transactions.transaction_create, name="transaction_create"),
    # Positions
    path("positions/new/", positions.position_create, name="position_create"),
    path("positions/<int:position_id>/", positions.position_detail, name="position_detail"),
    path("positions/<int:position_id>/add/", positions.position_add_liquidity, name="position_add_liquidity"),
    path("positions/<int:position_id>/remove/", positions.position_remove_liquidity, name="position_remove_liquidity"),
    path("positions/<int:position_id>/stake/", positions.position_stake, name="position_stake"),
    path("positions/<int:position_id>/unstake/", positions.position_unstake, name="position_unstake"),
    path("positions/<int:position_id>/claim/", positions.position_claim_rewards, name="position_claim_rewards"),
    path("positions/<int:position_id>/close/", positions.position_close, name="position_close"),
    path("positions/<int:position_id>/amounts/", positions.position_override_amounts, name="position_override_amounts"),
    # Transactions
    path("transactions/<int:transaction_id>/edit/", transactions.transaction_edit, name="transaction_edit"),
    path("transactions/<int:transaction_id>/delete/", transactions.transaction_delete, name="transaction_delete"),
]
