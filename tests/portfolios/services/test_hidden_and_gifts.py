"""Hidden transactions and gift categories (issue 12) on real PostgreSQL: the service and database
checks, and a hidden transaction counting nowhere (holdings, value, income, tax inputs, opportunities,
stale prices), with figures worked by hand."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from alerts.opportunities import holdings_for_user
from portfolios.models import Portfolio, Transaction
from portfolios.selectors import portfolio_summary, stale_tokens
from portfolios.services.legs import LegInput
from portfolios.services.positions import position_open
from portfolios.services.transactions import transaction_record, transaction_update
from portfolios.tax.inputs import ledger_fingerprint, tax_ledger_load
from tests.portfolios.conftest import DEPOSIT_AT, at

pytestmark = pytest.mark.django_db
D = Decimal
AS_OF = datetime(2025, 10, 1, 12, tzinfo=UTC)
UNTIL = datetime(2026, 1, 1, tzinfo=UTC)


def _buy(portfolio, eth, **kw):
    return transaction_record(
        portfolio=portfolio,
        kind="buy",
        occurred_at=DEPOSIT_AT,
        legs=[LegInput(asset="USD", quantity="-2000"), LegInput(token=eth, quantity="1")],
        **kw,
    )


def _airdrop(portfolio, crv, source="manual"):
    """1,000 CRV arriving unasked (a spam airdrop): worth 800 at 0.8 that day."""
    return transaction_record(
        portfolio=portfolio,
        kind="transfer_in",
        occurred_at=at("2025-06-01T12:00:00"),
        legs=[LegInput(token=crv, quantity="1000")],
        source=source,
    )


def _reward(portfolio, crv):
    return transaction_record(
        portfolio=portfolio,
        kind="reward",
        income_type="liquidity_mining",
        occurred_at=at("2025-07-01T12:00:00"),
        legs=[LegInput(token=crv, quantity="100")],
    )


# ----------------------------------------------------------------------------- checks


def test_a_category_is_only_for_a_transfer(portfolio, eth, prices):
    with pytest.raises(ValidationError) as err:
        _buy(portfolio, eth, category="gift")
    assert "category" in err.value.message_dict
    gift = transaction_record(
        portfolio=portfolio,
        kind="transfer_out",
        occurred_at=at("2025-09-01T12:00:00"),
        legs=[LegInput(token=eth, quantity="-0.5")],
        category="gift_spouse",
    )
    assert gift.category == "gift_spouse"
    buy = _buy(portfolio, eth)
    with pytest.raises(ValidationError) as err:
        transaction_update(transaction=buy, category="gift")
    assert "transfer out or a transfer in" in err.value.message_dict["category"][0]
    # Changing a gift's kind away from a transfer needs its category cleared first.
    with pytest.raises(ValidationError) as err:
        transaction_update(
            transaction=gift,
            kind="sell",
            legs=[LegInput(token=eth, quantity="-0.5"), LegInput(asset="USD", quantity="1500")],
        )
    assert "category" in err.value.message_dict


def test_the_database_refuses_a_category_off_a_transfer_and_a_hidden_position_transaction(
    portfolio, eth, usdc, amm_pool, prices
):
    buy = _buy(portfolio, eth)
    with transaction.atomic(), pytest.raises(IntegrityError, match="portfolios_txn_category_transfer"):
        Transaction.objects.filter(pk=buy.pk).update(category="gift")
    with transaction.atomic(), pytest.raises(IntegrityError, match="portfolios_txn_category_transfer"):
        Transaction.objects.filter(pk=buy.pk).update(category="donation")
    position = position_open(
        portfolio=portfolio,
        pool=amm_pool,
        kind="lp",
        opened_at=DEPOSIT_AT,
        deposits=[LegInput(token=eth, quantity="1"), LegInput(token=usdc, quantity="2000")],
    )
    deposit = position.transactions.get()
    with transaction.atomic(), pytest.raises(IntegrityError, match="portfolios_txn_hidden_not_in_position"):
        Transaction.objects.filter(pk=deposit.pk).update(hidden=True)
    with pytest.raises(ValidationError) as err:
        transaction_update(transaction=deposit, hidden=True)
    assert "position's figures" in err.value.message_dict["hidden"][0]


def test_a_synced_transaction_can_be_categorised_and_hidden_but_not_contradicted(portfolio, eth, prices):
    out = transaction_record(
        portfolio=portfolio,
        kind="transfer_out",
        occurred_at=at("2025-09-01T12:00:00"),
        legs=[LegInput(token=eth, quantity="-1")],
        source="chain",
    )
    _buy(portfolio, eth)
    updated = transaction_update(transaction=out, category="gift", hidden=True, description="to Bob")
    assert (updated.category, updated.hidden, updated.description) == ("gift", True, "to Bob")
    with pytest.raises(ValidationError) as err:
        transaction_update(transaction=updated, legs=[LegInput(token=eth, quantity="-2")])
    assert "legs" in err.value.message_dict
    unhidden = transaction_update(transaction=updated, hidden=False, category="")
    assert (unhidden.hidden, unhidden.category) == (False, "")


# ----------------------------------------------------------------------------- counted nowhere


def test_a_hidden_transaction_counts_nowhere(owner, portfolio, eth, crv, prices, django_capture_on_commit_callbacks):
    _buy(portfolio, eth)
    airdrop = _airdrop(portfolio, crv, source="chain")
    reward = _reward(portfolio, crv)
    before = portfolio_summary(portfolio=portfolio, as_of=AS_OF)
    # 1 ETH at 3,000 + 1,100 CRV at 0.5 = 3,550; income this year: 100 CRV at 0.6 = 60.
    assert before.value == D("3550") and before.income_ytd == D("60")
    assert {h.asset: h.quantity for h in before.holdings} == {"WETH": D(1), "CRV": D(1100)}
    legs_before = ledger_fingerprint(owner_id=owner.pk, portfolio_id=None, until=UNTIL).legs

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        transaction_update(transaction=airdrop, hidden=True)
        transaction_update(transaction=reward, hidden=True)
    assert len(callbacks) == 2  # each edit enqueues the portfolio's revaluation
    after = portfolio_summary(portfolio=portfolio, as_of=AS_OF)
    assert after.value == D("3000") and after.income_ytd == D("0")
    assert {h.asset: h.quantity for h in after.holdings} == {"WETH": D(1)}
    stored = Portfolio.objects.get(pk=portfolio.pk)
    assert stored.value == D("3000") and stored.income_ytd == D("0")  # the revaluation ran

    ledger = tax_ledger_load(owner_id=owner.pk, portfolio_id=None, until=UNTIL)
    assert [tx.kind for tx in ledger.transactions] == ["buy"]
    fingerprint = ledger_fingerprint(owner_id=owner.pk, portfolio_id=None, until=UNTIL)
    assert fingerprint == ledger.fingerprint and fingerprint.legs == legs_before - 2
    assert [h[0] for h in _held(owner)] == [eth.pk]
    assert crv not in stale_tokens(portfolios=[portfolio], older_than=timedelta(0))
    assert Transaction.objects.filter(portfolio=portfolio).count() == 3  # kept


def _held(owner):
    return [(h.token_id, h.quantity) for h in holdings_for_user(user=owner)]


def test_the_category_reaches_the_tax_inputs_and_changes_the_fingerprint(owner, portfolio, eth, prices):
    _buy(portfolio, eth)
    out = transaction_record(
        portfolio=portfolio,
        kind="transfer_out",
        occurred_at=at("2025-09-01T12:00:00"),
        legs=[LegInput(token=eth, quantity="-1")],
    )
    plain = ledger_fingerprint(owner_id=owner.pk, portfolio_id=None, until=UNTIL)
    transaction_update(transaction=out, category="gift")
    gifted = ledger_fingerprint(owner_id=owner.pk, portfolio_id=None, until=UNTIL)
    assert gifted.legs == plain.legs and gifted != plain  # a new category rebuilds the report
    ledger = tax_ledger_load(owner_id=owner.pk, portfolio_id=None, until=UNTIL)
    assert [(tx.kind, tx.category) for tx in ledger.transactions] == [("buy", ""), ("transfer_out", "gift")]
    assert ledger.fingerprint == gifted
