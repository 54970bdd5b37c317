"""Alert rules: create, update (threshold, pause), delete; the defaults offered for a position."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from alerts.conditions import NEEDS_RANGE, NEEDS_THRESHOLD, Condition
from alerts.models import AlertRule
from pools.models import Pool
from portfolios.models import Position

D = Decimal


@dataclass(frozen=True, slots=True)
class RuleDefault:
    condition: str
    threshold: Decimal | None
    why: str


def rule_defaults_for(*, pool: Pool, position: Position | None = None) -> list[RuleDefault]:
    """The rules we suggest for a pool or a position on it (the user ticks which to keep)."""
    out = [
        RuleDefault(Condition.APY_DROP, D(30), "Tells you when the yield falls well below its recent level."),
        RuleDefault(Condition.TVL_DROP, D(20), "A fast outflow of deposits is often the first sign of trouble."),
        RuleDefault(Condition.RISK_WORSE, None, "Our risk grade for the pool got worse."),
    ]
    if pool.apy_reward and pool.apy_reward > 0:
        out.append(RuleDefault(Condition.REWARDS_ENDED, None,
                               "Part of this APY is paid in reward tokens; it stops when emissions end."))
    if pool.stablecoin:
        out.append(RuleDefault(Condition.DEPEG, D(2), "A stablecoin more than 2 % away from 1 USD."))
    if position is not None and position.kind == Position.Kind.CONCENTRATED_LP:
        out.append(RuleDefault(Condition.OUT_OF_RANGE, None, "Out of range, the position earns no fees."))
        out.append(RuleDefault(Condition.NEAR_EDGE, D(5), "The price is within 5 % of an edge of your range."))
    return out


def _check(rule: AlertRule) -> None:
    condition = Condition(rule.condition)
    if condition in NEEDS_THRESHOLD and rule.threshold is None:
        raise ValidationError({"threshold": "This alert needs a threshold."})
    if condition not in NEEDS_THRESHOLD:
        rule.threshold = None
    if condition in NEEDS_RANGE and (rule.position is None or rule.position.kind != Position.Kind.CONCENTRATED_LP):
        raise ValidationError({"position": "Range alerts are for a concentrated-liquidity position."})
    if condition == Condition.REWARDS_ENDED and not (rule.baseline_reward and rule.baseline_reward > 0):
        raise ValidationError({"condition": "This pool pays no reward APY now, so there are no emissions to end."})
    if condition == Condition.RISK_WORSE and not rule.baseline_grade:
        raise ValidationError({"condition": "This pool has no risk grade yet."})
    if rule.position is not None:
        if rule.position.portfolio.owner_id != rule.user_id:
            raise ValidationError({"position": "Not one of your positions."})
        if rule.position.pool_id is None:
            raise ValidationError({"position": "Alerts need a position on a listed pool."})
        rule.pool_id = rule.position.pool_id


def rule_create(*, user: Any, condition: str, pool: Pool | None = None, position: Position | None = None,
                threshold: Decimal | None = None, is_paused: bool = False) -> AlertRule:
    """A new rule on a pool or on a position (then on the position's pool). The risk grade
    and reward APY of now are its baselines for "risk worse" and "rewards ended"."""
    if position is not None and position.pool_id is not None:
        pool = position.pool
    if pool is None:
        raise ValidationError({"pool": "Choose a pool or one of your positions on a listed pool."})
    if condition not in AlertRule.Condition.values:
        raise ValidationError({"condition": f"Unknown condition “{condition}”."})
    rule = AlertRule(user=user, pool=pool, position=position, condition=condition, threshold=threshold,
                     is_paused=is_paused, baseline_grade=pool.risk_grade or "", baseline_reward=pool.apy_reward)
    _check(rule)
    rule.full_clean()
    rule.save()
    return rule


def rule_update(*, rule: AlertRule, threshold: Decimal | None = None, is_paused: bool | None = None,
                set_threshold: bool = False) -> AlertRule:
    """Change a rule's threshold or pause it. A changed threshold re-arms the rule: it is
    a new question, and if it is already true the next evaluation tells once."""
    with transaction.atomic():
        locked = (AlertRule.objects.select_for_update(of=("self",)).select_related("position__portfolio")
                  .get(pk=rule.pk))
        if set_threshold and threshold != locked.threshold:
            locked.threshold = threshold
            locked.state = AlertRule.State.ARMED
        if is_paused is not None:
            locked.is_paused = is_paused
        _check(locked)
        locked.full_clean()
        locked.save()
    return locked


def rule_delete(*, rule: AlertRule) -> None:
    rule.delete()


def rules_create_defaults(*, user: Any, position: Position, conditions: list[str]) -> list[AlertRule]:
    """Create the chosen default rules for a newly added position (idempotent per condition)."""
    if position.pool is None:
        return []
    chosen = {d.condition: d for d in rule_defaults_for(pool=position.pool, position=position)
              if d.condition in conditions}
    existing = set(AlertRule.objects.filter(user=user, position=position).values_list("condition", flat=True))
    return [rule_create(user=user, position=position, condition=c, threshold=d.threshold)
            for c, d in chosen.items() if c not in existing]
