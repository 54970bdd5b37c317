import datetime as dt
import re
from decimal import Decimal

import pytest

from config.charts import Series, bar_chart, line_chart, log_ticks, nice_step, y_axis


def without_hit_targets(svg: str) -> str:
    return re.sub(r'<g class="chart-hit".*?</g>', "", svg)


def hit_titles(svg: str) -> list[str]:
    return re.findall(r'<g class="chart-hit" tabindex="0"><title>(.*?)</title>', svg)


def y_tick_labels(svg: str) -> list[str]:
    return re.findall(r'<text x="78" y="[\d.]+" text-anchor="end" fill="#4a5866">([^<]*)</text>', svg)


def x_tick_positions(svg: str) -> dict[str, float]:
    found = re.findall(r'<text x="([\d.]+)" y="248" text-anchor="\w+" fill="#4a5866">([^<]*)</text>', svg)
    return {label: float(x) for x, label in found}


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
    drawn = without_hit_targets(svg)
    assert drawn.count("<circle") == 1 and drawn.count("<polyline") == 1


def test_empty_chart_says_so():
    assert "No data yet" in line_chart([Series("s", [])])
    assert "No data yet" in bar_chart([])


def test_bar_chart_marks_negative_values():
    svg = bar_chart([("ETH", Decimal("100")), ("Loss", Decimal("-50"))])
    assert "#a4161a" in svg and "$100.00" in svg


def test_every_point_has_a_focusable_title_with_all_series_values():
    days = [dt.date(2025, 3, d) for d in (1, 2, 3)]
    svg = line_chart(
        [
            Series("Total APY", [(d, Decimal(v)) for d, v in zip(days, ("14", "15.5", "13"), strict=True)]),
            Series("Rewards", [(days[0], Decimal("3")), (days[1], None), (days[2], Decimal("2.25"))]),
        ],
        y_kind="percent",
    )
    assert hit_titles(svg) == [
        "2025-03-01: Total APY 14.00%; Rewards 3.00%",
        "2025-03-02: Total APY 15.50%",
        "2025-03-03: Total APY 13.00%; Rewards 2.25%",
    ]


def test_a_year_of_daily_points_is_bucketed_to_at_most_120_targets_keeping_the_latest():
    start = dt.date(2025, 1, 1)
    pts = [(start + dt.timedelta(days=i), Decimal(i)) for i in range(365)]
    titles = hit_titles(line_chart([Series("TVL", pts)], y_kind="usd"))
    assert len(titles) <= 120
    assert titles[-1] == "2025-12-31: TVL $364.00"


def test_bars_carry_their_full_label_and_value_in_a_title():
    svg = bar_chart([("Price change of the tokens you deposited", Decimal("-1234.5"))])
    assert hit_titles(svg) == ["Price change of the tokens you deposited: −$1,234.50"]


def test_a_non_negative_series_never_gets_a_negative_tick():
    # The TVL of the issue: 0 to 78M with y_zero used to pad the axis down to -3.9M.
    days = [dt.date(2025, 1, d) for d in range(1, 6)]
    svg = line_chart([Series("TVL", [(d, Decimal(v)) for d, v in zip(days, (0, 20e6, 50e6, 70e6, 78e6), strict=True)])],
                     y_kind="usd", y_zero=True)
    labels = y_tick_labels(svg)
    assert labels[0] == "$0.00"
    assert not any(label.startswith(("−", "-")) for label in labels)
    assert labels == ["$0.00", "$20.0M", "$40.0M", "$60.0M", "$80.0M"]


def test_round_ticks_replace_the_raw_quarters_of_the_range():
    assert nice_step(9.9) == 2.5
    assert nice_step(78e6) == 20e6
    assert nice_step(0.37) == 0.1
    assert y_axis(2.58, 7.53, floor_zero=True) == (2.0, 8.0, [2.0, 4.0, 6.0, 8.0])


def test_a_capped_axis_ends_at_the_cap():
    # Impermanent loss is never above 0: the axis ends at 0 even when the data touches it.
    lo, hi, ticks = y_axis(-42.5, 0.0, floor_zero=False, cap=0.0)
    assert (lo, hi) == (-60.0, 0.0)
    assert ticks == [-60.0, -40.0, -20.0, 0.0]


def test_a_log_axis_puts_one_in_the_middle_of_a_tenth_to_ten():
    assert log_ticks(0.1, 10) == [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0]
    assert log_ticks(0.01, 100) == [0.01, 0.1, 1.0, 10.0, 100.0]
    svg = line_chart([Series("IL", [(Decimal("0.1"), -40), (1, 0), (10, -40)])], x_kind="ratio", x_scale="log",
                     y_kind="percent", y_max=0)
    xs = x_tick_positions(svg)
    assert xs["1×"] - xs["0.1×"] == pytest.approx(xs["10×"] - xs["1×"], abs=0.2)
    assert y_tick_labels(svg)[-1] == "0.0%"
