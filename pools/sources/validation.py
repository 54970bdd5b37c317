"""Parsing and validation of source payloads into the typed records of ``types``
(one rule set for the live API and the bundled files; no Django imports).

Numbers
-------
Every number is a :class:`~decimal.Decimal` parsed from the JSON *text*
(``json.loads(..., parse_float=Decimal)``) or, when a float slips through,
converted with ``Decimal(str(x))``. Floats are never stored. The only integers
kept as ``int`` are counts (``count``, ``decimals``, ``binned_confidence``).

Validation (one rule set for the live API and the bundled files)
----------------------------------------------------------------
A record is **rejected** (kept out of ``PoolBatch.records`` and listed in
``PoolBatch.rejections`` with a reason code) only when it cannot be trusted to
be the pool it names:

=====================  ===============================================================
reason                 condition
=====================  ===============================================================
``not_an_object``      the list item is not a JSON object
``missing_pool_id``    ``pool`` is absent, null or blank
``duplicate_pool_id``  the same pool id appeared earlier in the same payload
``missing_field``      ``chain``, ``project`` or ``symbol`` is absent/null/blank
``bad_type``           ``chain``, ``project``, ``symbol``, ``poolMeta`` or a token list has
                       the wrong JSON type; an unexpected ``ilRisk``/``exposure`` label is
                       *not* rejected but stored as ``None`` (unknown)
=====================  ===============================================================

A bad **value** in an otherwise sound record only invalidates that field: it is
set to ``None`` and listed in ``PoolRecord.invalid`` as ``(field, reason)``, and
ingestion keeps the pool's last good value for it while the record's valid
fields update (a new pool without a valid TVL is not created):

======================  ==============================================================
reason                  condition (field-level)
======================  ==============================================================
``non_finite``          NaN or +/-Infinity
``bad_type``            the wrong JSON type (a list where a number is due...)
``missing_field``       ``tvlUsd`` absent or null
``tvl_out_of_range``    ``tvlUsd`` < $1,000 or > $50,000,000,000
``apy_too_high``        ``apy``, ``apyBase``, ``apyReward``, ``apyMean30d`` or ``apyBase7d`` > 1,000,000 %
``negative``            an APY (``apy``, ``apyBase``, ``apyReward``, ``apyMean30d``,
                        ``apyBase7d``), a volume or ``sigma`` below zero (DeFiLlama sends
                        none: its negative yields are already 0, so ``-1`` is an error code)
``out_of_range``        a volume above $10^15, or a percent change, ``il7d``, ``mu`` or
                        ``sigma`` beyond +/-10^9 (too large to be real, or to store)
``bad_timestamp``       a timestamp that cannot be parsed (the batch time is used)
======================  ==============================================================

Percent *changes* (``apyPct1D`` ...), ``il7d`` and ``mu`` keep their sign. Nulls
are kept as ``None`` wherever the API allows them; ingestion decides when a null
APY component may replace a stored value (``pools.services.ingest``).
History points (``/chart``) have no last good value to fall back on: there a
negative APY is stored as 0 and any other bad value rejects the point.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pools.sources.classify import derive_exposure, derive_il_risk, derive_stablecoin, infer_kind
from pools.sources.types import (
    PoolHistoryPoint,
    PoolPredictions,
    PoolRecord,
    Rejection,
    RejectReason,
)

__all__ = [
    "APY_FIELDS_CLAMPED",
    "MAX_APY",
    "MAX_TVL_USD",
    "MIN_TVL_USD",
    "InvalidRecord",
    "loads_json",
    "parse_history_point",
    "parse_pool",
    "parse_timestamp",
    "to_decimal",
    "validate_pools",
]

MIN_TVL_USD = Decimal("1000")
MAX_TVL_USD = Decimal("50000000000")
MAX_APY = Decimal("1000000")
MAX_VOLUME_USD = Decimal("1E+15")
MAX_ABS_STAT = Decimal("1E+9")  # percent changes, il7d, mu, sigma

#: APY-level fields whose negative values are stored as 0 (as DeFiLlama does).
APY_FIELDS_CLAMPED = ("apy", "apyBase", "apyReward", "apyMean30d", "apyBase7d")
#: APY-level fields checked against :data:`MAX_APY`.
APY_FIELDS_CAPPED = ("apy", "apyBase", "apyReward", "apyMean30d", "apyBase7d")
#: API name -> PoolRecord field of the APY-level fields.
APY_FIELD_NAMES = {"apy": "apy", "apyBase": "apy_base", "apyReward": "apy_reward", "apyMean30d": "apy_mean_30d",
                   "apyBase7d": "apy_base_7d"}


# --------------------------------------------------------------------------- parsing helpers
class InvalidRecord(ValueError):
    """Raised by the parsers; turned into a :class:`Rejection` by the batch validators."""

    def __init__(self, reason: RejectReason, detail: str = "", pool_id: str | None = None):
        super().__init__(f"{reason}: {detail}" if detail else str(reason))
        self.reason = reason
        self.detail = detail
        self.pool_id = pool_id

    def as_rejection(self) -> Rejection:
        return Rejection(self.pool_id, str(self.reason), self.detail)


def loads_json(text: str | bytes) -> Any:
    """Parse JSON keeping every non-integer number as ``Decimal``.

    ``NaN``/``Infinity`` tokens (which Python's json accepts) become
    ``Decimal('NaN')``/``Decimal('Infinity')`` so validation can reject them.
    """
    return json.loads(text, parse_float=Decimal, parse_constant=Decimal)


def to_decimal(value: Any, name: str) -> Decimal | None:
    """Convert a JSON/CSV value to ``Decimal``; ``None``/``""`` -> ``None``.

    Raises :class:`InvalidRecord` (``bad_type`` / ``non_finite``).
    """
    if value is None:
        return None
    if isinstance(value, bool):  # bool is an int subclass: never a number here
        raise InvalidRecord(RejectReason.BAD_TYPE, f"{name}={value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidRecord(RejectReason.NON_FINITE, f"{name}={value!r}")
        result = Decimal(str(value))
    elif isinstance(value, str):
        text = value.strip()
        if text == "":
            return None
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise InvalidRecord(RejectReason.BAD_TYPE, f"{name}={value!r}") from None
    else:
        raise InvalidRecord(RejectReason.BAD_TYPE, f"{name}={type(value).__name__}")
    if not result.is_finite():
        raise InvalidRecord(RejectReason.NON_FINITE, f"{name}={value!r}")
    return result


def _to_int(value: Any, name: str, limit: int = 10**6) -> int | None:
    """A count (days of data, a confidence bin): a whole number from 0 to ``limit``."""
    number = to_decimal(value, name)
    if number is None:
        return None
    if number != number.to_integral_value() or not (0 <= number <= limit):
        raise InvalidRecord(RejectReason.BAD_TYPE, f"{name}={value!r} is not a plausible count")
    return int(number)


def _to_bool(value: Any, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise InvalidRecord(RejectReason.BAD_TYPE, f"{name}={value!r}")


def _to_str(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    raise InvalidRecord(RejectReason.BAD_TYPE, f"{name}={type(value).__name__}")


def _to_tokens(value: Any, name: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, list | tuple) and all(isinstance(t, str) for t in value):
        return tuple(value)
    raise InvalidRecord(RejectReason.BAD_TYPE, f"{name} is not a list of strings")


def _choice(value: Any, name: str, allowed: set[str]) -> str | None:
    """A label such as ilRisk/exposure. An unexpected value is kept as unknown (``None``)
    rather than rejecting the pool: a new upstream label must not drop whole pools."""
    text = _to_str(value, name)
    if text is None:
        return None
    text = text.strip().lower()
    return text if text in allowed else None


def parse_timestamp(value: Any, name: str = "timestamp") -> datetime | None:
    """ISO 8601 string (``...Z`` or offset; naive = UTC) or unix seconds/ms -> aware UTC."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, str):
            text = value.strip()
            if text.lstrip("-").isdigit():
                return parse_timestamp(int(text), name)
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, int | float | Decimal):
            seconds = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
            if not seconds.is_finite():
                raise ValueError
            if abs(seconds) > 10**11:  # milliseconds
                seconds = seconds / 1000
            return datetime.fromtimestamp(float(seconds), tz=UTC)
    except (ValueError, TypeError, OverflowError, OSError):
        pass
    raise InvalidRecord(RejectReason.BAD_TIMESTAMP, f"{name}={value!r}")


def _apy(raw: Mapping[str, Any], key: str, *, clamp: bool = True) -> Decimal | None:
    value = to_decimal(raw.get(key), key)
    if value is None:
        return None
    if key in APY_FIELDS_CAPPED and value > MAX_APY:
        raise InvalidRecord(RejectReason.APY_TOO_HIGH, f"{key}={value}")
    if key in APY_FIELDS_CLAMPED and value < 0:
        if not clamp:
            raise InvalidRecord(RejectReason.NEGATIVE, f"{key}={value}")
        return Decimal(0)
    return value


def _not_negative(value: Decimal | None, name: str, limit: Decimal) -> Decimal | None:
    if value is not None and value < 0:
        raise InvalidRecord(RejectReason.NEGATIVE, f"{name}={value}")
    return _bounded(value, name, limit)


def _bounded(value: Decimal | None, name: str, limit: Decimal) -> Decimal | None:
    if value is not None and abs(value) > limit:
        raise InvalidRecord(RejectReason.OUT_OF_RANGE, f"{name}={value}")
    return value


def _tvl(value: Any) -> Decimal:
    tvl = to_decimal(value, "tvlUsd")
    if tvl is None:
        raise InvalidRecord(RejectReason.MISSING_FIELD, "tvlUsd")
    if not (MIN_TVL_USD <= tvl <= MAX_TVL_USD):
        raise InvalidRecord(RejectReason.TVL_OUT_OF_RANGE, f"tvlUsd={tvl}")
    return tvl


class _Fields:
    """Parses one field at a time; a bad value marks that field invalid (``None``)."""

    def __init__(self) -> None:
        self.invalid: dict[str, str] = {}

    def get(self, name: str, parse, *args, **kwargs):
        try:
            return parse(*args, **kwargs)
        except InvalidRecord as exc:
            self.invalid[name] = str(exc.reason)
            return None


def _predictions(value: Any) -> PoolPredictions | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidRecord(RejectReason.BAD_TYPE, "predictions is not an object")
    predicted_class = _to_str(value.get("predictedClass"), "predictions.predictedClass")
    probability = to_decimal(value.get("predictedProbability"), "predictions.predictedProbability")
    if probability is not None and not 0 <= probability <= 100:
        raise InvalidRecord(RejectReason.OUT_OF_RANGE, f"predictions.predictedProbability={probability}")
    binned = _to_int(value.get("binnedConfidence"), "predictions.binnedConfidence", limit=100)
    if predicted_class is None and probability is None and binned is None:
        return None
    return PoolPredictions(predicted_class, probability, binned)


_EVM_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def _pool_address(value: str | None) -> str | None:
    """The pool contract in DeFiLlama's old pool id: "0xabc…", "0xabc…-ethereum" or
    "ethereum-0xabc…" (lower-cased); anything else is not an address we can show."""
    if not value:
        return None
    found = [part for part in value.strip().split("-") if _EVM_ADDRESS.fullmatch(part)]
    return found[0].lower() if len(found) == 1 else None


def _required_str(raw: Mapping[str, Any], key: str) -> str:
    value = _to_str(raw.get(key), key)
    if value is None or value.strip() == "":
        raise InvalidRecord(RejectReason.MISSING_FIELD, key)
    return value.strip()


def parse_pool(
    raw: Any,
    *,
    origin: str = "",
    category: str | None = None,
    derive_missing: bool = True,
) -> PoolRecord:
    """Validate one ``/pools`` item and build a :class:`PoolRecord`.

    Raises :class:`InvalidRecord` when the record must be rejected. When
    ``derive_missing`` is true, ``stablecoin``/``ilRisk``/``exposure`` absent
    from the payload are derived from the symbol (conservatively, see
    ``pools.sources.classify``) and listed in ``PoolRecord.derived``.
    """
    if not isinstance(raw, Mapping):
        raise InvalidRecord(RejectReason.NOT_AN_OBJECT, type(raw).__name__)
    pool_value = raw.get("pool")
    if not isinstance(pool_value, str) or pool_value.strip() == "":
        if pool_value is not None and not isinstance(pool_value, str):
            raise InvalidRecord(RejectReason.MISSING_POOL_ID, f"pool={pool_value!r}")
        raise InvalidRecord(RejectReason.MISSING_POOL_ID)
    pool_id = pool_value.strip()
    try:
        chain = _required_str(raw, "chain")
        project = _required_str(raw, "project")
        symbol = _required_str(raw, "symbol")
        pool_meta = _to_str(raw.get("poolMeta"), "poolMeta")
        underlying_tokens = _to_tokens(raw.get("underlyingTokens"), "underlyingTokens")
        reward_tokens = _to_tokens(raw.get("rewardTokens"), "rewardTokens")
        address = _to_str(raw.get("pool_old", raw.get("poolAddress")), "pool_old")
        fields = _Fields()
        tvl = fields.get("tvl_usd", _tvl, raw.get("tvlUsd"))
        apys = {key: fields.get(APY_FIELD_NAMES[key], _apy, raw, key, clamp=False) for key in APY_FIELDS_CLAMPED}
        numbers = {
            key: fields.get(name, lambda k=key: _bounded(to_decimal(raw.get(k), k), k, MAX_ABS_STAT))
            for key, name in (("apyPct1D", "apy_pct_1d"), ("apyPct7D", "apy_pct_7d"), ("apyPct30D", "apy_pct_30d"),
                              ("il7d", "il_7d"), ("mu", "mu"))
        }
        for key, name, limit in (("volumeUsd1d", "volume_usd_1d", MAX_VOLUME_USD),
                                 ("volumeUsd7d", "volume_usd_7d", MAX_VOLUME_USD), ("sigma", "sigma", MAX_ABS_STAT)):
            numbers[key] = fields.get(name, lambda k=key, lim=limit: _not_negative(to_decimal(raw.get(k), k), k, lim))
        count = fields.get("count", _to_int, raw.get("count"), "count")
        predictions = fields.get("predictions", _predictions, raw.get("predictions"))
        outlier = fields.get("outlier", _to_bool, raw.get("outlier"), "outlier")
        stablecoin = fields.get("stablecoin", _to_bool, raw.get("stablecoin"), "stablecoin")
        updated_at = fields.get("updated_at", parse_timestamp, raw.get("timestamp"))
        il_risk = _choice(raw.get("ilRisk"), "ilRisk", {"yes", "no"})
        exposure = _choice(raw.get("exposure"), "exposure", {"single", "multi"})
        derived: set[str] = set()
        if derive_missing:
            if stablecoin is None and "stablecoin" not in raw:
                stablecoin = derive_stablecoin(symbol)
                derived.add("stablecoin")
            if il_risk is None and "ilRisk" not in raw:
                il_risk = derive_il_risk(symbol)
                derived.add("il_risk")
            if exposure is None and "exposure" not in raw:
                exposure = derive_exposure(symbol)
                derived.add("exposure")
        return PoolRecord(
            pool_id=pool_id,
            chain=chain,
            project=project,
            symbol=symbol,
            tvl_usd=tvl,
            kind=infer_kind(project, category),
            pool_meta=pool_meta if pool_meta and pool_meta.strip() else None,
            apy=apys["apy"],
            apy_base=apys["apyBase"],
            apy_reward=apys["apyReward"],
            apy_mean_30d=apys["apyMean30d"],
            apy_base_7d=apys["apyBase7d"],
            apy_pct_1d=numbers["apyPct1D"],
            apy_pct_7d=numbers["apyPct7D"],
            apy_pct_30d=numbers["apyPct30D"],
            volume_usd_1d=numbers["volumeUsd1d"],
            volume_usd_7d=numbers["volumeUsd7d"],
            il_7d=numbers["il7d"],
            underlying_tokens=underlying_tokens,
            reward_tokens=reward_tokens,
            stablecoin=stablecoin,
            il_risk=il_risk,
            exposure=exposure,
            mu=numbers["mu"],
            sigma=numbers["sigma"],
            count=count,
            outlier=outlier,
            predictions=predictions,
            updated_at=updated_at,
            derived=frozenset(derived),
            origin=origin,
            invalid=tuple(sorted(fields.invalid.items())),
            address=_pool_address(address),
        )
    except InvalidRecord as exc:
        exc.pool_id = pool_id
        raise


def validate_pools(
    items: Iterable[Any],
    *,
    origin: str = "",
    categories: Mapping[str, str] | None = None,
    derive_missing: bool = True,
) -> tuple[list[PoolRecord], list[Rejection]]:
    """Validate a list of raw ``/pools`` items: (accepted records, rejections).

    ``categories`` optionally maps project slug -> DeFiLlama protocol category
    (from ``api.llama.fi/protocols``) to sharpen :func:`infer_kind`.
    """
    records: list[PoolRecord] = []
    rejections: list[Rejection] = []
    seen: set[str] = set()
    for item in items:
        try:
            project = item.get("project") if isinstance(item, Mapping) else None
            category = categories.get(project) if categories and isinstance(project, str) else None
            record = parse_pool(item, origin=origin, category=category, derive_missing=derive_missing)
        except InvalidRecord as exc:
            rejections.append(exc.as_rejection())
            continue
        if record.pool_id in seen:
            rejections.append(Rejection(record.pool_id, str(RejectReason.DUPLICATE_POOL_ID)))
            continue
        seen.add(record.pool_id)
        records.append(record)
    return records, rejections


def parse_history_point(raw: Any) -> PoolHistoryPoint:
    """Validate one ``/chart/{pool}`` item.

    Same numeric rules as pools, except the $1,000 TVL floor: a pool's early
    history can legitimately be small, so only negative or > $50bn TVL is rejected.
    """
    if not isinstance(raw, Mapping):
        raise InvalidRecord(RejectReason.NOT_AN_OBJECT, type(raw).__name__)
    timestamp = parse_timestamp(raw.get("timestamp"))
    if timestamp is None:
        raise InvalidRecord(RejectReason.MISSING_FIELD, "timestamp")
    tvl = to_decimal(raw.get("tvlUsd"), "tvlUsd")
    apy = _apy(raw, "apy")
    apy_base = _apy(raw, "apyBase")
    apy_reward = _apy(raw, "apyReward")
    apy_base_7d = _apy(raw, "apyBase7d")
    il_7d = to_decimal(raw.get("il7d"), "il7d")
    if tvl is not None and not (Decimal(0) <= tvl <= MAX_TVL_USD):
        raise InvalidRecord(RejectReason.TVL_OUT_OF_RANGE, f"tvlUsd={tvl}")
    return PoolHistoryPoint(
        timestamp=timestamp,
        tvl_usd=tvl,
        apy=apy,
        apy_base=apy_base,
        apy_reward=apy_reward,
        il_7d=il_7d,
        apy_base_7d=apy_base_7d,
    )


def utcnow() -> datetime:
    return datetime.now(UTC)
