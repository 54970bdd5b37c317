"""Position pages and forms: open from a pool or by hand, add/remove liquidity,
claim, stake/unstake, close, override amounts - with messages that say what is
wrong and forms that come back filled in."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from portfolios.models import Portfolio, Position, PositionAmountOverride, Transaction
from portfolios.services.legs import LegInput
from portfolios.services.positions import position_open, position_remove_liquidity
from tests.portfolios.conftest import DEPOSIT_AT, WITHDRAW_AT
from tests.portfolios.factories import TokenFactory

pytestmark = pytest.mark.django_db
D = Decimal
CREATE = reverse("portfolios:position_create")


def legs(*rows, prefix="legs", initial=0):
    """Management form + rows of (token, quantity, fiat_value)."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, (token, quantity, fiat) in enumerate(rows):
        data[f"{prefix}-{i}-token"] = token
        data[f"{prefix}-{i}-quantity"] = quantity
        data[f"{prefix}-{i}-fiat_value"] = fiat
    return data


@pytest.fixture
def lp(portfolio, amm_pool, eth, usdc, prices):
    return position_open(
        portfolio=portfolio,
        pool=amm_pool,
        kind="lp",
        opened_at=DEPOSIT_AT,
        deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))],
    )


def _errors(response) -> str:
    return response.content.decode()


# ----------------------------------------------------------------------------- open from a pool


def test_the_pool_link_prefills_the_pool_tokens_and_kind(owner_client, portfolio, v3_pool, eth, usdc):
    response = owner_client.get(CREATE, {"pool": v3_pool.pk})
    assert response.status_code == 200
    form, formset = response.context["form"], response.context["formset"]
    assert form.initial["kind"] == "concentrated_lp"
    assert [f.initial["token"] for f in formset.forms] == [usdc.pk, eth.pk]  # pool order
    html = response.content.decode()
    assert "Add WETH-USDC to your portfolio" in html
    assert "Uniswap V3" in html


def test_opening_from_a_pool_creates_the_first_portfolio_and_the_position(
    client, stranger, amm_pool, eth, usdc, prices
):
    client.force_login(stranger)  # a user without any portfolio
    data = {
        "new_portfolio_name": "My portfolio",
        "pool": amm_pool.pk,
        "kind": "lp",
        "opened_at": "2025-06-01T12:00",
        **legs((eth.pk, "1", ""), (usdc.pk, "2000", ""), initial=2),
    }
    response = client.post(CREATE, data)
    position = Position.objects.get(portfolio__owner=stranger)
    assert response.status_code == 302
    assert response["Location"] == reverse("portfolios:position_detail", args=[position.pk])
    assert position.portfolio.name == "My portfolio"
    assert position.pool == amm_pool
    deposit = Transaction.objects.get(position=position)
    assert {leg.asset: leg.quantity for leg in deposit.legs.all() if leg.token_id} == {"WETH": D(-1), "USDC": D(-2000)}


def test_a_token_left_blank_is_not_deposited(owner_client, portfolio, amm_pool, eth, usdc, prices):
    data = {
        "portfolio": portfolio.pk,
        "pool": amm_pool.pk,
        "kind": "lp",
        "opened_at": "2025-06-01T12:00",
        **legs((eth.pk, "1", ""), (usdc.pk, "", ""), initial=2),
    }
    assert owner_client.post(CREATE, data).status_code == 302
    deposit = Transaction.objects.get(position__portfolio=portfolio)
    assert sorted(leg.asset for leg in deposit.legs.all() if leg.token_id) == ["WETH"]


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("-1", "Enter the amount as a positive number (-1 is negative)."),
        ("0", "The amount cannot be zero."),
        ("abc", "Enter a number."),
    ],
)
def test_a_bad_amount_is_explained_and_the_form_keeps_the_input(
    owner_client, portfolio, amm_pool, eth, usdc, quantity, message
):
    data = {
        "portfolio": portfolio.pk,
        "pool": amm_pool.pk,
        "kind": "lp",
        "opened_at": "2025-06-01T12:00",
        "label": "my label",
        **legs((eth.pk, quantity, ""), (usdc.pk, "2000", ""), initial=2),
    }
    response = owner_client.post(CREATE, data)
    assert response.status_code == 200
    html = _errors(response)
    assert message in html
    assert 'value="2000"' in html and 'value="my label"' in html
    assert not Position.objects.exists()


def test_no_amount_at_all_is_explained(owner_client, portfolio, amm_pool, eth, usdc):
    data = {
        "portfolio": portfolio.pk,
        "pool": amm_pool.pk,
        "kind": "lp",
        "opened_at": "2025-06-01T12:00",
        **legs((eth.pk, "", ""), (usdc.pk, "", ""), initial=2),
    }
    response = owner_client.post(CREATE, data)
    assert response.status_code == 200
    assert "Enter at least one token and the amount deposited." in _errors(response)


def test_a_date_in_the_future_is_refused(owner_client, portfolio, amm_pool, eth):
    # more than a day ahead (the shared rule of portfolios.validation: a day of slack for time zones)
    tomorrow = (timezone.localtime() + timedelta(days=1, hours=1)).strftime("%Y-%m-%dT%H:%M")
    data = {
        "portfolio": portfolio.pk,
        "pool": amm_pool.pk,
        "kind": "lp",
        "opened_at": tomorrow,
        **legs((eth.pk, "1", "")),
    }
    response = owner_client.post(CREATE, data)
    assert response.status_code == 200
    assert "is in the future: enter when it happened." in _errors(response)
    assert f'value="{tomorrow}"' in _errors(response)


def test_a_missing_price_asks_for_the_value_then_accepts_it(owner_client, portfolio, chain):
    obscure = TokenFactory(chain=chain, symbol="OBSC")
    data = {
        "portfolio": portfolio.pk,
        "label": "Obscure farm",
        "kind": "farm",
        "opened_at": "2021-03-04T10:00",
        **legs(("OBSC", "50", "")),
    }
    response = owner_client.post(CREATE, data)
    assert response.status_code == 200
    assert "No price for OBSC on 2021-03-04: enter the value in USD" in _errors(response)
    assert 'value="50"' in _errors(response)

    data["legs-0-fiat_value"] = "125.50"
    response = owner_client.post(CREATE, data)
    assert response.status_code == 302
    leg = Transaction.objects.get(position__label="Obscure farm").legs.get(token=obscure)
    assert (leg.fiat_value, leg.value_source) == (D("125.5"), "entered")


def test_an_unknown_token_is_named(owner_client, portfolio):
    data = {
        "portfolio": portfolio.pk,
        "label": "Mystery",
        "kind": "lp",
        "opened_at": "2025-06-01T12:00",
        **legs(("NOPE", "1", "10")),
    }
    response = owner_client.post(CREATE, data)
    assert response.status_code == 200
    assert "Unknown token “NOPE”" in _errors(response)


def test_a_position_by_hand_needs_a_label(owner_client, portfolio, eth, prices):
    data = {
        "portfolio": portfolio.pk,
        "label": "",
        "kind": "lp",
        "opened_at": "2025-06-01T12:00",
        **legs(("WETH", "1", "")),
    }
    response = owner_client.post(CREATE, data)
    assert response.status_code == 200
    assert "Give the position a label" in _errors(response)


def test_a_position_by_hand_resolves_symbols(owner_client, portfolio, eth, usdc, prices):
    data = {
        "portfolio": portfolio.pk,
        "label": "Sushi ETH/USDC",
        "kind": "lp",
        "opened_at": "2025-06-01T12:00",
        "chain": "ethereum",
        **legs(("weth", "1", ""), ("USDC", "2000", ""), ("", "", "")),
    }
    response = owner_client.post(CREATE, data)
    assert response.status_code == 302
    position = Position.objects.get(label="Sushi ETH/USDC")
    assert position.pool is None
    assert Transaction.objects.get(position=position).legs.filter(token__in=[eth, usdc]).count() == 2


@pytest.mark.parametrize(
    ("lower", "upper", "message"),
    [
        ("", "2500", "A concentrated position needs the lower price of its range."),
        ("2500", "1500", "The upper price must be above the lower price."),
    ],
)
def test_a_concentrated_position_needs_a_sensible_range(
    owner_client, portfolio, v3_pool, eth, usdc, lower, upper, message
):
    data = {
        "portfolio": portfolio.pk,
        "pool": v3_pool.pk,
        "kind": "concentrated_lp",
        "opened_at": "2025-06-01T12:00",
        "range_lower": lower,
        "range_upper": upper,
        **legs((usdc.pk, "2000", ""), (eth.pk, "1", ""), initial=2),
    }
    response = owner_client.post(CREATE, data)
    assert response.status_code == 200
    assert message in _errors(response)


def test_only_concentrated_positions_take_a_range(owner_client, portfolio, amm_pool, eth):
    data = {
        "portfolio": portfolio.pk,
        "pool": amm_pool.pk,
        "kind": "lp",
        "opened_at": "2025-06-01T12:00",
        "range_lower": "1",
        "range_upper": "2",
        **legs((eth.pk, "1", "")),
    }
    response = owner_client.post(CREATE, data)
    assert response.status_code == 200
    assert "Only concentrated-liquidity positions have a price range" in _errors(response)


def test_an_unknown_pool_is_404(owner_client):
    assert owner_client.get(CREATE, {"pool": 999999}).status_code == 404
    assert owner_client.get(CREATE, {"pool": "x"}).status_code == 404


def test_a_user_with_portfolios_must_pick_one_of_theirs(owner_client, portfolio, stranger, amm_pool, eth, prices):
    other = Portfolio.objects.create(owner=stranger, name="Not yours")
    data = {
        "portfolio": other.pk,
        "pool": amm_pool.pk,
        "kind": "lp",
        "opened_at": "2025-06-01T12:00",
        **legs((eth.pk, "1", "")),
    }
    response = owner_client.post(CREATE, data)
    assert response.status_code == 200
    assert "Select a valid choice" in _errors(response)


# ----------------------------------------------------------------------------- the position page


def test_the_position_page_explains_il_with_the_users_numbers(owner_client, lp):
    response = owner_client.get(reverse("portfolios:position_detail", args=[lp.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    # ETH 2000 -> 3000 against USDC: HODL 1 ETH + 2000 USDC = $5,000; pool share 2*sqrt(1.5)*... = $4,898.98.
    sentences = " ".join(response.context["il_sentences"])
    assert "WETH rose 50% against USDC since you deposited." in sentences
    assert "Holding your original 1 WETH and 2,000 USDC would be worth $5,000.00" in sentences
    assert "your pool share is worth $4,898.98, so impermanent loss cost you $101.02 (2.02%)" in sentences
    assert "Fees of $" in sentences
    assert "/learn/articles/impermanent-loss/" in html
    assert "/learn/articles/concentrated-liquidity/" not in html
    # Value vs HODL: two series on one chart.
    chart = str(response.context["chart"])
    assert "Your position" in chart and "If you had held the tokens (HODL)" in chart
    labels = [label for label, _, _ in response.context["breakdown"]]
    assert labels == [
        "Price change of the tokens you deposited",
        "Fees earned",
        "Rewards",
        "Impermanent loss",
        "Gas and other costs",
    ]
    txn = Transaction.objects.get(position=lp)
    assert reverse("portfolios:position_add_liquidity", args=[lp.pk]) in html
    assert reverse("portfolios:position_stake", args=[lp.pk]) not in html
    assert reverse("portfolios:transaction_edit", args=[txn.pk]) in html
    assert reverse("portfolios:transaction_delete", args=[txn.pk]) in html


def test_a_closed_position_still_explains_its_impermanent_loss(owner_client, lp, eth, usdc):
    position_remove_liquidity(
        position=lp,
        occurred_at=WITHDRAW_AT,
        close=True,
        withdrawals=[LegInput(token=eth, quantity=D("0.8")), LegInput(token=usdc, quantity=D("2400"))],
    )
    response = owner_client.get(reverse("portfolios:position_detail", args=[lp.pk]))
    sentences = " ".join(response.context["il_sentences"])
    # Nothing is left in it, but it did hold 1 WETH and 2,000 USDC: not "a single token, no IL".
    assert "Holding your original 1 WETH and 2,000 USDC would be worth $5,000.00" in sentences
    assert "(what you withdrew counted at the prices then)" in sentences
    assert "no impermanent loss" not in sentences


def test_an_out_of_range_position_links_the_concentrated_liquidity_article(
    owner_client, portfolio, v3_pool, eth, usdc, prices
):
    position = position_open(
        portfolio=portfolio,
        pool=v3_pool,
        kind="concentrated_lp",
        opened_at=DEPOSIT_AT,
        range_lower=D("1500"),
        range_upper=D("2500"),
        deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))],
    )
    response = owner_client.get(reverse("portfolios:position_detail", args=[position.pk]))
    html = response.content.decode()
    assert "/learn/articles/concentrated-liquidity/" in html
    assert "above range" in html
    text = " ".join(response.context["range_sentences"])
    assert "Price now: 3,000 USDC per WETH. Your range: 1,500 to 2,500 USDC per WETH." in text
    assert "the price must fall 16.7% to re-enter it" in text
    # 1 ETH + 2000 USDC does not fit 1500-2500 at 2000 in that ratio: the range takes all the USDC
    # and 0.788 WETH (HODL at 3000: $4,364.02, not the $5,000 of the whole deposit). The
    # sentences quote those amounts, and the 0.212 WETH left out, with its value then.
    sentences = " ".join(response.context["il_sentences"])
    assert (
        "Holding the 0.7880061742 WETH and 2,000 USDC your range took would be worth $4,364.02; your pool "
        "share is worth $3,762.04, so impermanent loss cost you $601.98 (13.79%)." in sentences
    )
    assert (
        "0.2119938258 WETH of your deposit did not fit your range at the deposit price and was not counted "
        "as in the pool (worth $423.99 then)" in sentences
    )
    assert "$5,000.00" not in sentences
    assert "deposited $3,576.01 · $423.99 did not fit the range" in html
    assert "0.2119938258 WETH (worth $423.99 at the deposit) did not fit your range" in html


def test_the_position_page_runs_the_same_14_queries_however_many_transactions(
    owner_client, lp, crv, eth, usdc, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portfolios.services.positions import position_claim_rewards

    url = reverse("portfolios:position_detail", args=[lp.pk])
    with CaptureQueriesContext(connection) as one:
        assert owner_client.get(url).status_code == 200
    # session, user, the position; its data (positions, pool, pool tokens, overrides,
    # transactions, legs, pool yields); its tokens' daily prices; the transactions table
    # (transactions, legs); the navigation's unread alerts count (alerts app). The value series
    # reuses the analytics' data (it was 21).
    assert len(one.captured_queries) == 14
    for i in range(30):
        position_claim_rewards(
            position=lp,
            token=crv,
            quantity=D("1"),
            income_type="liquidity_mining",
            occurred_at=DEPOSIT_AT + timedelta(days=i + 1),
            fiat_value=D("0.7"),
        )
    position_remove_liquidity(
        position=lp,
        occurred_at=DEPOSIT_AT + timedelta(days=31),
        withdrawals=[
            LegInput(token=eth, quantity=D("0.1"), fiat_value=D("200")),
            LegInput(token=usdc, quantity=D("200"), fiat_value=D("200")),
        ],
    )
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = owner_client.get(url)
    assert len(response.context["transactions"]) == 32
    assert response.context["series_days"] > 0


def test_an_in_range_position_shows_the_distance_to_each_bound(owner_client, portfolio, v3_pool, eth, usdc, prices):
    position = position_open(
        portfolio=portfolio,
        pool=v3_pool,
        kind="concentrated_lp",
        opened_at=DEPOSIT_AT,
        range_lower=D("1500"),
        range_upper=D("4000"),
        deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))],
    )
    response = owner_client.get(reverse("portfolios:position_detail", args=[position.pk]))
    text = " ".join(response.context["range_sentences"])
    assert "In range: the price can fall 50.0% before it reaches the lower bound, or rise 33.3%" in text
    assert "in range" in response.content.decode()


def test_a_staking_position_has_no_impermanent_loss(owner_client, portfolio, staking_pool, eth, prices):
    position = position_open(
        portfolio=portfolio,
        pool=staking_pool,
        kind="staking",
        opened_at=DEPOSIT_AT,
        deposits=[LegInput(token=eth, quantity=D("2"))],
    )
    response = owner_client.get(reverse("portfolios:position_detail", args=[position.pk]))
    assert response.status_code == 200
    assert "so it has no impermanent loss" in " ".join(response.context["il_sentences"])
    html = response.content.decode()
    assert reverse("portfolios:position_stake", args=[position.pk]) in html
    assert reverse("portfolios:position_add_liquidity", args=[position.pk]) not in html


# ----------------------------------------------------------------------------- changes to a position


def test_adding_liquidity_records_a_deposit(owner_client, lp, eth, usdc):
    url = reverse("portfolios:position_add_liquidity", args=[lp.pk])
    response = owner_client.get(url)
    assert response.status_code == 200
    data = {"occurred_at": "2025-09-01T12:00", **legs((eth.pk, "0.5", ""), (usdc.pk, "1500", ""), initial=2)}
    assert owner_client.post(url, data).status_code == 302
    assert Transaction.objects.filter(position=lp, kind="lp_deposit").count() == 2


def test_a_withdrawal_larger_than_the_position_is_refused(owner_client, lp, eth, usdc):
    url = reverse("portfolios:position_remove_liquidity", args=[lp.pk])
    data = {"occurred_at": "2025-09-01T12:00", **legs((eth.pk, "5", ""), (usdc.pk, "", ""), initial=2)}
    response = owner_client.post(url, data)
    assert response.status_code == 200
    html = _errors(response)
    assert "WETH" in html and "holds" in html
    assert 'value="5"' in html
    assert not Transaction.objects.filter(position=lp, kind="lp_withdraw").exists()


def test_a_full_withdrawal_with_close_closes_the_position(owner_client, lp, eth, usdc):
    url = reverse("portfolios:position_remove_liquidity", args=[lp.pk])
    data = {
        "occurred_at": "2025-09-01T12:00",
        "close": "on",
        **legs((eth.pk, "0.8", ""), (usdc.pk, "2400", ""), initial=2),
    }
    response = owner_client.post(url, data)
    assert response.status_code == 302, _errors(response)
    lp.refresh_from_db()
    assert lp.closed_at is not None


def test_claiming_rewards_records_income(owner_client, lp, crv):
    url = reverse("portfolios:position_claim_rewards", args=[lp.pk])
    assert owner_client.get(url).status_code == 200
    response = owner_client.post(
        url,
        {
            "token": "CRV",
            "quantity": "100",
            "income_type": "liquidity_mining",
            "occurred_at": "2025-07-01T00:00",
            "fiat_value": "",
        },
    )
    assert response.status_code == 302
    reward = Transaction.objects.get(position=lp, kind="reward")
    assert reward.income_type == "liquidity_mining"
    assert reward.legs.get().fiat_value == D("60")  # 100 CRV at 0.60


def test_a_negative_claim_is_refused(owner_client, lp, crv):
    url = reverse("portfolios:position_claim_rewards", args=[lp.pk])
    response = owner_client.post(
        url, {"token": "CRV", "quantity": "-100", "income_type": "liquidity_mining", "occurred_at": "2025-07-01T00:00"}
    )
    assert response.status_code == 200
    assert "Enter the amount received as a positive number." in _errors(response)


def test_stake_and_unstake_on_a_staking_position(owner_client, portfolio, staking_pool, eth, prices):
    position = position_open(
        portfolio=portfolio,
        pool=staking_pool,
        kind="staking",
        opened_at=DEPOSIT_AT,
        deposits=[LegInput(token=eth, quantity=D("2"))],
    )
    stake = reverse("portfolios:position_stake", args=[position.pk])
    assert (
        owner_client.post(stake, {"occurred_at": "2025-09-01T12:00", **legs((eth.pk, "1", ""), initial=1)}).status_code
        == 302
    )
    unstake = reverse("portfolios:position_unstake", args=[position.pk])
    response = owner_client.post(unstake, {"occurred_at": "2025-09-02T12:00", **legs((eth.pk, "1", ""), initial=1)})
    assert response.status_code == 302, _errors(response)
    assert list(
        Transaction.objects.filter(position=position).order_by("occurred_at").values_list("kind", flat=True)
    ) == ["stake", "stake", "unstake"]


def test_closing_a_position_before_it_opened_is_refused_then_closing_works(owner_client, lp):
    url = reverse("portfolios:position_close", args=[lp.pk])
    response = owner_client.post(url, {"closed_at": "2025-01-01T00:00"})
    assert response.status_code == 200
    assert "A position cannot close before it opened" in _errors(response)
    assert owner_client.post(url, {"closed_at": "2025-10-01T00:00"}).status_code == 302
    lp.refresh_from_db()
    assert lp.closed_at is not None


def test_overriding_amounts_values_the_position_from_them(owner_client, lp, eth, usdc):
    url = reverse("portfolios:position_override_amounts", args=[lp.pk])
    response = owner_client.get(url)
    assert response.status_code == 200
    response = owner_client.post(url, {"as_of": "2025-10-01T00:00", f"token_{eth.pk}": "-1"})
    assert response.status_code == 200
    assert "An amount cannot be negative" in _errors(response)
    response = owner_client.post(
        url, {"as_of": "2025-10-01T00:00", f"token_{eth.pk}": "0.9", f"token_{usdc.pk}": "2500"}
    )
    assert response.status_code == 302
    assert dict(PositionAmountOverride.objects.filter(position=lp).values_list("token_id", "quantity")) == {
        eth.pk: D("0.9"),
        usdc.pk: D("2500"),
    }
    detail = owner_client.get(reverse("portfolios:position_detail", args=[lp.pk]))
    assert detail.context["a"].overridden
    assert "valued from your amounts" in detail.content.decode()


# ----------------------------------------------------------------------------- the IL sentences


@pytest.fixture
def analysed(lp):
    from portfolios.selectors import position_analytics, position_deposits

    transactions = Transaction.objects.filter(position=lp).prefetch_related("legs")
    return position_analytics(position=lp), position_deposits(transactions=transactions).price


def _explain(a, entry_prices, **changes):
    from dataclasses import replace

    from portfolios.explain import explain_impermanent_loss

    return " ".join(explain_impermanent_loss(replace(a, **changes), entry_prices))


def test_fees_just_short_of_the_loss_are_not_rounded_up_to_all_of_it(analysed):
    a, txns = analysed
    text = _explain(a, txns, fees=-a.il * D("0.998"))
    assert "offset almost all of it (99.8%)" in text


def test_fees_larger_than_the_loss(analysed):
    a, txns = analysed
    text = _explain(a, txns, fees=-a.il * 3)
    assert "more than made up for it: they cover 300% of the loss" in text


def test_no_fees_yet(analysed):
    a, txns = analysed
    assert "No fees have offset it yet." in _explain(a, txns, fees=D(0))


def test_no_loss_at_all(analysed):
    a, txns = analysed
    assert "impermanent loss has cost you nothing so far" in _explain(a, txns, il=D(0), il_pct=D(0))


def test_a_missing_price_is_said_plainly(analysed):
    a, txns = analysed
    assert "a current price is missing" in _explain(a, txns, il=None, value_hodl=None)


def test_a_closed_positions_stale_tokens_are_not_flagged(owner_client, lp):
    from django.utils import timezone

    html = owner_client.get(reverse("portfolios:dashboard")).content.decode()
    assert "Stale prices: WETH has" in html
    Position.objects.filter(pk=lp.pk).update(closed_at=timezone.now())
    assert "Stale prices" not in owner_client.get(reverse("portfolios:dashboard")).content.decode()


def test_eth_finds_weth_by_its_price_symbol(owner_client, portfolio, eth, usdc, prices):
    data = {
        "portfolio": portfolio.pk,
        "label": "By hand",
        "kind": "lp",
        "opened_at": "2025-06-01T12:00",
        **legs(("ETH", "1", ""), ("USDC", "2000", "")),
    }
    assert owner_client.post(CREATE, data).status_code == 302
    assert Transaction.objects.get(position__label="By hand").legs.filter(token=eth).exists()


def test_the_position_page_links_the_calculator_for_its_pool_type(owner_client, lp):
    html = owner_client.get(reverse("portfolios:position_detail", args=[lp.pk])).content.decode()
    assert f'href="/learn/calculators/impermanent-loss/?model={"constant_product"}"' in html


def test_the_range_form_names_the_pair_order_and_the_price_now(owner_client, portfolio, v3_pool, eth, usdc):
    html = owner_client.get(CREATE, {"pool": v3_pool.pk}).content.decode()
    # The pool lists USDC first, but a stablecoin is always the quote: WETH priced in USDC.
    assert "Prices are the price of WETH in USDC: how many USDC one WETH buys." in html
    assert "Price now: 3,000 USDC per WETH" in html  # last prices: WETH $3,000, USDC $1
    assert "Range lower price (USDC per WETH)" in html


def test_checking_the_range_says_what_it_takes_and_what_will_not_fit_and_saves_nothing(
    owner_client, portfolio, v3_pool, eth, usdc, prices
):
    import math

    data = {
        "portfolio": portfolio.pk,
        "pool": v3_pool.pk,
        "kind": "concentrated_lp",
        "opened_at": "2025-06-01T12:00",
        "range_lower": "1500",
        "range_upper": "2500",
        "action": "preview",
        **legs((usdc.pk, "2000", ""), (eth.pk, "1", ""), initial=2),
    }
    response = owner_client.post(CREATE, data)
    assert response.status_code == 200
    assert not Position.objects.exists()
    text = " ".join(response.context["preview_sentences"])
    # ETH was $2,000 on 2025-06-01. Uniswap v3 liquidity, by hand: USDC limits it,
    # L = 2000 / (√2000 − √1500); the WETH it takes is L (√2500 − √2000) / (√2000 √2500).
    s, a, b = math.sqrt(2000), math.sqrt(1500), math.sqrt(2500)
    weth_taken = (2000 / (s - a)) * (b - s) / (s * b)
    assert round(weth_taken, 6) == 0.788006
    assert "Price then: 2,000 USDC per WETH. Your range: 1,500 to 2,500 USDC per WETH." in text
    assert f"At that price the range takes {weth_taken:.10f} WETH and 2,000 USDC." in text
    assert f"{1 - weth_taken:.10f} WETH will not fit" in text
    assert "It is not counted as deposited." in text


def test_a_range_that_takes_everything_says_nothing_about_a_left_out_part(
    owner_client, portfolio, v3_pool, eth, usdc, prices
):
    # 2000 USDC against √-spaced bounds around 2000 takes exactly this much WETH: nothing is left out.
    import math

    s, a, b = math.sqrt(2000), math.sqrt(1500), math.sqrt(2500)
    weth = f"{(2000 / (s - a)) * (b - s) / (s * b):.6f}"
    data = {
        "portfolio": portfolio.pk,
        "pool": v3_pool.pk,
        "kind": "concentrated_lp",
        "opened_at": "2025-06-01T12:00",
        "range_lower": "1500",
        "range_upper": "2500",
        "action": "preview",
        **legs((usdc.pk, "2000.01", ""), (eth.pk, weth, ""), initial=2),
    }
    text = " ".join(owner_client.post(CREATE, data).context["preview_sentences"])
    assert "USDC will not fit" in text  # the 1 cent over is named
    assert "WETH will not fit" not in text
