"""Learn calculator pages: GET forms rendered by the server (no JavaScript needed)."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from pools import amm
from pools.calculators import views

IL_ARTICLE = 'href="/learn/articles/impermanent-loss/"'
PAGES = ["calculators:index", "calculators:impermanent_loss", "calculators:apy", "calculators:break_even"]


def page(client, name, params=None):
    response = client.get(reverse(name), params or {})
    assert response.status_code == 200
    return response, response.content.decode()


def field_html(html: str, name: str) -> str:
    """The markup of one form field's block, from its label to the next field or fieldset."""
    start = html.index(f'<label for="id_{name}">')
    ends = [i for i in (html.find('<div class="field', start), html.find("fieldset", start),
                        html.find("<button", start)) if i != -1]
    return html[start:min(ends)]


# --- every page ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_each_page_renders_without_parameters(client, name):
    response, html = page(client, name)
    assert "<h1>" in html
    assert 'href="/static/calculators/calculators.css"' in html


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("calculators:impermanent_loss", {"model": "concentrated", "price_ratio": "1.2", "lower": "0.8",
                                          "upper": "1.25"}),
        ("calculators:apy", {"direction": "apy_to_apr", "rate": "12", "compounds_per_year": "12"}),
        ("calculators:break_even", {"model": "stableswap", "price_ratio": "0.99", "amplification": "200",
                                    "days": "7", "compounds_per_year": "continuous"}),
    ],
)
def test_each_page_renders_a_result_for_its_parameters(client, name, params):
    response, html = page(client, name, params)
    assert response.context["result"] is not None
    assert 'class="stat calc-stat' in html


@pytest.mark.parametrize("name", PAGES)
def test_pages_have_no_inline_script_or_style(client, name):
    response, html = page(client, name)
    assert "Content-Security-Policy" in response.headers
    assert " style=" not in html and "<style" not in html
    assert all('src="' in tag for tag in re.findall(r"<script[^>]*>", html))


def test_index_links_the_three_calculators_and_the_article(client):
    _, html = page(client, "calculators:index")
    for name in PAGES[1:]:
        assert f'href="{reverse(name)}"' in html
    assert IL_ARTICLE in html


def test_calculators_live_under_learn():
    assert reverse("calculators:index") == "/learn/calculators/"
    assert reverse("calculators:impermanent_loss") == "/learn/calculators/impermanent-loss/"
    assert reverse("calculators:apy") == "/learn/calculators/apy/"
    assert reverse("calculators:break_even") == "/learn/calculators/break-even/"


# --- impermanent loss ------------------------------------------------------------------------


def test_without_parameters_the_il_page_shows_the_doubling_example(client):
    response, html = page(client, "calculators:impermanent_loss")
    assert "−5.7191%" in html
    assert response.context["form"]["price_ratio"].value() == "2"


def test_il_page_shows_the_result_numbers(client):
    _, html = page(client, "calculators:impermanent_loss", {"model": "constant_product", "price_ratio": "4"})
    assert "−20.0000%" in html
    assert '<dd data-testid="value-lp">2.0000</dd>' in html
    assert '<dd data-testid="value-hodl">2.5000</dd>' in html


@pytest.mark.parametrize(
    ("ratio", "status"),
    [("1.1", "In range"), ("0.7", "Out of range (below)"), ("1.25", "Out of range (above)")],
)
def test_il_page_says_whether_a_concentrated_range_is_in_range(client, ratio, status):
    _, html = page(client, "calculators:impermanent_loss",
                   {"model": "concentrated", "price_ratio": ratio, "lower": "0.8", "upper": "1.25"})
    assert status in html


def test_il_page_draws_the_chart_with_200_points_and_marks_the_current_ratio(client):
    response, html = page(client, "calculators:impermanent_loss", {"model": "constant_product", "price_ratio": "3"})
    assert response.context["curve_points"] == 200
    svg = html[html.index('<svg class="chart"'):html.index("</svg>")]
    points = re.search(r'<polyline points="([^"]+)"', svg).group(1).split()
    assert len(points) == 200
    assert "now 3×" in svg
    assert response["Server-Timing"].startswith("il-curve;dur=")


def chart_svg(html: str) -> str:
    return html[html.index('<svg class="chart"'):html.index("</svg>")]


def test_il_chart_marks_the_range_bounds(client):
    _, html = page(client, "calculators:impermanent_loss",
                   {"model": "concentrated", "price_ratio": "5", "lower": "0.5", "upper": "3"})
    svg = chart_svg(html)
    assert "now 5×" in svg and ">lower<" in svg and ">upper<" in svg
    assert svg.count('stroke-dasharray="4 3"') == 3


def test_crowded_range_bounds_keep_their_lines_but_not_their_labels(client):
    _, html = page(client, "calculators:impermanent_loss",
                   {"model": "concentrated", "price_ratio": "1.2", "lower": "0.8", "upper": "1.25"})
    svg = chart_svg(html)
    assert "now 1.2×" in svg and ">lower<" not in svg and ">upper<" not in svg
    assert svg.count('stroke-dasharray="4 3"') == 3
    assert "range bounds (0.8× to 1.25×)" in html


@pytest.mark.parametrize(
    "params",
    [
        {"model": "constant_product"},
        {"model": "weighted", "weights": "0.8,0.2"},
        {"model": "weighted", "weights": "0.25,0.25,0.25,0.25"},
        {"model": "concentrated", "lower": "0.5", "upper": "2"},
        {"model": "stableswap", "amplification": "100"},
        {"model": "stableswap", "amplification": "100", "n_coins": "3"},
        {"model": "stableswap", "amplification": "1000000", "n_coins": "8"},
    ],
    ids=lambda p: "-".join(p.values()),
)
def test_the_il_curve_has_200_points_and_reports_its_cost_for_every_model(client, params):
    response, _ = page(client, "calculators:impermanent_loss", {**params, "price_ratio": "2"})
    assert response.context["curve_points"] == 200
    # Server-Timing carries the curve's own cost; its budget (50 ms) is checked by
    # benchmarks/bench_amm.py, not here (a test asserts no wall-clock duration).
    assert re.fullmatch(r'il-curve;dur=\d+\.\d;desc="200-point IL curve"', response["Server-Timing"])


def test_il_page_links_the_article_and_the_break_even_calculator(client):
    _, html = page(client, "calculators:impermanent_loss",
                   {"model": "concentrated", "price_ratio": "2", "lower": "0.5", "upper": "3"})
    assert IL_ARTICLE in html
    link = re.search(r'href="(/learn/calculators/break-even/\?[^"]+)"', html).group(1).replace("&amp;", "&")
    assert "model=concentrated" in link and "lower=0.5" in link and "days=30" in link


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"model": "constant_product", "price_ratio": "abc"}, "price_ratio", "Enter a number"),
        ({"model": "constant_product", "price_ratio": ""}, "price_ratio", "This field is required"),
        ({"model": "constant_product", "price_ratio": "-1"}, "price_ratio", "Must be greater than 0"),
        ({"model": "constant_product", "price_ratio": "1e999"}, "price_ratio", "capped"),
        ({"model": "constant_product", "price_ratio": "nan"}, "price_ratio", "finite"),
        ({"model": "concentrated", "price_ratio": "2", "lower": "2", "upper": "1"}, "upper",
         "Must be greater than lower"),
        ({"model": "concentrated", "price_ratio": "2", "upper": "3"}, "lower", "Required for the concentrated model"),
        ({"model": "weighted", "price_ratio": "2", "weights": "0.5,0.6"}, "weights", "Weights must sum to 1"),
        ({"model": "stableswap", "price_ratio": "2", "amplification": "0"}, "amplification", "greater than 0"),
        ({"model": "stableswap", "price_ratio": "2", "amplification": "100", "n_coins": "12"}, "n_coins",
         "at most 8"),
    ],
)
def test_invalid_il_input_shows_the_message_next_to_the_field(client, params, field, message):
    response, html = page(client, "calculators:impermanent_loss", params)
    assert response.context["result"] is None and response.context["chart"] is None
    block = field_html(html, field)
    assert message in block
    assert 'aria-invalid="true"' in block


def test_unknown_model_is_a_form_error_not_a_crash(client):
    response, html = page(client, "calculators:impermanent_loss", {"model": "orderbook", "price_ratio": "2"})
    assert "Select a valid choice" in field_html(html, "model")


def test_user_input_is_escaped(client):
    _, html = page(client, "calculators:impermanent_loss", {"model": "constant_product", "price_ratio": "<b>x</b>"})
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_a_solver_failure_shows_a_message_instead_of_a_500(client, monkeypatch):
    def fail(*args, **kwargs):
        raise amm.ConvergenceError("did not converge")

    monkeypatch.setattr(amm, "impermanent_loss_for", fail)
    for name in ("calculators:impermanent_loss", "calculators:break_even"):
        _, html = page(client, name, {"model": "stableswap", "price_ratio": "2", "amplification": "100", "days": "30"})
        assert views.NOT_COMPUTABLE in html


# --- break-even ----------------------------------------------------------------------------


def test_break_even_page_shows_the_fee_apr_needed(client):
    response, html = page(client, "calculators:break_even",
                          {"model": "constant_product", "price_ratio": "2", "days": "30", "compounds_per_year": "365"})
    assert '<p class="stat calc-stat" data-testid="apr-simple">73.80%</p>' in html
    assert "71.72%" in html  # reinvested daily
    assert "−5.7191%" in html
    assert [row["days"] for row in response.context["result"]["horizons"]] == [7, 30, 90, 365]
    assert IL_ARTICLE in html


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"days": "0"}, "days", "Must be greater than 0"),
        ({"days": "abc"}, "days", "Enter a number"),
        ({"days": "99999"}, "days", "capped"),
        ({"compounds_per_year": "7"}, "compounds_per_year", "Select a valid choice"),
    ],
)
def test_invalid_break_even_input_shows_the_message_next_to_the_field(client, params, field, message):
    base = {"model": "constant_product", "price_ratio": "2", "days": "30", "compounds_per_year": "365"}
    _, html = page(client, "calculators:break_even", {**base, **params})
    assert message in field_html(html, field)


# --- APR <-> APY ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "shown"),
    [
        ({"direction": "apr_to_apy", "rate": "10", "compounds_per_year": "365"}, "10.5156%"),
        ({"direction": "apr_to_apy", "rate": "10", "compounds_per_year": "continuous"}, "10.5171%"),
        ({"direction": "apy_to_apr", "rate": "10.5156", "compounds_per_year": "365"}, "10.0000%"),
        ({"direction": "apy_to_apr", "rate": "12", "compounds_per_year": "1"}, "12.0000%"),
    ],
)
def test_apy_page_converts_percent_rates(client, params, shown):
    _, html = page(client, "calculators:apy", params)
    assert f'data-testid="rate-result">{shown}</p>' in html


def test_apy_page_compares_compounding_frequencies(client):
    response, html = page(client, "calculators:apy")
    table = response.context["result"]["table"]
    assert len(table) == 6 and [row["current"] for row in table].count(True) == 1
    assert "/learn/articles/apr-vs-apy-and-real-yield/" in html


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"rate": "ten"}, "rate", "Enter a number"),
        ({"rate": "-100"}, "rate", "Must be greater than -100 %"),
        ({"rate": "1e9"}, "rate", "at most 100000 %"),
        ({"rate": ""}, "rate", "This field is required"),
        ({"compounds_per_year": "0"}, "compounds_per_year", "Select a valid choice"),
    ],
)
def test_invalid_apy_input_shows_the_message_next_to_the_field(client, params, field, message):
    base = {"direction": "apr_to_apy", "rate": "10", "compounds_per_year": "365"}
    response, html = page(client, "calculators:apy", {**base, **params})
    assert response.context["result"] is None
    assert message in field_html(html, field)


def test_percent_display_keeps_tiny_and_huge_values_readable():
    assert views.percent(Decimal("-0.0571909584")) == "−5.7191%"
    assert views.percent(Decimal(0)) == "0.0000%"
    assert views.percent(Decimal("-1.2e-12")) == "−1.200e-10%"
    assert views.percent(Decimal("1e20")) == "1.0000e+22%"
