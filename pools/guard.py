"""Which value of a pool metric to store: the source's new one, or the last good one.

Pure (no Django): ``pools.services.ingest`` loads the stored values, calls
:func:`merge_metrics` for every record and writes what it returns.

Three rules, in this order, field by field:

1. **Invalid values are not stored.** A field the source validation rejected
   (NaN, a negative APY, a TVL of $10^12...; listed in ``PoolRecord.invalid``)
   keeps the pool's last good value while the record's valid fields update.
2. **A missing APY does not erase a known one.** A null total APY keeps the
   stored APY. A null base or reward APY is taken as "none" only when the
   record's total APY equals the other component (DeFiLlama reports a pool
   without rewards as ``apyReward: null`` and ``apy == apyBase``); otherwise
   the stored component stays.
3. **Spike guard.** Every guarded metric (TVL, APY, base and reward APY, 30-day
   mean, 7-day base APY, volumes) is compared with its last accepted value,
   whenever that value was accepted. A move of more than ``ratio``× either way
   is held back: the last accepted value stays, and the new level is accepted
   once the source has reported it (within ``ratio``× of the first held value)
   for ``window``. A pool the source had stopped listing, whose values were
   last seen more than ``window`` ago, takes the new values at once: its
   reference is too old to judge a move by. Values below a floor ($1,000,
   0.01 %) are compared as the floor, so dust does not trip the guard.

The guard's memory is a small ``hold`` mapping per pool ({field: {"value",
"since"}}), empty for almost every pool, so an unchanged refresh rewrites no row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

D = Decimal

#: Guarded metric -> the floor below which values are compared as the floor.
SPIKE_FLOORS: dict[str, Decimal] = {
    "tvl_usd": D(1000),
    "apy": D("0.01"),
    "apy_base": D("0.01"),
    "apy_reward": D("0.01"),
    "apy_mean_30d": D("0.01"),
    "apy_base_7d": D("0.01"),
    "volume_usd_1d": D(1000),
    "volume_usd_7d": D(1000),
}
APY_PARTS = ("apy_base", "apy_reward")
MISSING = "missing"  # the reason recorded when rule 2 keeps a value


@dataclass(frozen=True)
class Stored:
    """What the database holds for a pool: metric values, the guard's hold, when the
    values were last written and how many refreshes missed the pool."""

    values: Mapping[str, Any]
    hold: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    seen_at: datetime | None = None
    missed: int = 0


@dataclass
class Merged:
    values: dict[str, Any]  # what to store
    kept: dict[str, str] = field(default_factory=dict)  # field -> why the stored value was kept
    spikes: list[dict[str, str]] = field(default_factory=list)  # held-back moves (for the RefreshRun)
    hold: dict[str, dict[str, str]] = field(default_factory=dict)  # the guard's new memory


def is_spike(old: Decimal | None, new: Decimal | None, floor: Decimal, ratio: Decimal) -> bool:
    """True when ``new`` is more than ``ratio``× above or below ``old`` (both at least ``floor``)."""
    if old is None or new is None:
        return False
    old, new = max(old, floor), max(new, floor)
    return new > old * ratio or old > new * ratio


def _close(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) <= max(D("0.00002"), abs(a) * D("0.0001"))


def _component_may_be_null(values: Mapping[str, Any], name: str) -> bool:
    """A null base/reward APY means "none" when the total equals the other component."""
    total = values.get("apy")
    if total is None:
        return False
    other = values.get(APY_PARTS[1] if name == APY_PARTS[0] else APY_PARTS[0]) or D(0)
    return _close(total, other)


def merge_metrics(
    new: Mapping[str, Any],
    invalid: Mapping[str, str],
    old: Stored | None,
    *,
    at: datetime,
    ratio: Decimal,
    window: timedelta,
) -> Merged:
    """The values to store for one pool (see the module docstring).

    ``new``: the record's metric values by field (``None`` for unknown or invalid);
    ``invalid``: field -> reason from validation; ``old``: what is stored (``None``
    for a new pool); ``at``: the record's time.
    """
    values = dict(new)
    merged = Merged(values=values)
    if old is None:
        return merged
    stored = old.values
    for name, reason in invalid.items():
        if name in values:
            values[name] = stored.get(name)
            merged.kept[name] = reason
    # Rule 2 decides on the incoming values (a component is judged against the new total).
    incoming = new
    for name in ("apy", *APY_PARTS):
        if name in invalid or new.get(name) is not None or stored.get(name) is None:
            continue
        if name == "apy" or not _component_may_be_null(incoming, name):
            values[name] = stored.get(name)
            merged.kept[name] = MISSING
    stale_reference = old.missed > 0 and old.seen_at is not None and at - old.seen_at >= window
    for name, floor in SPIKE_FLOORS.items():
        if name not in values or name in merged.kept:
            if name in old.hold:
                merged.hold[name] = dict(old.hold[name])
            continue
        before, after = stored.get(name), values[name]
        if stale_reference or not is_spike(before, after, floor, ratio):
            continue  # accepted; any hold on this field ends
        held = old.hold.get(name)
        if held is not None and not is_spike(D(held["value"]), after, floor, ratio):
            since = datetime.fromisoformat(held["since"])
            if at - since >= window:
                continue  # the new level has lasted the whole window: a real move
            hold = dict(held)
        else:
            hold = {"value": str(after), "since": at.isoformat()}
        values[name] = before
        merged.kept[name] = "spike"
        merged.hold[name] = hold
        merged.spikes.append({"field": name, "old": str(before), "new": str(after), "since": hold["since"]})
    return merged
