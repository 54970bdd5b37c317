"""Dashboard and portfolio pages: totals, charts, positions table, warnings,
switcher, empty state, and a query count that does not grow with positions."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from portfolios.models import Leg, Portfolio, Position, Transaction
from portfolios.services.legs import LegInput
from portfolios.services.positions import position_open
from tests.portfolios.conftest import DEPOSIT_AT
from tests.portfolios.factories import PortfolioFactory, PortfolioSnapshotFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def lp(portfolio, amm_pool, eth, usdc, prices):
    return position_open(
        portfolio=portfolio,
        pool=amm_pool,
        kind="lp",
        opened_at=DEPOSIT_AT,
        deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))],
    )


def test_a_user_without_portfolio_sees_how_to_start(owner_client):
    response = owner_client.get(reverse("portfolios:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing to show yet" in html
    assert reverse("pools:explorer") in html
    assert reverse("portfolios:position_create") in html
    assert "add a position by hand" in html
    assert "import a CSV" in html


def test_the_dashboard_needs_a_login(client):
    response = client.get(reverse("portfolios:dashboard"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_dashboard_shows_totals_charts_and_the_position(owner_client, lp):
    response = owner_client.get(reverse("portfolios:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    summary = response.context["summary"]
    # 1 ETH + 2000 USDC at ETH 2000 -> 4000 deposited; ETH is 3000 now.
    assert summary.deposited == D("4000")
    assert summary.value > D("4000")
    assert "$4,000.00" in html
    assert reverse("portfolios:position_detail", args=[lp.pk]) in html
    assert html.count("<svg") == 4  # 4 allocation charts; no snapshot yet, so no value chart
    assert "The first daily snapshot is taken tonight" in html
    for label in ("By chain", "By protocol", "By asset", "By kind", "Income this year", "Impermanent loss"):
        assert label in html
    assert "Uniswap V2" in html


@pytest.fixture
def fresh_prices(eth, usdc):
    """Latest quotes from two hours ago: the charts run to today (stale ones end the chart early)."""
    for token in (eth, usdc):
        token.last_price_at = timezone.now() - timedelta(hours=2)
        token.save(update_fields=["last_price_at"])


def test_the_value_chart_draws_the_snapshots(owner_client, lp, portfolio, fresh_prices):
    for i in range(3):
        PortfolioSnapshotFactory(
            portfolio=portfolio, day=date(2025, 9, 1) + timedelta(days=i), value=D(4000 + 100 * i), deposited=D(4000)
        )
    response = owner_client.get(reverse("portfolios:dashboard"))
    assert response.context["history_days"] == 4  # 3 snapshots + today's live value
    assert "<polyline" in str(response.context["value_chart"])


def test_an_out_of_range_position_is_flagged(owner_client, portfolio, v3_pool, eth, usdc, prices):
    # ETH is 3000 now; the range 1500-2500 USDC per ETH is below it.
    position = position_open(
        portfolio=portfolio,
        pool=v3_pool,
        kind="concentrated_lp",
        opened_at=DEPOSIT_AT,
        range_lower=D("1500"),
        range_upper=D("2500"),
        deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))],
    )
    html = owner_client.get(reverse("portfolios:dashboard")).content.decode()
    assert "above range" in html
    assert f"{position} is out of range" in html


def test_several_portfolios_get_a_switcher_and_the_detail_is_filtered(owner_client, owner, lp, portfolio):
    other = PortfolioFactory(owner=owner, name="Cold wallet")
    html = owner_client.get(reverse("portfolios:dashboard")).content.decode()
    assert "All portfolios" in html
    assert reverse("portfolios:portfolio_detail", args=[other.pk]) in html

    response = owner_client.get(reverse("portfolios:portfolio_detail", args=[other.pk]))
    assert response.status_code == 200
    assert response.context["current"] == other
    assert reverse("portfolios:position_detail", args=[lp.pk]) not in response.content.decode()
    response = owner_client.get(reverse("portfolios:portfolio_detail", args=[portfolio.pk]))
    assert reverse("portfolios:position_detail", args=[lp.pk]) in response.content.decode()


def _bulk_positions(portfolio, pool, eth, usdc, n):
    """n LP positions written directly (the services would take minutes for 500)."""
    positions = Position.objects.bulk_create(
        [
            Position(portfolio=portfolio, pool=pool, kind="lp", opened_at=DEPOSIT_AT + timedelta(minutes=i))
            for i in range(n)
        ]
    )
    txns = Transaction.objects.bulk_create(
        [Transaction(portfolio=portfolio, position=p, kind="lp_deposit", occurred_at=p.opened_at) for p in positions]
    )
    legs = []
    for p, t in zip(positions, txns, strict=True):
        legs += [
            Leg(transaction=t, asset="WETH", token=eth, quantity=D("-1"), fiat_value=D("2000")),
            Leg(transaction=t, asset="USDC", token=usdc, quantity=D("-2000"), fiat_value=D("2000")),
            Leg(transaction=t, asset=f"LP#{p.pk}", quantity=D("4000"), fiat_value=D("4000")),
        ]
    Leg.objects.bulk_create(legs)


@pytest.mark.parametrize("n", [1, 500])
def test_the_dashboard_runs_a_constant_number_of_queries(
    owner_client, portfolio, amm_pool, eth, usdc, prices, django_assert_max_num_queries, n
):
    _bulk_positions(portfolio, amm_pool, eth, usdc, n)
    PortfolioSnapshotFactory(portfolio=portfolio, day=date(2025, 9, 1))
    # session, user, portfolios, summary loader, history, stale prices; the navigation's unread
    # alerts count and the watched pools (alerts app): one each.
    with django_assert_max_num_queries(14):
        response = owner_client.get(reverse("portfolios:dashboard"))
    assert response.status_code == 200
    rows = response.context["open_rows"]
    assert rows.paginator.count == n
    assert len(rows.object_list) == min(n, 50)  # a page of the table; the totals cover all n


def test_the_positions_table_comes_a_page_at_a_time(owner_client, portfolio, amm_pool, eth, usdc, prices):
    _bulk_positions(portfolio, amm_pool, eth, usdc, 120)
    url = reverse("portfolios:dashboard")
    first = owner_client.get(url)
    html = first.content.decode()
    assert len(re.findall(r'href="/portfolios/positions/\d+/"', html)) == 50
    assert "1–50 of 120 open positions" in html
    assert 'href="?open=2#positions"' in html
    # 120 positions of 1 ETH + 2,000 USDC each: the total is over all of them, not the page.
    assert first.context["summary"].deposited == D("4000") * 120
    third = owner_client.get(url, {"open": "3"}).content.decode()
    assert "101–120 of 120 open positions" in third
    shown = re.findall(r'href="/portfolios/positions/(\d+)/"', third)
    assert len(shown) == len(set(shown)) == 20
    # A page past the end shows the last one; nonsense shows the first (never an error).
    assert "101–120" in owner_client.get(url, {"open": "99"}).content.decode()
    assert "1–50 of 120" in owner_client.get(url, {"open": "x"}).content.decode()


def test_the_query_count_is_the_same_for_1_and_500_positions(client, amm_pool, eth, usdc, prices):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for n in (1, 500):
        portfolio = PortfolioFactory(name=f"P{n}")
        _bulk_positions(portfolio, amm_pool, eth, usdc, n)
        client.force_login(portfolio.owner)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("portfolios:dashboard")).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_the_portfolio_detail_of_another_user_is_404(client, stranger, portfolio):
    client.force_login(stranger)
    assert client.get(reverse("portfolios:portfolio_detail", args=[portfolio.pk])).status_code == 404


def test_dashboard_urls_keep_their_names_and_the_old_tax_address_redirects(client):
    assert reverse("portfolios:dashboard") == "/portfolios/"
    assert reverse("portfolios:position_create") == "/portfolios/positions/new/"
    response = client.get(reverse("portfolios:tax"))
    assert response.status_code == 301
    assert response["Location"] == reverse("tax:home")


def test_stale_prices_are_flagged(owner_client, lp, eth, usdc):
    # The fixture's prices are from 2025-10-01: far older than a day. USDC, a stablecoin
    # with no price from the last 7 days, is valued at its peg and said so instead.
    html = owner_client.get(reverse("portfolios:dashboard")).content.decode()
    assert "Stale prices: WETH has no price from the last 24 hours (the oldest from 2025-10-01)." in html
    assert "USDC: no price from the last 7 days, so it is valued at $1.00 (assumed peg)." in html


def test_fresh_prices_raise_no_warning(owner_client, lp, eth, usdc):
    from django.utils import timezone

    type(eth).objects.filter(pk__in=[eth.pk, usdc.pk]).update(last_price_at=timezone.now())
    assert "Stale prices" not in owner_client.get(reverse("portfolios:dashboard")).content.decode()


def test_the_value_history_ends_with_todays_live_value(owner_client, lp, portfolio, fresh_prices):
    PortfolioSnapshotFactory(portfolio=portfolio, day=date(2025, 9, 1), value=D(4100), deposited=D(4000))
    response = owner_client.get(reverse("portfolios:dashboard"))
    summary = response.context["summary"]
    assert response.context["history_days"] == 2
    points = response.context["history"]
    assert points[0] == (date(2025, 9, 1), D(4100), D(4000))
    assert points[-1][1:] == (summary.value, summary.deposited)


def test_the_cached_rows_follow_a_change_the_currency_and_the_page(
    owner_client, owner, portfolio, amm_pool, eth, usdc, prices, fx_rates
):
    """The open rows are rendered once per cached summary; a write, another currency or
    another page never shows the rows rendered before."""
    from accounts.services import user_update_preferences
    from portfolios.services.positions import position_update

    _bulk_positions(portfolio, amm_pool, eth, usdc, 60)
    url = reverse("portfolios:dashboard")
    first = owner_client.get(url).content.decode()
    assert "Renamed position" not in first
    newest = Position.objects.filter(portfolio=portfolio).order_by("-opened_at").first()
    assert f'href="/portfolios/positions/{newest.pk}/"' in first  # newest first: on page 1

    position_update(position=newest, label="Renamed position")
    assert "Renamed position" in owner_client.get(url).content.decode()

    user_update_preferences(user=owner, data={"fiat_currency": "EUR"})
    in_euros = owner_client.get(url).content.decode()
    rows = in_euros[in_euros.index('id="positions"'):in_euros.index("open positions</span>")]
    assert "€" in rows and "$" not in rows

    second_page = owner_client.get(url, {"open": "2"}).content.decode()
    assert f'href="/portfolios/positions/{newest.pk}/"' not in second_page
    assert "51–60 of 60 open positions" in second_page


def test_a_summary_whose_positions_were_evicted_still_shows_every_row(
    owner_client, owner, portfolio, amm_pool, eth, usdc, prices, fx_rates
):
    """The cache keeps a summary's head and positions apart (a page whose rows are already
    rendered reads the head only). Rows not rendered yet (here: another currency) with the
    positions gone on their own are worked out again, not left out."""
    from django.core.cache import cache

    from accounts.services import user_update_preferences
    from portfolios.selectors.cached import _key

    _bulk_positions(portfolio, amm_pool, eth, usdc, 3)
    ids = sorted(Position.objects.filter(portfolio=portfolio).values_list("pk", flat=True))
    url = reverse("portfolios:dashboard")
    first = owner_client.get(url).content.decode()
    key = _key(Portfolio.objects.select_related("owner").get(pk=portfolio.pk))
    assert cache.get(f"{key}:head") is not None
    assert cache.delete(f"{key}:positions")
    user_update_preferences(user=owner, data={"fiat_currency": "EUR"})
    second = owner_client.get(url).content.decode()
    for html in (first, second):
        assert sorted(int(i) for i in re.findall(r'href="/portfolios/positions/(\d+)/"', html)) == ids
    assert "€" in second[second.index('id="positions"'):]
