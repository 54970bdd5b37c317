"""Every non-trivial read of the portfolios app (views read nothing themselves).

* ``access``: one access-checked getter per type (``portfolio_get_for_user``,
  ``position_get_for_user``, ``transaction_get_for_user``: 404 for anything
  that is not the user's) and the lists of a user's or a portfolio's rows;
* ``positions``: small reads of one position (its tokens, the user's own
  amounts, what went in over its deposits);
* ``tokens``: which token a symbol means, stored prices, stale prices;
* ``loader``: the bulk valuation loader (a constant number of queries for any
  number of portfolios and positions);
* ``summaries``: portfolio, user and position figures built on the loader and
  the pure ``portfolios.analytics``;
* ``cached``: the same figures "now" through the summary cache (the dashboard, the API's
  summary), keyed on each portfolio's ledger version.

The public names are re-exported here: ``from portfolios.selectors import ...``.
"""

from portfolios.selectors.access import (
    HistoryPoint,
    RequestUser,
    portfolio_get_for_user,
    portfolio_ids_all,
    portfolio_list_for_user,
    portfolio_value_history,
    portfolios_value_history,
    position_get_for_user,
    positions_for_portfolio,
    positions_for_user,
    transaction_get_for_user,
    transactions_for_portfolio,
    transactions_for_user,
    transactions_hidden_count,
)
from portfolios.selectors.cached import (
    DashboardFigures,
    Digest,
    UserSummary,
    portfolio_dashboard_now,
    portfolio_summaries_now,
    portfolio_summary_now,
    user_summary,
)
from portfolios.selectors.loader import day_close
from portfolios.selectors.positions import Deposits, position_amount_overrides, position_deposits, position_tokens
from portfolios.selectors.summaries import (
    PositionReport,
    portfolio_summaries,
    portfolio_summaries_at_closes,
    portfolio_summary,
    position_analytics,
    position_data,
    position_report,
    position_value_series,
)
from portfolios.selectors.tokens import stale_tokens, token_for_symbol, token_usd_price_stored_at

__all__ = [
    "DashboardFigures",
    "Deposits",
    "Digest",
    "HistoryPoint",
    "PositionReport",
    "RequestUser",
    "UserSummary",
    "day_close",
    "portfolio_dashboard_now",
    "portfolio_get_for_user",
    "portfolio_ids_all",
    "portfolio_list_for_user",
    "portfolio_summaries",
    "portfolio_summaries_at_closes",
    "portfolio_summaries_now",
    "portfolio_summary",
    "portfolio_summary_now",
    "portfolio_value_history",
    "portfolios_value_history",
    "position_amount_overrides",
    "position_analytics",
    "position_data",
    "position_deposits",
    "position_get_for_user",
    "position_report",
    "position_tokens",
    "position_value_series",
    "positions_for_portfolio",
    "positions_for_user",
    "stale_tokens",
    "token_for_symbol",
    "token_usd_price_stored_at",
    "transaction_get_for_user",
    "transactions_for_portfolio",
    "transactions_for_user",
    "transactions_hidden_count",
    "user_summary",
]
