"""/api/v1/calculators/: known values, every kind of bad input (400 naming the field, never
500), solver failures (422) and the OpenAPI schema."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from pools import amm
from pools.calculators import api

IL = "/api/v1/calculators/impermanent-loss/"
APY = "/api/v1/calculators/apy/"
BREAK_EVEN = "/api/v1/calculators/break-even/"

CP = {"model": "constant_product"}
CONC = {"model": "concentrated", "lower": "0.5", "upper": "2"}
STABLE = {"model": "stableswap", "amplification": "100"}
WEIGHTED = {"model": "weighted", "weights": "0.8,0.2"}


def q(value: str, places: str) -> Decimal:
    return Decimal(value).quantize(Decimal(places))


def ok(api_client, url, params):
    response = api_client.get(url, params)
    assert response.status_code == 200, response.content
    return response.json()


# --- impermanent loss --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected_il"),
    [
        ({**CP, "price_ratio": "2"}, "-0.0572"),
        ({**CP, "price_ratio": "0.5"}, "-0.0572"),
        ({**CP, "price_ratio": "4"}, "-0.2000"),
        ({**CP, "price_ratio": "1"}, "0.0000"),
        ({**WEIGHTED, "price_ratio": "2"}, "-0.0327"),
        ({**CONC, "price_ratio": "1.5"}, "-0.0690"),
        ({**CONC, "price_ratio": "2"}, "-0.1953"),
        ({**STABLE, "price_ratio": "1"}, "0.0000"),
    ],
)
def test_impermanent_loss_matches_known_values(api_client, params, expected_il):
    body = ok(api_client, IL, params)
    assert q(body["impermanent_loss"], "0.0001") == Decimal(expected_il)


def test_doubling_price_in_a_constant_product_pool_returns_decimal_strings(api_client):
    body = ok(api_client, IL, {**CP, "price_ratio": "2"})
    assert body == {
        "model": "constant_product",
        "price_ratio": "2",
        "weights": None,
        "lower": None,
        "upper": None,
        "amplification": None,
        "n_coins": None,
        "impermanent_loss": "-0.057190958417936634132",
        "value_lp": "1.4142135623730950488",
        "value_hodl": "1.5",
        "in_range": None,
    }


def test_inputs_of_the_chosen_model_are_echoed(api_client):
    body = ok(api_client, IL, {"model": "weighted", "price_ratio": "3", "weights": " 0.80 , 0.20 ", "lower": "x"})
    assert (body["weights"], body["lower"], body["n_coins"]) == (["0.8", "0.2"], None, None)
    body = ok(api_client, IL, {**STABLE, "price_ratio": "0.98", "n_coins": "3"})
    assert (body["amplification"], body["n_coins"], body["weights"]) == ("100", 3, None)


@pytest.mark.parametrize("ratio", ["0.1", "0.25", "0.5", "2", "3", "10"])
def test_a_50_50_weighted_pool_equals_constant_product(api_client, ratio):
    weighted = ok(api_client, IL, {"model": "weighted", "weights": "0.5,0.5", "price_ratio": ratio})
    product = ok(api_client, IL, {**CP, "price_ratio": ratio})
    for key in ("impermanent_loss", "value_lp", "value_hodl"):
        assert q(weighted[key], "1e-18") == q(product[key], "1e-18")


@pytest.mark.parametrize(
    ("ratio", "in_range"),
    [("0.25", False), ("0.5", True), ("1", True), ("1.5", True), ("2", False), ("3", False)],
)
def test_concentrated_range_reports_whether_the_price_is_in_range(api_client, ratio, in_range):
    assert ok(api_client, IL, {**CONC, "price_ratio": ratio})["in_range"] is in_range


@pytest.mark.parametrize("amplification", ["10", "100", "1000"])
@pytest.mark.parametrize("ratio", ["0.98", "1.05", "0.5"])
def test_stableswap_loses_more_than_constant_product_for_the_same_price_move(api_client, amplification, ratio):
    # A flat curve trades more of its inventory to follow a price move; stable pools lose
    # little in practice only because their coins rarely move (checked independently with a
    # float bisection on the StableSwap invariant: A=100, r=0.99 gives -0.1696 %).
    stable = ok(api_client, IL, {"model": "stableswap", "amplification": amplification, "price_ratio": ratio})
    product = ok(api_client, IL, {**CP, "price_ratio": ratio})
    assert Decimal(stable["impermanent_loss"]) < Decimal(product["impermanent_loss"]) < 0


def test_stableswap_loss_grows_with_amplification_and_tends_to_constant_product(api_client):
    def loss(amplification):
        params = {"model": "stableswap", "amplification": amplification, "price_ratio": "0.98"}
        return Decimal(ok(api_client, IL, params)["impermanent_loss"])

    losses = [loss(a) for a in ("0.000001", "1", "10", "100", "1000")]
    assert losses == sorted(losses, reverse=True)
    product = Decimal(ok(api_client, IL, {**CP, "price_ratio": "0.98"})["impermanent_loss"])
    assert abs(losses[0] - product) < Decimal("1e-8")


@pytest.mark.parametrize(
    "params",
    [CP, WEIGHTED, CONC, STABLE, {**STABLE, "n_coins": "3"}, {"model": "stableswap", "amplification": "1000000",
                                                              "n_coins": "8"}],
    ids=["constant_product", "weighted", "concentrated", "stableswap", "stableswap-3", "stableswap-8-maxA"],
)
def test_curve_true_returns_the_200_point_curve(api_client, params):
    response = api_client.get(IL, {**params, "price_ratio": "2", "curve": "true"})
    assert response.status_code == 200
    curve = response.json()["curve"]
    assert len(curve) == 200
    ratios = [Decimal(p["price_ratio"]) for p in curve]
    assert ratios[0] == Decimal("0.1") and ratios[-1] == Decimal(10) and ratios == sorted(ratios)
    assert all(Decimal(p["impermanent_loss"]) <= 0 for p in curve)
    assert response["Server-Timing"].startswith("il-curve;dur=")


def test_the_curve_is_left_out_unless_asked_for(api_client):
    assert "curve" not in ok(api_client, IL, {**CP, "price_ratio": "2"})
    assert "curve" not in ok(api_client, IL, {**CP, "price_ratio": "2", "curve": "false"})


# --- APR <-> APY ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "key", "expected", "places"),
    [
        ({"apr": "0.1"}, "apy", "0.105156", "1e-6"),  # daily is the default
        ({"apr": "0.1", "compounds_per_year": "365"}, "apy", "0.105156", "1e-6"),
        ({"apr": "0.1", "compounds_per_year": "12"}, "apy", "0.104713", "1e-6"),
        ({"apr": "0.1", "compounds_per_year": "1"}, "apy", "0.1", "1e-6"),
        ({"apr": "0.1", "compounds_per_year": "continuous"}, "apy", "0.105171", "1e-6"),
        ({"apr": "0", "compounds_per_year": "continuous"}, "apy", "0", "1e-6"),
        ({"apy": "0.1", "compounds_per_year": "continuous"}, "apr", "0.095310", "1e-6"),
        ({"apy": "0.10515578161626437394"}, "apr", "0.1", "1e-15"),
        ({"apy": "0.12", "compounds_per_year": "1"}, "apr", "0.12", "1e-15"),
    ],
)
def test_apr_and_apy_convert_as_fractions(api_client, params, key, expected, places):
    body = ok(api_client, APY, params)
    assert q(body[key], places) == Decimal(expected)
    assert body["given"] == ({"apr", "apy"} - {key}).pop()


def test_apy_response_echoes_the_compounding(api_client):
    assert ok(api_client, APY, {"apr": "0.1", "compounds_per_year": "continuous"})["compounds_per_year"] == "continuous"
    assert ok(api_client, APY, {"apr": "0.1"})["compounds_per_year"] == "365"


# --- break-even ----------------------------------------------------------------------------


# Expected values from floats, independently of the library: G = 1.5 / sqrt(2) (holding over
# LP), simple = (G - 1) * 365 / days, n-times = n * (G ** (365 / (n * days)) - 1), continuous
# = ln(G) * 365 / days.
@pytest.mark.parametrize(
    ("params", "simple", "compounded"),
    [
        ({"days": "365"}, "0.060660", "0.058896"),  # 1.5 / sqrt(2) - 1 over a year
        ({"days": "30"}, "0.738032", "0.717217"),
        ({"days": "30", "compounds_per_year": "continuous"}, "0.738032", "0.716513"),
        ({"days": "30", "compounds_per_year": "1"}, "0.738032", "1.047283"),
    ],
)
def test_break_even_apr_for_a_doubling_in_a_constant_product_pool(api_client, params, simple, compounded):
    body = ok(api_client, BREAK_EVEN, {**CP, "price_ratio": "2", **params})
    assert q(body["impermanent_loss"], "0.0001") == Decimal("-0.0572")
    assert q(body["break_even_apr_simple"], "1e-6") == Decimal(simple)
    assert q(body["break_even_apr_compounded"], "1e-6") == Decimal(compounded)


def test_break_even_apy_is_the_growth_that_offsets_the_loss(api_client):
    body = ok(api_client, BREAK_EVEN, {**CP, "price_ratio": "2", "days": "30"})
    growth = Decimal("1.5") / Decimal(2).sqrt()
    expected = growth ** (Decimal(365) / Decimal(30)) - 1
    assert q(body["break_even_apy"], "1e-12") == expected.quantize(Decimal("1e-12"))


@pytest.mark.parametrize("params", [CP, WEIGHTED, CONC, STABLE], ids=lambda p: p["model"])
def test_break_even_works_for_every_model(api_client, params):
    body = ok(api_client, BREAK_EVEN, {**params, "price_ratio": "1.3", "days": "90"})
    assert Decimal(body["break_even_apr_simple"]) > 0 and Decimal(body["impermanent_loss"]) < 0
    assert body["days"] == "90"


def test_no_price_move_needs_no_fees(api_client):
    body = ok(api_client, BREAK_EVEN, {**CP, "price_ratio": "1", "days": "30"})
    assert (body["break_even_apr_simple"], body["break_even_apr_compounded"]) == ("0", "0")


# --- invalid input: 400 naming the field, never 500 ------------------------------------------

BAD_QUERIES = [
    (IL, {}, "model"),
    (IL, {"price_ratio": "2"}, "model"),
    (IL, {"model": "uniswap", "price_ratio": "2"}, "model"),
    (IL, {**CP}, "price_ratio"),
    (IL, {**CP, "price_ratio": ""}, "price_ratio"),
    (IL, {**CP, "price_ratio": "   "}, "price_ratio"),
    (IL, {**CP, "price_ratio": "abc"}, "price_ratio"),
    (IL, {**CP, "price_ratio": "0x10"}, "price_ratio"),
    (IL, {**CP, "price_ratio": "2,5"}, "price_ratio"),
    (IL, {**CP, "price_ratio": "nan"}, "price_ratio"),
    (IL, {**CP, "price_ratio": "NaN"}, "price_ratio"),
    (IL, {**CP, "price_ratio": "sNaN"}, "price_ratio"),
    (IL, {**CP, "price_ratio": "inf"}, "price_ratio"),
    (IL, {**CP, "price_ratio": "-Infinity"}, "price_ratio"),
    (IL, {**CP, "price_ratio": "1e999"}, "price_ratio"),
    (IL, {**CP, "price_ratio": "1e-999"}, "price_ratio"),
    (IL, {**CP, "price_ratio": "9" * 400}, "price_ratio"),
    (IL, {**CP, "price_ratio": "0"}, "price_ratio"),
    (IL, {**CP, "price_ratio": "-2"}, "price_ratio"),
    (IL, {**CP, "price_ratio": "2\x00"}, "price_ratio"),
    (IL, {**CP, "price_ratio": "2", "curve": "maybe"}, "curve"),
    (IL, {"model": "concentrated", "price_ratio": "2", "upper": "2"}, "lower"),
    (IL, {"model": "concentrated", "price_ratio": "2", "lower": "0.5", "upper": ""}, "upper"),
    (IL, {"model": "concentrated", "price_ratio": "2", "lower": "2", "upper": "1"}, "upper"),
    (IL, {"model": "concentrated", "price_ratio": "2", "lower": "1", "upper": "1"}, "upper"),
    (IL, {"model": "concentrated", "price_ratio": "2", "lower": "-1", "upper": "2"}, "lower"),
    (IL, {"model": "concentrated", "price_ratio": "2", "lower": "0.5", "upper": "1e999"}, "upper"),
    (IL, {"model": "concentrated", "price_ratio": "2", "lower": "nan", "upper": "2"}, "lower"),
    (IL, {"model": "weighted", "price_ratio": "2"}, "weights"),
    (IL, {"model": "weighted", "price_ratio": "2", "weights": "0.5,0.6"}, "weights"),
    (IL, {"model": "weighted", "price_ratio": "2", "weights": "0.5"}, "weights"),
    (IL, {"model": "weighted", "price_ratio": "2", "weights": "a,b"}, "weights"),
    (IL, {"model": "weighted", "price_ratio": "2", "weights": "1,0"}, "weights"),
    (IL, {"model": "weighted", "price_ratio": "2", "weights": "0.5,,0.5"}, "weights"),
    (IL, {"model": "weighted", "price_ratio": "2", "weights": ",".join(["0.1"] * 10)}, "weights"),
    (IL, {"model": "weighted", "price_ratio": "2", "weights": "inf,0.5"}, "weights"),
    (IL, {"model": "stableswap", "price_ratio": "2"}, "amplification"),
    (IL, {**STABLE, "price_ratio": "2", "amplification": "0"}, "amplification"),
    (IL, {**STABLE, "price_ratio": "2", "amplification": "-5"}, "amplification"),
    (IL, {**STABLE, "price_ratio": "2", "amplification": "1e7"}, "amplification"),
    (IL, {**STABLE, "price_ratio": "2", "amplification": "Infinity"}, "amplification"),
    (IL, {**STABLE, "price_ratio": "2", "n_coins": "1"}, "n_coins"),
    (IL, {**STABLE, "price_ratio": "2", "n_coins": "9"}, "n_coins"),
    (IL, {**STABLE, "price_ratio": "2", "n_coins": "2.5"}, "n_coins"),
    (IL, {**STABLE, "price_ratio": "2", "n_coins": "many"}, "n_coins"),
    (APY, {}, "apr"),
    (APY, {"apr": ""}, "apr"),
    (APY, {"apr": "0.1", "apy": "0.1"}, "apr"),
    (APY, {"apr": "ten percent"}, "apr"),
    (APY, {"apr": "nan"}, "apr"),
    (APY, {"apr": "inf"}, "apr"),
    (APY, {"apr": "1e999"}, "apr"),
    (APY, {"apr": "-1"}, "apr"),
    (APY, {"apy": "-1.5"}, "apy"),
    (APY, {"apy": "1e999"}, "apy"),
    (APY, {"apr": "0.1", "compounds_per_year": "0"}, "compounds_per_year"),
    (APY, {"apr": "0.1", "compounds_per_year": "-12"}, "compounds_per_year"),
    (APY, {"apr": "0.1", "compounds_per_year": "1.5"}, "compounds_per_year"),
    (APY, {"apr": "0.1", "compounds_per_year": "daily"}, "compounds_per_year"),
    (APY, {"apr": "0.1", "compounds_per_year": "1e9"}, "compounds_per_year"),
    (APY, {"apr": "0.1", "compounds_per_year": "99999999999999999999999"}, "compounds_per_year"),
    (BREAK_EVEN, {**CP, "price_ratio": "2"}, "days"),
    (BREAK_EVEN, {**CP, "price_ratio": "2", "days": "0"}, "days"),
    (BREAK_EVEN, {**CP, "price_ratio": "2", "days": "-30"}, "days"),
    (BREAK_EVEN, {**CP, "price_ratio": "2", "days": "a month"}, "days"),
    (BREAK_EVEN, {**CP, "price_ratio": "2", "days": "nan"}, "days"),
    (BREAK_EVEN, {**CP, "price_ratio": "2", "days": "1e999"}, "days"),
    (BREAK_EVEN, {**CP, "price_ratio": "2", "days": "0.000001"}, "days"),
    (BREAK_EVEN, {**CP, "days": "30"}, "price_ratio"),
    (BREAK_EVEN, {**CP, "price_ratio": "2", "days": "30", "compounds_per_year": "weekly"}, "compounds_per_year"),
    (BREAK_EVEN, {"model": "concentrated", "price_ratio": "2", "days": "30", "lower": "3", "upper": "2"}, "upper"),
    (BREAK_EVEN, {"model": "weighted", "price_ratio": "2", "days": "30", "weights": "0.7,0.2"}, "weights"),
]


@pytest.mark.parametrize(("url", "params", "field"), BAD_QUERIES)
def test_bad_input_is_a_400_naming_the_field(api_client, url, params, field):
    response = api_client.get(url, params)
    assert response.status_code == 400, response.content
    body = response.json()["errors"]
    assert field in body, body
    assert all(isinstance(m, str) and m for m in body[field])


@pytest.mark.parametrize(
    ("params", "message_part"),
    [
        ({**CP, "price_ratio": "1e999"}, "capped"),
        ({**CP, "price_ratio": "0"}, "greater than 0"),
        ({**CP, "price_ratio": "nan"}, "finite"),
        ({"model": "concentrated", "price_ratio": "2", "lower": "2", "upper": "1"}, "greater than lower"),
        ({"model": "weighted", "price_ratio": "2", "weights": "0.5,0.6"}, "sum to 1"),
        ({**STABLE, "price_ratio": "2", "amplification": "1e7"}, "capped"),
    ],
)
def test_messages_say_what_is_wrong(api_client, params, message_part):
    body = api_client.get(IL, params).json()["errors"]
    assert any(message_part in m for messages in body.values() for m in messages), body


@pytest.mark.parametrize(
    "error",
    [amm.ConvergenceError("stableswap price solver did not converge"), ArithmeticError("overflow")],
    ids=["convergence", "overflow"],
)
@pytest.mark.parametrize("url", [IL, BREAK_EVEN])
def test_a_solver_that_cannot_settle_is_a_422_not_a_500(api_client, monkeypatch, url, error):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(amm, "impermanent_loss_for", fail)
    response = api_client.get(url, {**STABLE, "price_ratio": "2", "days": "30"})
    assert response.status_code == 422
    assert "could not be computed" in response.json()["detail"]


def test_library_errors_map_to_the_query_parameter(api_client, monkeypatch):
    def fail(*args, **kwargs):
        raise amm.InvalidParameter("compounding", "must be 'simple', 'continuous' or a positive int")

    monkeypatch.setattr(amm, "break_even_fee_apr", fail)
    response = api_client.get(BREAK_EVEN, {**CP, "price_ratio": "2", "days": "30"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"compounds_per_year": ["Must be 'simple', 'continuous' or a positive int."]}


# --- access and schema ---------------------------------------------------------------------


@pytest.mark.parametrize("url", [IL, APY, BREAK_EVEN])
def test_calculators_are_public_and_throttled_by_the_global_rates(api_client, url, owner_api):
    params = {**CP, "price_ratio": "2", "days": "30", "apr": "0.1"}
    assert api_client.get(url, params).status_code == 200
    assert owner_api.get(url, params).status_code == 200
    view = {IL: api.ImpermanentLossView, APY: api.ApyView, BREAK_EVEN: api.BreakEvenView}[url]()
    throttles = {type(t) for t in view.get_throttles()}
    assert {AnonRateThrottle, UserRateThrottle} <= throttles


def test_schema_documents_the_three_calculators(api_client):
    response = api_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    for path in ("impermanent-loss", "apy", "break-even"):
        operation = schema["paths"][f"/api/v1/calculators/{path}/"]["get"]
        assert {"200", "400", "422"} <= set(operation["responses"])
        assert operation["parameters"]
    il_params = {p["name"] for p in schema["paths"][IL]["get"]["parameters"]}
    assert il_params == {"model", "price_ratio", "weights", "lower", "upper", "amplification", "n_coins", "curve"}
    apy_params = {p["name"]: p for p in schema["paths"][APY]["get"]["parameters"]}
    assert "continuous" in apy_params["compounds_per_year"]["schema"]["pattern"]
    assert "fraction" in apy_params["apr"]["description"]


def test_calculator_views_generate_a_valid_schema_without_warnings(tmp_path):
    call_command(
        "spectacular",
        "--urlconf",
        "tests.pools.calculators.schema_urls",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "schema.yaml"),
    )
    assert "/api/v1/calculators/impermanent-loss/" in (tmp_path / "schema.yaml").read_text()
