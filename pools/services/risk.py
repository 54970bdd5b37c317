"""Risk scores (``pools.risk``) stored on pools, and staff edits of protocol facts
(which rescore that protocol's pools)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date
from typing import Any

from django.db import transaction
from django.utils import timezone

from pools import bulk
from pools.models import Pool, PoolRisk, Protocol
from pools.risk import RiskInputs, score_pool
from pools.versioning import data_version_bump


def _factor_dicts(score) -> list[dict[str, Any]]:
    return [
        {
            "key": f.key,
            "label": f.label,
            "value": f.value_shown,
            "points": f.points,
            "max_points": f.max_points,
            "explanation": f.explanation,
            "unknown": f.unknown,
        }
        for f in score.factors
    ]


def pool_risk_inputs(values: dict[str, Any], *, as_of: date) -> RiskInputs:
    """RiskInputs from a pool's stored values (and its protocol's facts)."""
    count = values["count"]
    start, seen = values["history_start"], values["last_seen_at"]
    since = None
    if start is not None and seen is not None:
        # The pool's known age (its first history point) where the source's count is missing or shorter.
        ours = (seen.astimezone(UTC).date() - start).days + 1
        if ours > (count or 0):
            count, since = ours, start
    il = values["il_risk"]
    return RiskInputs(
        tvl_usd=values["tvl_usd"],
        observation_count=count,
        apy_sigma_30d=values["apy_sigma_30d"],
        source_sigma=values["sigma"],
        apy_base=values["apy_base"],
        apy_reward=values["apy_reward"],
        il_risk=None if il is None else ("yes" if il else "no"),
        kind=values["kind"],
        stablecoin=values["stablecoin"],
        outlier=values["outlier"],
        audit_count=values["protocol__audit_count"],
        last_audit_date=values["protocol__last_audit_date"],
        protocol_launch_date=values["protocol__launch_date"],
        as_of=as_of,
        history_since=since,
    )


RISK_INPUT_FIELDS = [
    "id", "tvl_usd", "count", "history_start", "last_seen_at", "apy_sigma_30d", "sigma", "apy_base", "apy_reward",
    "il_risk", "kind", "stablecoin", "outlier", "protocol__audit_count", "protocol__last_audit_date",
    "protocol__launch_date",
]  # fmt: skip


def pool_risk_refresh(
    *, pool_ids: Sequence[int] | None = None, protocol_ids: Sequence[int] | None = None, as_of: date | None = None
) -> int:
    """Score every pool (or the given ones) with ``pools.risk`` and store score,
    grade and factors where they changed. Returns the number of pools changed."""
    as_of = as_of or timezone.now().astimezone(UTC).date()
    qs = Pool.objects.all()
    if pool_ids is not None:
        qs = qs.filter(pk__in=list(pool_ids))
    if protocol_ids is not None:
        qs = qs.filter(protocol_id__in=list(protocol_ids))
    rows, factors = [], []
    for values in qs.values(*RISK_INPUT_FIELDS).iterator(chunk_size=5000):
        score = score_pool(pool_risk_inputs(values, as_of=as_of))
        rows.append((values["id"], score.score, score.grade))
        factors.append((values["id"], bulk.json_text(_factor_dicts(score))))
    if not rows:
        return 0
    with transaction.atomic():
        changed = bulk.update_from(
            table=Pool._meta.db_table, key="id", columns=["id", "risk_score", "risk_grade"], rows=rows
        )
        # The breakdown (its texts include values such as the TVL) is written where it changed.
        factors_changed = bulk.upsert(table=PoolRisk._meta.db_table, columns=["pool_id", "factors"], rows=factors,
                                      conflict=["pool_id"], returning=("pool_id",))
        changed_ids = {row[0] for row in changed} | {row[0] for row in factors_changed}
    if changed_ids:
        data_version_bump()
    return len(changed_ids)


PROTOCOL_FACT_FIELDS = ("name", "category", "url", "audit_count", "audit_links", "last_audit_date", "launch_date",
                        "facts_references")


def protocol_update_facts(*, protocol: Protocol, source: str = "staff", **facts: Any) -> Protocol:
    """Edit a protocol's facts (staff, in the admin) and rescore its pools. A staff edit
    is never overwritten by the bundled facts (``services.facts``)."""
    unknown = set(facts) - set(PROTOCOL_FACT_FIELDS)
    if unknown:
        raise TypeError(f"not protocol facts: {sorted(unknown)}")
    for key, value in facts.items():
        setattr(protocol, key, value)
    protocol.facts_source = source
    protocol.facts_updated_at = timezone.now()
    protocol.full_clean()
    with transaction.atomic():
        protocol.save()
        pool_risk_refresh(protocol_ids=[protocol.pk])
    return protocol
