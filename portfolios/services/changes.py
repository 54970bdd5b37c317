"""What every write of a portfolio's ledger does last: a new ledger version and a revaluation.

The write services (``transactions``, ``positions``, ``portfolios``, ``csv_import``) and
wallet sync call :func:`portfolio_ledger_changed` inside their database transaction, after
their writes. The new ``Portfolio.ledger_version`` commits with the change itself, so a
summary cached under the old version (``selectors.summaries.portfolio_summary_now``) is
never served once the change is visible, and never before it is.
"""

from __future__ import annotations

import uuid

from portfolios.models import Portfolio
from portfolios.tasks import revalue_portfolio as revalue_portfolio_task


def portfolio_ledger_changed(*, portfolio_id: int, revalue: bool = True) -> None:
    """The portfolio's figures changed: give it a new ledger version now (in the caller's
    transaction; the row lock it takes is held until the commit, so concurrent writers of one
    portfolio queue here, at the end of their work) and, with ``revalue``, enqueue its
    revaluation once the change commits."""
    Portfolio.objects.filter(pk=portfolio_id).update(ledger_version=uuid.uuid4())
    if revalue:
        revalue_portfolio_task.delay_on_commit(portfolio_id=portfolio_id)
