"""CSV import (native and Koinly): preview, atomic commit, duplicates, row-level errors; export."""

from decimal import Decimal

import pytest

from portfolios.models import Leg, Transaction
from portfolios.services.csv_import import csv_export, csv_import_commit, csv_import_preview
from portfolios.services.legs import LegInput
from portfolios.services.positions import position_open
from tests.portfolios.conftest import DEPOSIT_AT
from tests.portfolios.factories import PortfolioFactory

pytestmark = pytest.mark.django_db
D = Decimal
HEADER = "tx_id,occurred_at,kind,income_type,asset,quantity,fiat_value,is_fee,position,note\n"
GOOD = HEADER + (
    "t1,2025-06-01T12:00:00Z,buy,,USD,-2000,,false,,first buy\n"
    "t1,2025-06-01T12:00:00Z,buy,,ETH,1,2000,false,,\n"
    "t1,2025-06-01T12:00:00Z,buy,,ETH,-0.001,2,true,,\n"
    "t2,2025-07-01T00:00:00Z,reward,liquidity_mining,CRV,100,,false,,\n"
)
KOINLY = (
    "Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
    "Net Worth Amount,Net Worth Currency,Label,Description,TxHash\n"
    "2025-06-01 12:00 UTC,2000,USD,1,ETH,,,2000,USD,,buy eth,0xaaa\n"
    "2025-07-01 00:00 UTC,,,100,CRV,,,60,USD,liquidity mining,farm,0xbbb\n"
    "2025-07-02 00:00 UTC,0.5,ETH,1500,USDC,,,1500,USD,,swap,0xccc\n"
)


@pytest.fixture
def tokens(eth, usdc, crv, prices):
    return {"eth": eth, "usdc": usdc, "crv": crv}


def test_a_preview_lists_the_rows_and_writes_nothing(portfolio, tokens):
    preview = csv_import_preview(portfolio=portfolio, file=GOOD.encode(), fmt="native")
    assert preview.errors == [] and preview.duplicates == []
    assert [r.kind for r in preview.rows] == ["buy", "reward"]
    reward = preview.rows[1]
    assert reward.legs[0].fiat_value == D("60") and reward.legs[0].value_source == "looked_up"  # 100 CRV at 0.60
    assert reward.legs[0].token == tokens["crv"]
    assert preview.rows[0].legs[1].token == tokens["eth"]  # "ETH" is WETH's price symbol
    assert preview.rows[0].row == 2
    assert not Transaction.objects.exists()


def test_a_commit_writes_every_row_with_its_content_hash(portfolio, tokens):
    result = csv_import_commit(portfolio=portfolio, file=GOOD.encode(), fmt="native")
    assert result.ok and result.created == 2
    txns = Transaction.objects.filter(portfolio=portfolio).order_by("occurred_at")
    assert [t.source for t in txns] == ["import", "import"]
    assert all(len(t.dedupe_key) == 64 for t in txns)
    assert txns[0].description == ""
    fee = Leg.objects.get(is_fee=True)
    assert fee.quantity == D("-0.001") and fee.asset == "ETH"


def test_importing_the_same_file_twice_creates_nothing_new(portfolio, tokens):
    csv_import_commit(portfolio=portfolio, file=GOOD.encode(), fmt="native")
    again = csv_import_commit(portfolio=portfolio, file=GOOD.encode(), fmt="native")
    assert again.ok and again.created == 0 and again.duplicates == 2
    assert Transaction.objects.count() == 2
    # the same content under other ids is the same transaction
    renamed = GOOD.replace("t1,", "x1,").replace("t2,", "x2,")
    assert csv_import_commit(portfolio=portfolio, file=renamed.encode(), fmt="native").created == 0


def test_a_row_repeated_inside_the_file_is_imported_once(portfolio, tokens):
    doubled = GOOD + GOOD.splitlines()[-1].replace("t2,", "t3,") + "\n"
    preview = csv_import_preview(portfolio=portfolio, file=doubled, fmt="native")
    assert len(preview.rows) == 2 and len(preview.duplicates) == 1


def test_one_bad_row_means_nothing_is_written(portfolio, tokens):
    bad = GOOD + "t3,2025-07-03T00:00:00Z,transfer_in,,NOPE,5,10,false,,\n"
    result = csv_import_commit(portfolio=portfolio, file=bad.encode(), fmt="native")
    assert result.created == 0
    assert [(e.row, e.field) for e in result.errors] == [(6, "asset")]
    assert "Unknown token 'NOPE'" in result.errors[0].message
    assert not Transaction.objects.exists()


def test_malformed_rows_are_reported_with_their_row_numbers(portfolio, tokens):
    malformed = HEADER + (
        "t1,2025-06-01T12:00:00Z,buy,,USD,-2000,,false,,\n"
        "t1,2025-06-01T12:00:00Z,buy,,ETH,one,2000,false,,\n"
        "t2,2025-06-01 12:00,buy,,ETH,1,2000,false,,\n"
        "t3,2025-06-01T12:00:00Z,teleport,,ETH,1,2000,false,,\n"
    )
    result = csv_import_commit(portfolio=portfolio, file=malformed, fmt="native")
    rows = {(e.row, e.field) for e in result.errors}
    assert (3, "quantity") in rows and (2, "tx_id") in rows  # the bad row and its sibling
    assert (4, "occurred_at") in rows and (5, "kind") in rows
    assert result.created == 0 and not Transaction.objects.exists()


def test_a_file_without_the_required_columns_is_refused(portfolio):
    result = csv_import_commit(portfolio=portfolio, file="a,b\n1,2\n", fmt="native")
    assert {e.field for e in result.errors} >= {"tx_id", "occurred_at", "kind", "asset", "quantity"}


def test_a_missing_price_is_a_row_error_that_asks_for_the_value(portfolio, tokens):
    no_price = HEADER + "t1,2025-08-15T00:00:00Z,transfer_in,,CRV,5,,false,,\n"  # no CRV price within a week
    result = csv_import_commit(portfolio=portfolio, file=no_price, fmt="native")
    assert result.errors[0].field == "fiat_value"
    assert result.errors[0].message == (
        "No CRV price is known for 2025-08-15: add the value of this CRV amount to the file."
    )


def test_a_koinly_file_is_imported(portfolio, tokens):
    preview = csv_import_preview(portfolio=portfolio, file=KOINLY, fmt="koinly")
    assert preview.errors == []
    assert [(r.kind, r.income_type) for r in preview.rows] == [
        ("buy", ""),
        ("reward", "liquidity_mining"),
        ("swap", ""),
    ]
    result = csv_import_commit(portfolio=portfolio, file=KOINLY, fmt="koinly")
    assert result.created == 3
    reward = Transaction.objects.get(kind="reward")
    assert reward.legs.get().fiat_value == D("60")
    assert csv_import_commit(portfolio=portfolio, file=KOINLY, fmt="koinly").created == 0


def test_a_koinly_row_with_an_unsupported_label_is_refused_with_its_row(portfolio, tokens):
    bad = KOINLY + "2025-07-03 00:00 UTC,1,ETH,,,,,3000,USD,gift,gave away,0xddd\n"
    result = csv_import_commit(portfolio=portfolio, file=bad, fmt="koinly")
    assert [(e.row, e.field) for e in result.errors] == [(5, "Label")]
    assert not Transaction.objects.exists()


def test_an_unknown_format_is_refused(portfolio):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        csv_import_preview(portfolio=portfolio, file=GOOD, fmt="excel")


def test_a_file_that_is_not_utf8_is_refused(portfolio):
    result = csv_import_commit(portfolio=portfolio, file=b"\xff\xfe\x00garbage", fmt="native")
    assert "UTF-8" in result.errors[0].message


def test_an_export_imports_back_as_duplicates_and_into_a_new_portfolio(owner, portfolio, amm_pool, tokens):
    position_open(
        portfolio=portfolio,
        pool=amm_pool,
        kind="lp",
        opened_at=DEPOSIT_AT,
        deposits=[LegInput(token=tokens["eth"], quantity=D("1")), LegInput(token=tokens["usdc"], quantity=D("2000"))],
    )
    csv_import_commit(portfolio=portfolio, file=GOOD, fmt="native")
    text = csv_export(portfolio=portfolio)
    assert text.startswith("tx_id,occurred_at,kind,income_type,asset,quantity,fiat_value,is_fee,position,note,"
                           "fiat_currency,category,hidden\n")
    assert ",lp_deposit,,WETH,-1,2000,false,LP#" in text
    back = csv_import_preview(portfolio=portfolio, file=text, fmt="native")
    assert back.errors == [] and back.rows == [] and len(back.duplicates) == 3
    fresh = PortfolioFactory(owner=owner, name="Copy")
    copied = csv_import_commit(portfolio=fresh, file=text, fmt="native")
    assert copied.ok and copied.created == 3
    assert Transaction.objects.filter(portfolio=fresh).count() == 3


def test_a_native_file_may_name_each_value_s_currency_and_the_export_keeps_it(owner, eth):
    from portfolios.models import Leg
    from portfolios.services.csv_import import csv_export, csv_import_commit

    owner.fiat_currency = "GBP"
    owner.save()
    first = PortfolioFactory(owner=owner)
    text = (HEADER.strip() + ",fiat_currency\n"
            "t1,2025-06-01T12:00:00Z,buy,,EUR,-2000,2000,false,,,EUR\n"
            "t1,2025-06-01T12:00:00Z,buy,,ETH,1,2000,false,,,eur\n"
            "t2,2025-06-02T12:00:00Z,buy,,GBP,-100,100,false,,,\n"
            "t2,2025-06-02T12:00:00Z,buy,,ETH,0.05,100,false,,,\n")
    result = csv_import_commit(portfolio=first, file=text.encode(), fmt="native")
    assert result.errors == [] and result.created == 2
    stored = sorted(Leg.objects.filter(transaction__portfolio=first).values_list("asset", "fiat_value",
                                                                                 "fiat_currency"))
    assert stored == [("ETH", D("100"), "GBP"), ("ETH", D("2000"), "EUR"), ("EUR", D("2000"), "EUR"),
                      ("GBP", D("100"), "GBP")]
    exported = csv_export(portfolio=first)
    assert [line.split(",")[10] for line in exported.splitlines()[1:]] == ["EUR", "EUR", "GBP", "GBP"]
    second = PortfolioFactory(owner=owner)
    assert csv_import_commit(portfolio=second, file=exported.encode(), fmt="native").created == 2
    assert sorted(Leg.objects.filter(transaction__portfolio=second).values_list("asset", "fiat_currency")) == [
        ("ETH", "EUR"), ("ETH", "GBP"), ("EUR", "EUR"), ("GBP", "GBP")]


def test_an_unknown_currency_in_the_file_is_a_row_error_and_nothing_is_written(owner, eth):
    from portfolios.models import Transaction
    from portfolios.services.csv_import import csv_import_commit

    portfolio = PortfolioFactory(owner=owner)
    text = (HEADER.strip() + ",fiat_currency\n"
            "t1,2025-06-01T12:00:00Z,buy,,USD,-2000,2000,false,,,XAU\n"
            "t1,2025-06-01T12:00:00Z,buy,,ETH,1,2000,false,,,\n")
    result = csv_import_commit(portfolio=portfolio, file=text.encode(), fmt="native")
    assert result.created == 0 and [e.field for e in result.errors] == ["fiat_currency"]
    assert "XAU" in result.errors[0].message
    assert not Transaction.objects.filter(portfolio=portfolio).exists()
