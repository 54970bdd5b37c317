"""Record validation on real DeFiLlama records (and altered copies of them)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from pools.sources.types import PoolBatch, PoolKind, PoolRecord, RejectReason
from pools.sources.validation import (
    InvalidRecord,
    loads_json,
    parse_history_point,
    parse_pool,
    parse_timestamp,
    to_decimal,
    validate_pools,
)
from tests.pools.sources._support import fixture_bytes


@pytest.fixture(scope="module")
def full_records() -> list[dict]:
    return loads_json(fixture_bytes("pools-fullfields-first50.json"))["data"]


@pytest.fixture(scope="module")
def dex_records() -> list[dict]:
    return loads_json(fixture_bytes("pools-dex-first50.json"))["data"]


def _decimal_fields(record: PoolRecord) -> list[str]:
    return [
        "tvl_usd", "apy", "apy_base", "apy_reward", "apy_mean_30d", "apy_base_7d", "apy_pct_1d",
        "apy_pct_7d", "apy_pct_30d", "volume_usd_1d", "volume_usd_7d", "il_7d", "mu", "sigma",
    ]  # fmt: skip


def test_real_full_field_record_is_parsed_completely(full_records):
    raw = full_records[0]
    record = parse_pool(raw, origin="test")
    assert record.pool_id == "bc33d1ea-f566-40eb-b0a8-8d8dcf425f18"
    assert (record.chain, record.project, record.symbol) == ("Base", "aerodrome-slipstream", "WETH-OETHB")
    assert record.kind is PoolKind.CONCENTRATED
    assert record.pool_meta == "CL1 - 0.04%"
    # exact decimal values from the JSON text, never via float
    assert record.tvl_usd == Decimal("815672271.0")
    assert record.apy_base == Decimal("0.00008")  # written "8e-05" in the payload
    assert record.apy_reward == Decimal("0.07316")
    assert record.apy == Decimal("0.07324")
    assert record.mu == Decimal("0.04528") and record.sigma == Decimal("0.00161")
    assert record.count == 47 and isinstance(record.count, int)
    assert record.outlier is False and record.stablecoin is False
    assert record.il_risk == "no" and record.exposure == "multi"
    assert record.predictions.predicted_class == "Down"
    assert record.predictions.predicted_probability == Decimal("60")
    assert record.predictions.binned_confidence == 1
    assert record.reward_tokens == ("0x940181a94A35A4569E4529A3CDfB74e38FD98631",)
    assert len(record.underlying_tokens) == 2
    assert record.volume_usd_1d == Decimal("18340.56899")
    assert record.il_7d is None and record.apy_pct_7d is None
    assert record.updated_at == datetime(2025, 8, 31, 14, 7, 28, 874000, tzinfo=UTC)
    assert record.derived == frozenset()


@pytest.mark.parametrize("fixture", ["pools-fullfields-first50.json", "pools-dex-first50.json"])
def test_every_number_is_decimal(fixture):
    records, rejections = validate_pools(loads_json(fixture_bytes(fixture))["data"])
    assert len(records) == 50 and rejections == []
    for record in records:
        for name in _decimal_fields(record):
            value = getattr(record, name)
            assert value is None or isinstance(value, Decimal), (name, value)
        assert not any(isinstance(getattr(record, n), float) for n in record.__slots__)


def test_core_field_record_gets_derived_pool_info(dex_records):
    raw = next(r for r in dex_records if r["symbol"] == "WISE-WETH")
    record = parse_pool(raw)
    assert record.kind is PoolKind.AMM
    assert record.apy_reward is None and record.reward_tokens is None  # nulls kept
    assert record.exposure == "multi"
    assert record.il_risk == "yes"
    assert record.stablecoin is False  # WETH is a known volatile asset
    assert record.derived == {"stablecoin", "il_risk", "exposure"}
    assert record.stablecoin is not None


def test_derivation_can_be_switched_off(dex_records):
    record = parse_pool(dex_records[0], derive_missing=False)
    assert (record.stablecoin, record.il_risk, record.exposure) == (None, None, None)
    assert record.derived == frozenset()


def _altered(raw: dict, **changes) -> dict:
    copy = dict(raw)
    for key, value in changes.items():
        if value is _DROP:
            copy.pop(key, None)
        else:
            copy[key] = value
    return copy


_DROP = object()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"pool": _DROP}, RejectReason.MISSING_POOL_ID),
        ({"pool": None}, RejectReason.MISSING_POOL_ID),
        ({"pool": "   "}, RejectReason.MISSING_POOL_ID),
        ({"pool": 12345}, RejectReason.MISSING_POOL_ID),
        ({"chain": None}, RejectReason.MISSING_FIELD),
        ({"symbol": ""}, RejectReason.MISSING_FIELD),
        ({"project": 7}, RejectReason.BAD_TYPE),
        ({"rewardTokens": "0xabc"}, RejectReason.BAD_TYPE),
        ({"underlyingTokens": [1, 2]}, RejectReason.BAD_TYPE),
        ({"poolMeta": 0.05}, RejectReason.BAD_TYPE),
        ({"ilRisk": 1}, RejectReason.BAD_TYPE),
    ],
)
def test_a_record_without_a_trustworthy_identity_is_rejected_with_reason(full_records, changes, reason):
    raw = _altered(full_records[3], **changes)
    with pytest.raises(InvalidRecord) as info:
        parse_pool(raw)
    assert info.value.reason is reason
    expected_id = raw.get("pool") if isinstance(raw.get("pool"), str) and raw.get("pool").strip() else None
    assert info.value.as_rejection().pool_id == expected_id


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"tvlUsd": _DROP}, "tvl_usd", RejectReason.MISSING_FIELD),
        ({"tvlUsd": Decimal("NaN")}, "tvl_usd", RejectReason.NON_FINITE),
        ({"tvlUsd": Decimal("Infinity")}, "tvl_usd", RejectReason.NON_FINITE),
        ({"apy": Decimal("-Infinity")}, "apy", RejectReason.NON_FINITE),
        ({"apyBase": float("nan")}, "apy_base", RejectReason.NON_FINITE),
        ({"sigma": float("inf")}, "sigma", RejectReason.NON_FINITE),
        ({"volumeUsd1d": Decimal("NaN")}, "volume_usd_1d", RejectReason.NON_FINITE),
        ({"tvlUsd": Decimal("999.99")}, "tvl_usd", RejectReason.TVL_OUT_OF_RANGE),
        ({"tvlUsd": Decimal("-5")}, "tvl_usd", RejectReason.TVL_OUT_OF_RANGE),
        ({"tvlUsd": Decimal("50000000000.01")}, "tvl_usd", RejectReason.TVL_OUT_OF_RANGE),
        ({"tvlUsd": Decimal("1E+12")}, "tvl_usd", RejectReason.TVL_OUT_OF_RANGE),
        ({"apy": Decimal("1000000.1")}, "apy", RejectReason.APY_TOO_HIGH),
        ({"apyReward": Decimal("5E+6")}, "apy_reward", RejectReason.APY_TOO_HIGH),
        ({"apyBase": Decimal(-1)}, "apy_base", RejectReason.NEGATIVE),
        ({"apyReward": Decimal("-1")}, "apy_reward", RejectReason.NEGATIVE),
        ({"volumeUsd7d": Decimal(-10)}, "volume_usd_7d", RejectReason.NEGATIVE),
        ({"sigma": Decimal("-0.2")}, "sigma", RejectReason.NEGATIVE),
        ({"volumeUsd1d": Decimal("1E+301")}, "volume_usd_1d", RejectReason.OUT_OF_RANGE),
        ({"mu": Decimal("-5E+40")}, "mu", RejectReason.OUT_OF_RANGE),
        ({"apyPct7D": Decimal("1E+12")}, "apy_pct_7d", RejectReason.OUT_OF_RANGE),
        ({"apyBase7d": Decimal("1E+300")}, "apy_base_7d", RejectReason.APY_TOO_HIGH),
        ({"count": 10**9}, "count", RejectReason.BAD_TYPE),  # more days than exist (and than the column holds)
        ({"predictions": {"predictedClass": "Up", "predictedProbability": Decimal("1E+9")}}, "predictions",
         RejectReason.OUT_OF_RANGE),
        ({"tvlUsd": "lots"}, "tvl_usd", RejectReason.BAD_TYPE),
        ({"tvlUsd": True}, "tvl_usd", RejectReason.BAD_TYPE),
        ({"apy": [1, 2]}, "apy", RejectReason.BAD_TYPE),
        ({"count": Decimal("4.5")}, "count", RejectReason.BAD_TYPE),
        ({"count": -3}, "count", RejectReason.BAD_TYPE),
        ({"count": Decimal("1E+400")}, "count", RejectReason.BAD_TYPE),
        ({"outlier": "perhaps"}, "outlier", RejectReason.BAD_TYPE),
        ({"predictions": "up"}, "predictions", RejectReason.BAD_TYPE),
        ({"timestamp": "yesterday"}, "updated_at", RejectReason.BAD_TIMESTAMP),
    ],
)
def test_a_bad_value_invalidates_only_its_field(full_records, changes, field, reason):
    raw = _altered(full_records[3], **changes)
    good = parse_pool(full_records[3])
    record = parse_pool(raw)
    assert record.invalid_fields == {field: str(reason)}
    assert getattr(record, field) is None
    # every other field is parsed as usual
    for name in ("tvl_usd", "apy", "apy_base", "apy_reward", "sigma", "volume_usd_1d", "count", "updated_at"):
        if name != field:
            assert getattr(record, name) == getattr(good, name), name


@pytest.mark.parametrize(
    ("tvl", "accepted"),
    [("1000", True), ("1000.0", True), ("999.999", False), ("50000000000", True), ("50000000001", False)],
)
def test_tvl_bounds_are_inclusive(full_records, tvl, accepted):
    record = parse_pool(_altered(full_records[0], tvlUsd=Decimal(tvl)))
    if accepted:
        assert record.tvl_usd == Decimal(tvl) and not record.invalid
    else:
        assert record.tvl_usd is None and record.invalid_fields == {"tvl_usd": "tvl_out_of_range"}


def test_apy_limit_is_inclusive(full_records):
    assert parse_pool(_altered(full_records[0], apy=Decimal(1_000_000))).apy == Decimal(1_000_000)


def test_negative_apys_are_invalid_but_changes_keep_their_sign(full_records):
    """DeFiLlama reports no negative APY (its own are floored at 0): a negative one,
    typically -1, is an error value, not a yield of 0."""
    raw = _altered(
        full_records[1],
        apy=Decimal("-1.5"),
        apyBase=Decimal("-0.2"),
        apyReward=Decimal("-3"),
        apyMean30d=Decimal("-0.01"),
        apyPct1D=Decimal("-0.04"),
        il7d=Decimal("-0.5"),
    )
    record = parse_pool(raw)
    assert (record.apy, record.apy_base, record.apy_reward, record.apy_mean_30d) == (None, None, None, None)
    assert record.invalid_fields == dict.fromkeys(["apy", "apy_base", "apy_reward", "apy_mean_30d"], "negative")
    assert record.apy_pct_1d == Decimal("-0.04")
    assert record.il_7d == Decimal("-0.5")


def test_nan_and_infinity_tokens_in_json_text_are_caught():
    body = fixture_bytes("pools-fullfields-first50.json").decode()
    body = body.replace('"tvlUsd":815672271.0', '"tvlUsd":NaN', 1).replace('"apy":2.12,', '"apy":Infinity,', 1)
    records, rejections = validate_pools(loads_json(body)["data"])
    assert len(records) == 50 and rejections == []
    invalid = {r.pool_id: r.invalid_fields for r in records if r.invalid}
    assert invalid == {
        "bc33d1ea-f566-40eb-b0a8-8d8dcf425f18": {"tvl_usd": "non_finite"},
        "57d30b9c-fc66-4ac2-b666-69ad5f410cce": {"apy": "non_finite"},
    }


def test_validate_pools_counts_reasons_and_drops_duplicates(full_records):
    items = [
        *full_records[:5],
        full_records[0],  # duplicate id
        _altered(full_records[6], pool=_DROP),
        _altered(full_records[7], tvlUsd=Decimal(10)),  # kept, with its TVL marked invalid
        _altered(full_records[8], chain=None),
        _altered(full_records[9], rewardTokens={"a": 1}),
        "not a record",
    ]
    records, rejections = validate_pools(items)
    assert [r.pool_id for r in records] == [r["pool"] for r in [*full_records[:5], full_records[7]]]
    assert records[-1].invalid_fields == {"tvl_usd": "tvl_out_of_range"}
    batch = PoolBatch(tuple(records), tuple(rejections), datetime.now(UTC))
    assert batch.rejection_counts == {
        "duplicate_pool_id": 1,
        "missing_pool_id": 1,
        "missing_field": 1,
        "bad_type": 1,
        "not_an_object": 1,
    }
    # rejections keep the pool id when there is one (ingestion does not count those pools missing)
    assert {r.pool_id for r in rejections} == {None, full_records[0]["pool"], full_records[8]["pool"],
                                               full_records[9]["pool"]}


def test_to_decimal_conversions():
    assert to_decimal(0.1, "x") == Decimal("0.1")  # via str(), not the binary float
    assert to_decimal(7, "x") == Decimal(7)
    assert to_decimal("  ", "x") is None and to_decimal(None, "x") is None
    assert to_decimal("1e-05", "x") == Decimal("0.00001")
    with pytest.raises(InvalidRecord):
        to_decimal("NaN", "x")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-08-31T14:07:28.874Z", datetime(2025, 8, 31, 14, 7, 28, 874000, tzinfo=UTC)),
        ("2025-08-31T16:07:28+02:00", datetime(2025, 8, 31, 14, 7, 28, tzinfo=UTC)),
        ("2025-08-31T14:07:28", datetime(2025, 8, 31, 14, 7, 28, tzinfo=UTC)),
        (1667555277, datetime(2022, 11, 4, 9, 47, 57, tzinfo=UTC)),
        (1667555277000, datetime(2022, 11, 4, 9, 47, 57, tzinfo=UTC)),
        (None, None),
    ],
)
def test_parse_timestamp(value, expected):
    assert parse_timestamp(value) == expected


def test_history_point_from_real_chart():
    data = json.loads(fixture_bytes("chart-10137e20-efbc-4e15-a733-17ecb52c48e8.json"), parse_float=Decimal)["data"]
    point = parse_history_point(data[0])
    assert point.timestamp.tzinfo is UTC
    assert isinstance(point.tvl_usd, Decimal) and isinstance(point.apy, Decimal)
    # history keeps small TVLs (no $1,000 floor) but not NaN
    assert parse_history_point({**data[0], "tvlUsd": Decimal(5)}).tvl_usd == Decimal(5)
    with pytest.raises(InvalidRecord):
        parse_history_point({**data[0], "apy": Decimal("NaN")})
    assert parse_history_point({**data[0], "apy": Decimal(-2)}).apy == Decimal(0)


@pytest.mark.parametrize(("pool_old", "address"), [
    ("0x88e6A0c2dDD26FEEb64F039a2c41296FcB3f5640", "0x88e6a0c2ddd26feeb64f039a2c41296fcb3f5640"),
    ("0xDC24316b9AE028F1497c275EB9192a3Ea0f67022-ethereum", "0xdc24316b9ae028f1497c275eb9192a3ea0f67022"),  # Curve
    ("ethereum-0x0b1a513ee24972daef112bc777a5610d4325c9e7", "0x0b1a513ee24972daef112bc777a5610d4325c9e7"),  # Fluid
    ("some-old-id", None), (None, None),
])
def test_the_pool_contract_is_read_from_the_old_pool_id(full_records, pool_old, address):
    assert parse_pool(_altered(full_records[0], pool_old=pool_old)).address == address


def test_unexpected_labels_become_unknown_instead_of_dropping_the_pool(full_records):
    record = parse_pool(_altered(full_records[0], ilRisk="maybe", exposure="MULTI"))
    assert record.il_risk is None  # unknown label: stored as unknown (the risk score treats it as risky)
    assert record.exposure == "multi"
    assert "il_risk" not in record.derived
