"""Opportunity maths and wording: pure Python, no Django.

Risk-adjusted yield = 30-day mean APY × (100 − risk score) / 100. A pool with a
10 % mean and a risk score of 40 ranks as 6 %; one with 8 % and a score of 10 as
7.2 %, so it ranks higher. Spot APY never ranks (a one-day spike is not a yield).
Expected yearly income = value × 30-day mean APY / 100: an estimate from the
recent past, not a promise.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["Risk", "income_difference", "pool_risks", "risk_adjusted_yield"]

D = Decimal
HUNDRED = D(100)
HIGH_REWARD_SHARE = D("0.5")


def risk_adjusted_yield(mean_apy: Decimal, risk_score: int) -> Decimal:
    if not 0 <= risk_score <= 100:
        raise ValueError("risk_score must be within 0..100")
    return mean_apy * (HUNDRED - risk_score) / HUNDRED


def income_difference(value: Decimal, candidate_mean_apy: Decimal, current_mean_apy: Decimal) -> Decimal:
    """Difference in expected yearly income (same unit as ``value``) from moving ``value``
    out of a place earning ``current_mean_apy`` into one earning ``candidate_mean_apy``."""
    return value * (candidate_mean_apy - current_mean_apy) / HUNDRED


@dataclass(frozen=True, slots=True)
class Risk:
    text: str
    learn_slug: str
    learn_title: str


def pool_risks(*, il_risk: bool | None, apy: Decimal | None, apy_reward: Decimal | None, audit_count: int | None,
               protocol: str, concentrated: bool, bridge_to: str = "") -> list[Risk]:
    """The risks a pool adds, in plain words, each with the Learn article that explains it."""
    out: list[Risk] = []
    if bridge_to:
        out.append(Risk(f"Needs a bridge to {bridge_to}: a bridge is one more contract that can fail or be "
                        "hacked, and moving back costs fees and time.", "defi-risks", "DeFi risks"))
    if il_risk:
        out.append(Risk("Impermanent loss: the pool holds tokens whose prices can drift apart, and then it is "
                        "worth less than holding them.", "impermanent-loss", "Impermanent loss"))
    if concentrated:
        out.append(Risk("Concentrated liquidity: it earns only while the price stays in your range.",
                        "concentrated-liquidity", "Concentrated liquidity"))
    if apy and apy > 0 and apy_reward is not None and apy_reward / apy >= HIGH_REWARD_SHARE:
        share = (apy_reward / apy * HUNDRED).quantize(D(1))
        out.append(Risk(f"Depends on reward tokens: {share} % of today's APY is paid in reward tokens, whose "
                        "price and emissions can fall or stop.", "apr-vs-apy-and-real-yield",
                        "APR vs APY and real yield"))
    if audit_count is None:
        out.append(Risk(f"Audits unknown: we hold no public audit record for {protocol} (an unknown counts as a "
                        "risk, not as safe).", "evaluating-a-pool", "Evaluating a pool"))
    elif audit_count == 0:
        out.append(Risk(f"No published audit for {protocol}.", "evaluating-a-pool", "Evaluating a pool"))
    return out
