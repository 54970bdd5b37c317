"""Format detection from the header line (pure)."""

import pytest

from portfolios.csvformats.detect import detect_format, header_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tx_id,occurred_at,kind,income_type,asset,quantity,fiat_value,is_fee,position,note\n", "native"),
        ("\ufefftx_id, occurred_at ,kind,asset,quantity\r\nt1,2025-01-01T00:00Z,buy,WETH,1\r\n", "native"),
        ("Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency\n", "koinly"),
        ("date,sent_amount,sent currency,received-amount,Received Currency\n", "koinly"),  # Koinly's own aliases
        ("tx_id,kind,asset\n", None),  # native without its time and quantity columns
        ("when,what,amount\n", None),
        ("", None),
    ],
)
def test_detect_format(text, expected):
    assert detect_format(text) == expected


def test_header_of_reads_only_the_first_line():
    assert header_of('a,"b,c", d\n1,2,3\n') == ["a", "b,c", "d"]
