"""A seeded, always-solvent ledger of every kind the tools understand (and LP moves)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from portfolios.tax.engine import LegIn, TxIn

CENT = Decimal("0.01")
Q8 = Decimal("0.00000001")

BASE_PRICES = {
    "BTC": Decimal("30000"),
    "ETH": Decimal("2000"),
    "SOL": Decimal("50"),
    "LINK": Decimal("15"),
    "AVAX": Decimal("30"),
    "DOT": Decimal("8"),
}
INCOME_TYPES = ("staking", "interest", "liquidity_mining", "lp_fees", "airdrop", "mining")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def generate_ledger(
    n: int = 600,
    seed: int = 7,
    *,
    start: datetime = datetime(2021, 1, 3, 9, 0, tzinfo=UTC),
    years: float = 3.0,
    assets: tuple[str, ...] = ("BTC", "ETH", "SOL", "LINK", "AVAX"),
    fiat: str = "USD",
    lp: bool = True,
    transfers: bool = True,
) -> list[TxIn]:
    """A deterministic, always-solvent ledger of ``n`` transactions."""
    rng = random.Random(seed)
    prices = {a: BASE_PRICES.get(a, Decimal("10")) for a in assets}
    floor = {a: p / 10 for a, p in prices.items()}
    held: dict[str, Decimal] = {}
    txs: list[TxIn] = []
    span = int(years * 365 * 86400)
    mean_gap = max(2, span // max(n, 1))
    moment = start
    last_day = moment.date()
    lp_assets = assets[:2]

    def money(value: Decimal) -> Decimal:
        return value.quantize(CENT, rounding=ROUND_HALF_UP)

    def add(asset: str, qty: Decimal) -> None:
        held[asset] = held.get(asset, Decimal(0)) + qty

    def pick_held(exclude: tuple[str, ...] = ()) -> str | None:
        options = [a for a, q in held.items() if q > Decimal("0.0001") and a not in exclude and "-LP" not in a]
        return rng.choice(sorted(options)) if options else None

    def fee_qty(fee_asset: str, available: Decimal, tx_value: Decimal) -> Decimal:
        """A fee worth 0.1%-3% of the transaction, never more than half of what is spare."""
        target = tx_value * Decimal(rng.randint(1, 30)) / 1000 / prices[fee_asset]
        return min(target, available / 2).quantize(Q8) if available > 0 else Decimal(0)

    counter = 0
    pending_transfer: tuple[str, Decimal] | None = None
    asset: str | None
    while len(txs) < n:
        gap = rng.randint(30, 900) if rng.random() < 0.25 else rng.randint(60, max(61, int(2 * mean_gap / 0.75) - 160))
        moment = moment + timedelta(seconds=gap, microseconds=rng.randint(0, 999) * 1000)
        while last_day < moment.date():
            last_day += timedelta(days=1)
            for a in prices:
                prices[a] = max(floor[a], money(prices[a] * (10000 + rng.randint(-350, 350)) / 10000))
        counter += 1
        ref = f"t{counter:06d}"
        if pending_transfer is not None:
            asset, qty = pending_transfer
            pending_transfer = None
            txs.append(TxIn(ref, moment, "transfer_in", (LegIn(asset, qty, money(qty * prices[asset])),)))
            continue
        roll = rng.random()
        asset = rng.choice(assets)
        price = prices[asset]
        if roll < 0.30 or not held:  # buy
            usd = Decimal(rng.randint(100, 5000))
            qty = (usd / price).quantize(Q8)
            if qty <= 0:
                continue
            legs = [LegIn(fiat, -usd), LegIn(asset, qty, money(qty * price))]
            fee_roll = rng.random()
            if fee_roll < 0.5:
                legs.append(LegIn(fiat, -Decimal(rng.randint(1, 2000)) / 100, is_fee=True))
            elif fee_roll < 0.6:
                fee_asset = pick_held(exclude=(asset,))
                if fee_asset:
                    fq = fee_qty(fee_asset, held[fee_asset], usd)
                    if fq > 0:
                        legs.append(LegIn(fee_asset, -fq, money(fq * prices[fee_asset]), is_fee=True))
                        add(fee_asset, -fq)
            add(asset, qty)
            txs.append(TxIn(ref, moment, "buy", tuple(legs)))
        elif roll < 0.48:  # sell
            asset = pick_held()
            if asset is None:
                continue
            qty = (held[asset] * Decimal(rng.randint(5, 60)) / 100).quantize(Q8)
            value = money(qty * prices[asset])
            if qty <= 0 or value <= Decimal("1"):
                continue
            legs = [LegIn(asset, -qty, value), LegIn(fiat, value)]
            fee_roll = rng.random()
            if fee_roll < 0.4:
                legs.append(
                    LegIn(fiat, -min(value / 20, Decimal(rng.randint(1, 1500)) / 100).quantize(CENT), is_fee=True)
                )
            elif fee_roll < 0.6:
                fq = fee_qty(asset, held[asset] - qty, value)
                if fq > 0:
                    legs.append(LegIn(asset, -fq, money(fq * prices[asset]), is_fee=True))
                    add(asset, -fq)
            add(asset, -qty)
            txs.append(TxIn(ref, moment, "sell", tuple(legs)))
        elif roll < 0.62:  # swap
            source = pick_held()
            if source is None:
                continue
            target = rng.choice([a for a in assets if a != source])
            qty = (held[source] * Decimal(rng.randint(5, 70)) / 100).quantize(Q8)
            out_value = money(qty * prices[source])
            got = (out_value * Decimal("0.997") / prices[target]).quantize(Q8)
            if qty <= 0 or got <= 0 or out_value <= Decimal("1"):
                continue
            in_value = money(got * prices[target])
            if in_value <= 0:
                continue
            legs = [LegIn(source, -qty, out_value), LegIn(target, got, in_value)]
            if rng.random() < 0.3:
                fee_asset = source if rng.random() < 0.5 else pick_held(exclude=(target, source))
                if fee_asset:
                    spare = held[fee_asset] - (qty if fee_asset == source else 0)
                    fq = fee_qty(fee_asset, spare, out_value)
                    if fq > 0:
                        legs.append(LegIn(fee_asset, -fq, money(fq * prices[fee_asset]), is_fee=True))
                        add(fee_asset, -fq)
            add(source, -qty)
            add(target, got)
            txs.append(TxIn(ref, moment, "swap", tuple(legs)))
        elif roll < 0.84:  # reward
            qty = (Decimal(rng.randint(100, 5000)) / 100 / price).quantize(Q8)
            if qty <= 0:
                continue
            add(asset, qty)
            txs.append(
                TxIn(
                    ref,
                    moment,
                    "reward",
                    (LegIn(asset, qty, money(qty * price)),),
                    income_type=rng.choice(INCOME_TYPES),
                    position=f"pool-{asset.lower()}-{rng.randint(1, 2)}",
                )
            )
        elif roll < 0.88:  # gas-only fee
            asset = pick_held()
            if asset is None:
                continue
            fq = (held[asset] * Decimal(rng.randint(1, 20)) / 10000).quantize(Q8)
            if fq <= 0:
                continue
            add(asset, -fq)
            txs.append(TxIn(ref, moment, "fee", (LegIn(asset, -fq, money(fq * prices[asset])),)))
        elif roll < 0.94 and transfers:  # own-wallet transfer (out now, in next)
            asset = pick_held()
            if asset is None:
                continue
            qty = (held[asset] * Decimal(rng.randint(10, 90)) / 100).quantize(Q8)
            if qty <= 0:
                continue
            legs = [LegIn(asset, -qty, money(qty * prices[asset]))]
            if rng.random() < 0.5:
                fq = fee_qty(asset, held[asset] - qty, qty * prices[asset])
                if fq > 0:
                    legs.append(LegIn(asset, -fq, money(fq * prices[asset]), is_fee=True))
                    add(asset, -fq)
            txs.append(TxIn(ref, moment, "transfer_out", tuple(legs)))
            pending_transfer = (asset, qty)
        elif roll < 0.955 and transfers:  # coins arriving with no history: an acquisition
            qty = (Decimal(rng.randint(100, 3000)) / price).quantize(Q8)
            if qty <= 0:
                continue
            add(asset, qty)
            txs.append(TxIn(ref, moment, "transfer_in", (LegIn(asset, qty, money(qty * price)),)))
        elif lp:  # single-asset LP vault
            asset = rng.choice(lp_assets)
            token = f"{asset}-LP"
            if held.get(token, Decimal(0)) > 0 and rng.random() < 0.5:
                qty = held[token] if rng.random() < 0.5 else (held[token] / 2).quantize(Q8)
                back = (qty * Decimal(rng.randint(995, 1030)) / 1000).quantize(Q8)
                if qty <= 0 or back <= 0 or money(qty * price) <= 0 or money(back * price) <= 0:
                    continue
                add(token, -qty)
                add(asset, back)
                txs.append(
                    TxIn(
                        ref,
                        moment,
                        "lp_withdraw",
                        (LegIn(token, -qty, money(qty * price)), LegIn(asset, back, money(back * price))),
                    )
                )
            else:
                if held.get(asset, Decimal(0)) <= Decimal("0.0001"):
                    continue
                qty = (held[asset] * Decimal(rng.randint(10, 50)) / 100).quantize(Q8)
                if qty <= 0 or money(qty * price) <= 0:
                    continue
                add(asset, -qty)
                add(token, qty)
                txs.append(
                    TxIn(
                        ref,
                        moment,
                        "lp_deposit",
                        (LegIn(asset, -qty, money(qty * price)), LegIn(token, qty, money(qty * price))),
                    )
                )
    return txs
