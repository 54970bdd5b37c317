"""CSV import (upload → preview with row errors → commit, idempotent) and export."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portfolios.models import Transaction
from portfolios.views.imports import IMPORT_CACHE_PREFIX
from tests.portfolios.factories import PortfolioFactory

pytestmark = pytest.mark.django_db
D = Decimal

NATIVE = (
    "tx_id,occurred_at,kind,income_type,asset,quantity,fiat_value,is_fee,position,note\n"
    "t1,2025-06-01T12:00:00Z,buy,,USD,-2000,,false,,first buy\n"
    "t1,2025-06-01T12:00:00Z,buy,,WETH,1,2000,false,,\n"
    "t2,2025-07-01T00:00:00Z,reward,staking,CRV,10,6,false,,\n"
)
BAD_ROW = "t3,2025-07-02T00:00:00Z,transfer_in,,NOPE,5,1,false,,\n"
KOINLY = (
    "Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
    "Net Worth Amount,Net Worth Currency,Label,Description,TxHash\n"
    "2025-06-01 12:00 UTC,2000,USD,1,WETH,,,2000,USD,,,0xabc\n"
)


def upload(client, portfolio, text, fmt="native", name="transactions.csv"):
    data = {
        "action": "preview",
        "format": fmt,
        "file": SimpleUploadedFile(
            name, text.encode("utf-8") if isinstance(text, str) else text, content_type="text/csv"
        ),
    }
    return client.post(reverse("portfolios:portfolio_import", args=[portfolio.pk]), data)


def commit(client, portfolio, token):
    return client.post(
        reverse("portfolios:portfolio_import", args=[portfolio.pk]), {"action": "commit", "token": token}, follow=True
    )


def test_the_upload_page_offers_both_formats(owner_client, portfolio):
    html = owner_client.get(reverse("portfolios:portfolio_import", args=[portfolio.pk])).content.decode()
    assert 'value="native"' in html and 'value="koinly"' in html
    assert 'enctype="multipart/form-data"' in html


def test_a_preview_writes_nothing_and_the_commit_imports(owner_client, portfolio, eth, crv, prices):
    response = upload(owner_client, portfolio, NATIVE)
    assert response.status_code == 200
    preview = response.context["preview"]
    assert len(preview.rows) == 2 and not preview.errors
    html = response.content.decode()
    assert "Import 2 transactions" in html
    assert not Transaction.objects.exists()

    token = response.context["token"]
    assert f'name="token" value="{token}"' in html
    assert "first buy" not in html.split("<form")[1]  # the file's content is not sent back to the client
    done = commit(owner_client, portfolio, token)
    assert done.redirect_chain[-1][0] == reverse("portfolios:portfolio_detail", args=[portfolio.pk])
    assert "Imported 2 transactions." in done.content.decode()
    assert Transaction.objects.filter(portfolio=portfolio, source="import").count() == 2
    assert cache.get(IMPORT_CACHE_PREFIX + token) is None  # a token is used once


def test_reimporting_the_same_file_skips_the_duplicates(owner_client, portfolio, eth, crv, prices):
    commit(owner_client, portfolio, upload(owner_client, portfolio, NATIVE).context["token"])
    again = upload(owner_client, portfolio, NATIVE)
    assert "2 duplicates skipped" in again.content.decode()
    assert "there is nothing to import" in again.content.decode()

    more = NATIVE + "t4,2025-08-01T00:00:00Z,transfer_in,,WETH,0.5,1250,false,,\n"
    response = upload(owner_client, portfolio, more)
    done = commit(owner_client, portfolio, response.context["token"])
    assert "Imported 1 transaction. 2 duplicates skipped." in done.content.decode()
    assert Transaction.objects.filter(portfolio=portfolio).count() == 3


def test_row_errors_are_listed_and_nothing_is_committed_without_leaving_them_out(
    owner_client, portfolio, eth, crv, prices
):
    response = upload(owner_client, portfolio, NATIVE + BAD_ROW)
    assert response.status_code == 200
    html = response.content.decode()
    errors = response.context["preview"].errors
    assert [(e.row, e.field) for e in errors] == [(5, "asset")]
    assert "Unknown token &#x27;NOPE&#x27;" in html or "Unknown token 'NOPE'" in html
    assert "1 row error" in html
    # The only way on with errors is the explicit "leave them out" form.
    assert html.count('name="action" value="commit"') == 1
    assert 'name="skip_errors" value="1"' in html
    # A commit request without that choice imports nothing.
    done = commit(owner_client, portfolio, response.context["token"])
    assert "Nothing was imported" in done.content.decode()
    assert not Transaction.objects.exists()


def test_a_koinly_file_is_previewed(owner_client, portfolio, eth, prices):
    response = upload(owner_client, portfolio, KOINLY, fmt="koinly")
    rows = response.context["preview"].rows
    assert [(r.kind, sorted(leg.asset for leg in r.legs)) for r in rows] == [("buy", ["USD", "WETH"])]


def test_a_file_that_is_not_utf8_is_refused_on_the_row_that_holds_the_bytes(owner_client, portfolio):
    text = NATIVE.replace("first buy", "caf\xe9")  # row 2's note, in Latin-1
    response = upload(owner_client, portfolio, text.encode("latin-1"))
    assert response.status_code == 200
    errors = [(e.row, e.field, e.message) for e in response.context["preview"].errors]
    assert (2, "note", "is not UTF-8 text (byte 0xE9): save the file as CSV (UTF-8)") in errors
    assert "is not UTF-8 text" in response.content.decode()


def test_no_file_is_explained(owner_client, portfolio):
    response = owner_client.post(
        reverse("portfolios:portfolio_import", args=[portfolio.pk]), {"action": "preview", "format": "native"}
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


def test_an_unknown_or_foreign_token_imports_nothing(client, owner, stranger, portfolio, eth, crv, prices):
    client.force_login(owner)
    token = upload(client, portfolio, NATIVE).context["token"]
    # Someone else's portfolio with the owner's token: refused.
    theirs = PortfolioFactory(owner=stranger, name="Theirs")
    client.force_login(stranger)
    done = commit(client, theirs, token)
    assert "This preview has expired or is not yours" in done.content.decode()
    done = commit(client, theirs, "made-up")
    assert "This preview has expired or is not yours" in done.content.decode()
    assert not Transaction.objects.exists()


def test_the_export_is_a_native_csv_that_imports_back_as_duplicates(owner_client, portfolio, eth, crv, prices):
    commit(owner_client, portfolio, upload(owner_client, portfolio, NATIVE).context["token"])
    response = owner_client.get(reverse("portfolios:portfolio_export", args=[portfolio.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="Main-transactions.csv"' in response["Content-Disposition"]
    text = response.content.decode()
    assert text.splitlines()[0] == ("tx_id,occurred_at,kind,income_type,asset,quantity,fiat_value,is_fee,position,"
                                    "note,fiat_currency,category,hidden")
    again = upload(owner_client, portfolio, text)
    assert len(again.context["preview"].duplicates) == 2 and not again.context["preview"].rows


def test_the_format_is_detected_from_the_header(owner_client, portfolio, eth, crv, prices):
    html = owner_client.get(reverse("portfolios:portfolio_import", args=[portfolio.pk])).content.decode()
    assert 'value="auto"' in html and "Detect from the header" in html
    native = upload(owner_client, portfolio, NATIVE, fmt="auto")
    assert len(native.context["preview"].rows) == 2
    assert "Format: <strong data-testid=\"import-format\">Yieldledger</strong> (detected from the header)" in (
        native.content.decode()
    )
    koinly = upload(owner_client, portfolio, KOINLY, fmt="auto")
    assert len(koinly.context["preview"].rows) == 1
    assert koinly.context["fmt"] == "koinly"


def test_an_unrecognised_header_asks_for_the_format_and_names_the_columns(owner_client, portfolio):
    response = upload(owner_client, portfolio, "when,what,amount\n2025-01-01,buy,1\n", fmt="auto")
    assert response.status_code == 200
    assert response.context["preview"] is None
    assert "We could not tell the format from the first line (when, what, amount)" in response.content.decode()


def test_the_good_transactions_can_be_imported_leaving_the_bad_rows_out(owner_client, portfolio, eth, crv, prices):
    response = upload(owner_client, portfolio, NATIVE + BAD_ROW, fmt="auto")
    assert "Import 2 transactions, leave out 1 row error" in response.content.decode()
    done = owner_client.post(
        reverse("portfolios:portfolio_import", args=[portfolio.pk]),
        {"action": "commit", "token": response.context["token"], "skip_errors": "1"},
        follow=True,
    )
    text = done.content.decode().replace("&#x27;", "'")
    assert "Imported 2 transactions. Left out as you asked, 1 row error: row 5 (t3): asset Unknown token 'NOPE'" in text
    assert sorted(Transaction.objects.values_list("kind", flat=True)) == ["buy", "reward"]
    # Fixing the row and importing the file again adds only it.
    fixed = upload(owner_client, portfolio, NATIVE + BAD_ROW.replace("NOPE", "WETH"), fmt="auto")
    assert len(fixed.context["preview"].rows) == 1 and len(fixed.context["preview"].duplicates) == 2


def test_a_header_error_cannot_be_left_out(owner_client, portfolio):
    response = upload(owner_client, portfolio, "tx_id,kind,asset\nt1,buy,WETH\n", fmt="native")
    assert response.context["preview"].errors
    assert 'name="skip_errors"' not in response.content.decode()


def test_import_times_are_shown_in_the_zone_the_column_names(client, owner, portfolio, eth, crv, prices):
    owner.timezone = "America/New_York"
    owner.save()
    client.force_login(owner)
    html = upload(client, portfolio, NATIVE, fmt="auto").content.decode()
    assert "Date (America/New_York)" in html
    assert "2025-06-01 08:00" in html  # 12:00 UTC is 08:00 in New York (EDT, UTC−4)
    assert "Date (UTC)" not in html
