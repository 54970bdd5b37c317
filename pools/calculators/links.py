"""Links from pools and positions to the calculator that fits them (pure: no Django)."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

BASE = "/learn/calculators/"

# Pool kinds whose impermanent loss a calculator model describes.
IL_MODEL_FOR_KIND = {
    "amm": "constant_product",
    "concentrated": "concentrated",
    "weighted": "weighted",
    "stableswap": "stableswap",
}


def calculator_links(*, kind: str, apy: Decimal | None = None) -> list[tuple[str, str]]:
    """(href, label) pairs: the IL and break-even calculators set to the pool's model
    when it has one, and the APR/APY converter set to its APY when known."""
    links: list[tuple[str, str]] = []
    model = IL_MODEL_FOR_KIND.get(kind)
    if model:
        query = urlencode({"model": model})
        links.append((f"{BASE}impermanent-loss/?{query}", "Impermanent loss for this pool type"))
        links.append((f"{BASE}break-even/?{query}", "Fee APR needed to cover it"))
    if apy is not None:
        query = urlencode({"direction": "apy_to_apr", "rate": f"{apy.normalize():f}"})
        links.append((f"{BASE}apy/?{query}", "This APY as an APR"))
    links.append((BASE, "All calculators"))
    return links
