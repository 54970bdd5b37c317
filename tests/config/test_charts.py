import datetime as dt
from decimal import Decimal

from config.charts import Series, bar_chart, line_chart


def test_line_chart_draws_each_series_and_escapes_labels():
    days = [dt.date(2025, 1, d) for d in range(1, 6)]
    svg = line_chart([Series("<APY>", [(d, Decimal(i)) for i, d in enumerate(days)])], title="APY & TVL")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "&lt;APY&gt;" in svg and "<APY>" not in svg
    assert "APY &amp; TVL" in svg
    assert svg.count("<polyline") == 1
    assert "2025-01-01" in svg


def test_line_chart_breaks_lines_at_gaps():
    pts = [(1, 1), (2, None), (3, 2), (4, 3)]
    svg = line_chart([Series("s", pts)], x_kind="number")
    assert svg.count("<circle") == 1 and svg.count("<polyline") == 1


def test_empty_chart_says_so():
    assert "No data yet" in line_chart([Series("s", [])])
    assert "No data yet" in bar_chart([])


def test_bar_chart_marks_negative_values():
    svg = bar_chart([("ETH", Decimal("100")), ("Loss", Decimal("-50"))])
    assert "#a4161a" in svg and "$100.00" in svg
