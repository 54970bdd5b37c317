"""Services: validation messages, price look-ups, side effects (tracking, revaluation on commit)."""

from datetime import timedelta
from decimal import Decimal
from unittest.mock import patch

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from portfolios.models import Leg, Portfolio, Position, PositionAmountOverride, Transaction
from portfolios.selectors import position_analytics
from portfolios.services.errors import InsufficientPosition, MissingPrice, PositionClosed
from portfolios.services.legs import LegInput
from portfolios.services.portfolios import portfolio_create, portfolio_delete, portfolio_update
from portfolios.services.positions import (
    position_add_liquidity,
    position_claim_rewards,
    position_close,
    position_delete,
    position_open,
    position_override_amounts,
    position_remove_liquidity,
    position_stake,
)
from portfolios.services.transactions import transaction_delete, transaction_record, transaction_update
from tests.portfolios.conftest import DEPOSIT_AT, WITHDRAW_AT, at
from tests.portfolios.factories import PortfolioFactory, TokenFactory, TokenPriceFactory

pytestmark = pytest.mark.django_db
D = Decimal


def messages(exc_info) -> str:
    exc = exc_info.value
    if isinstance(exc, ValidationError):
        return " ".join(m for ms in exc.message_dict.values() for m in ms)
    return str(exc)


@pytest.fixture
def lp(portfolio, amm_pool, eth, usdc, prices):
    return position_open(
        portfolio=portfolio,
        pool=amm_pool,
        kind="lp",
        opened_at=DEPOSIT_AT,
        deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))],
    )


# --------------------------------------------------------------------------- portfolios


def test_portfolio_names_are_unique_per_owner_whatever_the_case(owner, stranger):
    portfolio_create(owner=owner, name="DeFi")
    with pytest.raises(ValidationError) as exc:
        portfolio_create(owner=owner, name="defi")
    assert "already have a portfolio with this name" in messages(exc)
    assert portfolio_create(owner=stranger, name="DeFi").pk  # another owner may


def test_a_portfolio_needs_a_name(owner):
    with pytest.raises(ValidationError) as exc:
        portfolio_create(owner=owner, name="   ")
    assert "name" in exc.value.message_dict


def test_renaming_and_deleting_a_portfolio(owner, lp, portfolio):
    portfolio_update(portfolio=portfolio, name="Renamed")
    assert Portfolio.objects.get(pk=portfolio.pk).name == "Renamed"
    portfolio_delete(portfolio=portfolio)
    assert not Portfolio.objects.filter(pk=portfolio.pk).exists()
    assert not Transaction.objects.filter(portfolio_id=portfolio.pk).exists()


# --------------------------------------------------------------------------- validation messages


def test_a_negative_deposit_is_refused_with_the_amount(portfolio, amm_pool, eth, prices):
    with pytest.raises(ValidationError) as exc:
        position_open(
            portfolio=portfolio,
            pool=amm_pool,
            kind="lp",
            opened_at=DEPOSIT_AT,
            deposits=[LegInput(token=eth, quantity=D("-1"))],
        )
    assert "The WETH amount must be greater than zero (got −1)." in messages(exc)
    assert "deposits" in exc.value.message_dict


def test_a_zero_deposit_is_refused(portfolio, amm_pool, eth, prices):
    with pytest.raises(ValidationError) as exc:
        position_open(
            portfolio=portfolio,
            pool=amm_pool,
            kind="lp",
            opened_at=DEPOSIT_AT,
            deposits=[LegInput(token=eth, quantity="0")],
        )
    assert "must be greater than zero" in messages(exc)


def test_a_date_in_the_future_is_refused(portfolio, amm_pool, eth, prices):
    future = timezone.now() + timedelta(days=2)
    with pytest.raises(ValidationError) as exc:
        position_open(
            portfolio=portfolio,
            pool=amm_pool,
            kind="lp",
            opened_at=future,
            deposits=[LegInput(token=eth, quantity=D("1"), fiat_value=D("1"))],
        )
    assert "is in the future" in messages(exc)
    assert "opened_at" in exc.value.message_dict


def test_a_naive_time_is_refused(portfolio, eth):
    with pytest.raises(ValidationError) as exc:
        transaction_record(
            portfolio=portfolio,
            kind="transfer_in",
            occurred_at=DEPOSIT_AT.replace(tzinfo=None),
            legs=[LegInput(token=eth, quantity=D("1"), fiat_value=D("1"))],
        )
    assert "time zone" in messages(exc)


def test_an_unknown_token_symbol_is_refused(portfolio):
    with pytest.raises(ValidationError) as exc:
        transaction_record(
            portfolio=portfolio,
            kind="transfer_in",
            occurred_at=DEPOSIT_AT,
            legs=[LegInput(asset="NOPE", quantity=D("1"), fiat_value=D("1"))],
        )
    assert "Unknown token 'NOPE'" in messages(exc)


def test_a_token_quoted_by_its_price_symbol_is_found_and_keeps_the_symbol(portfolio, eth, prices):
    txn = transaction_record(
        portfolio=portfolio, kind="transfer_in", occurred_at=DEPOSIT_AT, legs=[LegInput(asset="eth", quantity=D("2"))]
    )
    leg = txn.legs.get()
    assert (leg.asset, leg.token_id, leg.fiat_value) == ("ETH", eth.pk, D("4000"))


def test_a_missing_price_asks_for_the_value_and_an_entered_one_is_accepted(portfolio, chain):
    obscure = TokenFactory(chain=chain, symbol="OBSC")
    with pytest.raises(MissingPrice) as exc:
        transaction_record(
            portfolio=portfolio,
            kind="transfer_in",
            occurred_at=DEPOSIT_AT,
            legs=[LegInput(token=obscure, quantity=D("10"))],
        )
    assert exc.value.token == obscure and exc.value.when == DEPOSIT_AT
    assert str(exc.value) == (
        "No OBSC price is known for 2025-06-01. Enter the value of this OBSC amount "
        "(in USD at that moment) and try again."
    )
    txn = transaction_record(
        portfolio=portfolio,
        kind="transfer_in",
        occurred_at=DEPOSIT_AT,
        legs=[LegInput(token=obscure, quantity=D("10"), fiat_value=D("12.5"))],
    )
    leg = txn.legs.get()
    assert leg.value_source == Leg.ValueSource.ENTERED and leg.fiat_value == D("12.5")


def test_todays_value_falls_back_to_the_latest_price(portfolio, eth):
    txn = transaction_record(
        portfolio=portfolio, kind="transfer_in", occurred_at=timezone.now(), legs=[LegInput(token=eth, quantity=D("2"))]
    )
    leg = txn.legs.get()
    assert leg.fiat_value == D("6000") and leg.value_source == Leg.ValueSource.LOOKED_UP


def test_a_price_older_than_a_week_is_not_used(portfolio, chain):
    token = TokenFactory(chain=chain, symbol="OLD", price_symbol="")  # nothing to fetch on demand either
    TokenPriceFactory(token=token, timestamp=at("2025-06-01"), price_usd=D("5"))
    assert transaction_record(
        portfolio=portfolio,
        kind="transfer_in",
        occurred_at=at("2025-06-08"),
        legs=[LegInput(token=token, quantity=D("1"))],
    ).legs.get().fiat_value == D("5")
    with pytest.raises(MissingPrice):
        transaction_record(
            portfolio=portfolio,
            kind="transfer_in",
            occurred_at=at("2025-06-20"),
            legs=[LegInput(token=token, quantity=D("1"))],
        )


def test_a_price_we_do_not_store_is_fetched_from_the_pools_source(portfolio, chain):
    # WETH quotes the bundled ETH series (real daily closes); 2025-06-20 is not stored yet.
    token = TokenFactory(chain=chain, symbol="WETH", price_symbol="ETH")
    leg = transaction_record(
        portfolio=portfolio,
        kind="transfer_in",
        occurred_at=at("2025-06-20T10:00"),
        legs=[LegInput(token=token, quantity=D("1"))],
    ).legs.get()
    assert leg.value_source == Leg.ValueSource.LOOKED_UP and D("1000") < leg.fiat_value < D("5000")


def test_a_reward_needs_an_income_type_and_others_have_none(portfolio, crv, prices):
    with pytest.raises(ValidationError) as exc:
        transaction_record(
            portfolio=portfolio, kind="reward", occurred_at=DEPOSIT_AT, legs=[LegInput(token=crv, quantity=D("5"))]
        )
    assert "income type" in messages(exc)
    with pytest.raises(ValidationError) as exc:
        transaction_record(
            portfolio=portfolio,
            kind="transfer_in",
            income_type="staking",
            occurred_at=DEPOSIT_AT,
            legs=[LegInput(token=crv, quantity=D("5"))],
        )
    assert "Only rewards have an income type." in messages(exc)


def test_a_reward_only_receives(portfolio, crv, prices):
    with pytest.raises(ValidationError) as exc:
        transaction_record(
            portfolio=portfolio,
            kind="reward",
            income_type="staking",
            occurred_at=DEPOSIT_AT,
            legs=[LegInput(token=crv, quantity=D("-5"))],
        )
    assert "only receives" in messages(exc)


def test_a_position_of_another_portfolio_is_refused(lp, owner, eth):
    other = PortfolioFactory(owner=owner)
    with pytest.raises(ValidationError) as exc:
        transaction_record(
            portfolio=other,
            kind="transfer_in",
            occurred_at=DEPOSIT_AT,
            position=lp,
            legs=[LegInput(token=eth, quantity=D("1"), fiat_value=D("1"))],
        )
    assert "belongs to another portfolio" in messages(exc)


def test_a_position_needs_a_pool_or_a_label(portfolio, eth, prices):
    with pytest.raises(ValidationError) as exc:
        position_open(
            portfolio=portfolio, kind="staking", opened_at=DEPOSIT_AT, deposits=[LegInput(token=eth, quantity=D("1"))]
        )
    assert "Choose a pool or give the position a label." in messages(exc)
    assert not Transaction.objects.exists()


def test_a_concentrated_position_needs_a_valid_range(portfolio, v3_pool, eth, usdc, prices):
    with pytest.raises(ValidationError) as exc:
        position_open(
            portfolio=portfolio,
            pool=v3_pool,
            kind="concentrated_lp",
            opened_at=DEPOSIT_AT,
            range_lower=D("3000"),
            range_upper=D("1500"),
            deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))],
        )
    assert "0 < lower < upper" in messages(exc)


# --------------------------------------------------------------------------- withdrawals


def test_withdrawing_more_than_the_position_holds_says_how_much_it_holds(lp, eth, usdc):
    with pytest.raises(InsufficientPosition) as exc:
        position_remove_liquidity(
            position=lp, occurred_at=WITHDRAW_AT, withdrawals=[LegInput(token=eth, quantity=D("2"))]
        )
    # At 3000 USDC/ETH the 1 ETH + 2000 USDC pool holds 0.8165 ETH, plus 92 days of fees at 10 % a year.
    message = str(exc.value)
    assert message.startswith("You are withdrawing 2 WETH but the position holds 0.83")
    assert message.endswith(" WETH.")
    assert not Transaction.objects.filter(kind="lp_withdraw").exists()


def test_withdrawing_a_token_the_position_does_not_hold_is_refused(lp, crv):
    with pytest.raises(InsufficientPosition) as exc:
        position_remove_liquidity(
            position=lp,
            occurred_at=WITHDRAW_AT,
            withdrawals=[LegInput(token=crv, quantity=D("1"), fiat_value=D("0.5"))],
        )
    assert "but the position holds 0 CRV" in str(exc.value)


def test_a_partial_withdrawal_burns_the_same_share_of_lp_units(lp, eth, usdc):
    position_remove_liquidity(
        position=lp,
        occurred_at=WITHDRAW_AT,
        fraction=D("0.25"),
        withdrawals=[LegInput(token=eth, quantity=D("0.2")), LegInput(token=usdc, quantity=D("600"))],
    )
    lp.refresh_from_db()
    assert lp.closed_at is None
    burned = Leg.objects.get(transaction__kind="lp_withdraw", asset=f"LP#{lp.pk}")
    assert burned.quantity == D("-1000")  # a quarter of 4000 units
    result = position_analytics(position=lp, as_of=WITHDRAW_AT + timedelta(hours=1))
    assert result.remaining_cost == D("3000")


def test_a_full_withdrawal_closes_the_position_and_later_deposits_are_refused(lp, eth, usdc):
    position_remove_liquidity(
        position=lp,
        occurred_at=WITHDRAW_AT,
        close=True,
        withdrawals=[LegInput(token=eth, quantity=D("0.8")), LegInput(token=usdc, quantity=D("2400"))],
    )
    lp.refresh_from_db()
    assert lp.closed_at == WITHDRAW_AT
    with pytest.raises(PositionClosed):
        position_add_liquidity(position=lp, occurred_at=WITHDRAW_AT, deposits=[LegInput(token=eth, quantity=D("1"))])


def test_adding_liquidity_records_a_second_tranche(lp, eth, usdc):
    position_add_liquidity(
        position=lp,
        occurred_at=at("2025-09-01T13:00"),
        deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("3000"))],
    )
    result = position_analytics(position=lp, as_of=at("2025-09-02"))
    assert result.deposited == D("10000")  # 4000 then 6000


def test_staking_calls_are_for_staking_positions(lp, eth):
    with pytest.raises(ValidationError) as exc:
        position_stake(position=lp, occurred_at=WITHDRAW_AT, deposits=[LegInput(token=eth, quantity=D("1"))])
    assert "use add liquidity instead" in messages(exc)


def test_closing_before_the_last_transaction_is_refused(lp):
    with pytest.raises(ValidationError) as exc:
        position_close(position=lp, closed_at=at("2025-05-01"))
    assert "closed_at" in exc.value.message_dict
    position_close(position=lp, closed_at=WITHDRAW_AT)
    with pytest.raises(PositionClosed):
        position_close(position=lp, closed_at=WITHDRAW_AT)


def test_rewards_after_the_position_closed_are_refused(lp, crv):
    position_close(position=lp, closed_at=at("2025-07-01"))
    with pytest.raises(PositionClosed):
        position_claim_rewards(
            position=lp,
            token=crv,
            quantity=D("1"),
            income_type="liquidity_mining",
            occurred_at=at("2025-08-01"),
            fiat_value=D("1"),
        )


# --------------------------------------------------------------------------- overrides


def test_an_override_replaces_the_model_amounts_and_says_so(lp, eth, usdc):
    position_override_amounts(position=lp, amounts={eth: D("0.9"), usdc: D("2600")})
    result = position_analytics(position=lp)
    assert result.overridden is True
    assert result.value_now == D("0.9") * 3000 + 2600
    assert {t.asset: t.now for t in result.tokens}["WETH"] == D("0.9")
    position_override_amounts(position=lp, amounts={})
    assert not PositionAmountOverride.objects.exists()
    assert position_analytics(position=lp).overridden is False


def test_a_negative_override_is_refused(lp, eth):
    with pytest.raises(ValidationError) as exc:
        position_override_amounts(position=lp, amounts={eth: D("-1")})
    assert "cannot be negative" in messages(exc)


# --------------------------------------------------------------------------- transactions


def test_updating_a_transaction_replaces_its_legs(portfolio, eth, prices):
    txn = transaction_record(
        portfolio=portfolio,
        kind="buy",
        occurred_at=DEPOSIT_AT,
        legs=[LegInput(asset="USD", quantity=D("-2000")), LegInput(token=eth, quantity=D("1"))],
    )
    transaction_update(
        transaction=txn,
        legs=[LegInput(asset="USD", quantity=D("-4000")), LegInput(token=eth, quantity=D("2"))],
        description="two",
    )
    txn.refresh_from_db()
    assert txn.description == "two"
    assert sorted(leg.quantity for leg in txn.legs.all()) == [D("-4000"), D("2")]
    transaction_delete(transaction=txn)
    assert not Transaction.objects.filter(pk=txn.pk).exists()


def test_deleting_a_position_deletes_its_transactions(lp):
    position_delete(position=lp)
    assert not Position.objects.exists()
    assert not Transaction.objects.exists()


# --------------------------------------------------------------------------- side effects


def test_changes_enqueue_a_revaluation_after_commit(portfolio, eth, prices, django_capture_on_commit_callbacks):
    with patch("portfolios.tasks.revalue_portfolio.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            transaction_record(
                portfolio=portfolio,
                kind="transfer_in",
                occurred_at=DEPOSIT_AT,
                legs=[LegInput(token=eth, quantity=D("1"))],
            )
    delay.assert_called_once_with(portfolio_id=portfolio.pk)


def test_nothing_is_enqueued_when_the_write_fails(portfolio, django_capture_on_commit_callbacks):
    with patch("portfolios.tasks.revalue_portfolio.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
            transaction_record(
                portfolio=portfolio,
                kind="transfer_in",
                occurred_at=DEPOSIT_AT,
                legs=[LegInput(asset="NOPE", quantity=D("1"))],
            )
    delay.assert_not_called()


def test_held_tokens_are_marked_tracked(lp, eth, usdc):
    eth.refresh_from_db()
    usdc.refresh_from_db()
    assert eth.is_tracked and usdc.is_tracked
