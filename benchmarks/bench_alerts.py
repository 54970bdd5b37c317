"""Alert evaluation after a refresh of 20,000 pools with 100,000 rules, and the
opportunities page of a user holding 50 tokens.

Run: ``.venv/bin/python -m benchmarks.bench_alerts`` (PostgreSQL at ``BENCH_PG``,
default ``postgres://postgres@127.0.0.1:5432``). It (re)creates the database
``yl_bench_alerts`` (``BENCH_DB``; ``--keep`` reuses it) and builds: 20,000 pools
(two tokens each, some stablecoin pools), 7 days of snapshots per pool, 1,000 users,
2,000 concentrated positions, and 100,000 rules spread over every condition
(``--rules``, ``--pools``).

Timed (``time.perf_counter``):

1. a "refresh": every pool's APY, TVL, reward APY and grade move (one UPDATE,
   untimed), then ``alerts.services.evaluation.alerts_evaluate(pool_ids=<all 20,000>)``
   - the work the ``evaluate_alerts`` task does after a real refresh. Three times: a
   violent move on fresh rules (about half of the 100,000 fire: the worst case), then
   two typical hourly moves (a few percent fire or clear). Target: each ≤ 10 s. The
   queries per chunk are counted and printed (constant: also pinned by
   tests/alerts/test_evaluation.py).
2. GET /alerts/opportunities/ (the whole page through Django's test client) for a
   user holding 50 tokens, best of ``--repeat`` after one warm-up. Target: ≤ 200 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

os.environ.setdefault("BENCH_DB", "yl_bench_alerts")

from benchmarks.bench_portfolios_revalue import recreate_database, setup_django  # noqa: E402 - BENCH_DB first

D = Decimal
EVALUATE_TARGET_SECONDS = 10.0
PAGE_TARGET_SECONDS = 0.2
NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
CONDITIONS = ["apy_below", "apy_drop", "tvl_drop", "depeg", "risk_worse", "rewards_ended", "out_of_range",
              "near_edge"]  # fmt: skip


def build(n_pools: int, n_rules: int, seed: int = 15) -> dict:
    from accounts.models import User
    from alerts.models import AlertRule
    from pools.models import Chain, Pool, PoolSnapshot, PoolUnderlyingToken, Protocol, Token
    from portfolios.models import Leg, Portfolio, Position, Transaction

    rng = random.Random(seed)
    chain = Chain.objects.create(slug="ethereum", name="Ethereum")
    other = Chain.objects.create(slug="arbitrum", name="Arbitrum")
    protocols = Protocol.objects.bulk_create([Protocol(slug=f"p{i}", name=f"Protocol {i}") for i in range(50)])
    tokens = Token.objects.bulk_create(
        [Token(chain=chain if i < 400 else other, address=f"0x{i:040x}", symbol=f"TK{i % 400}",
               price_symbol=f"TK{i % 400}", is_stablecoin=i % 10 == 0,
               last_price_usd=D(1) if i % 10 == 0 else D(rng.randint(1, 5000)), last_price_at=NOW)
         for i in range(500)])  # fmt: skip
    first_seen = NOW - timedelta(days=400)
    pools = Pool.objects.bulk_create(
        [Pool(external_id=f"bench-{i}", chain=chain if i % 5 else other, protocol=protocols[i % 50],
              symbol=f"TK{i % 400}-TK{(i + 1) % 400}", kind="concentrated" if i % 3 == 0 else "amm",
              tvl_usd=D(rng.randint(50_000, 50_000_000)), apy=D(rng.randint(1, 3000)) / 100,
              apy_reward=D(rng.randint(0, 500)) / 100, apy_mean_30d=D(rng.randint(1, 3000)) / 100,
              risk_score=rng.randint(5, 90), risk_grade=rng.choice("ABCDE"), il_risk=True,
              first_seen_at=first_seen, last_seen_at=NOW) for i in range(n_pools)], batch_size=5000)  # fmt: skip
    links = []
    for i, pool in enumerate(pools):
        base = 0 if pool.chain_id == chain.pk else 400
        a, b = base + i % (400 if base == 0 else 100), base + (i + 1) % (400 if base == 0 else 100)
        links += [PoolUnderlyingToken(pool=pool, token=tokens[a], position=0),
                  PoolUnderlyingToken(pool=pool, token=tokens[b], position=1)]
    PoolUnderlyingToken.objects.bulk_create(links, batch_size=10_000)
    days = [NOW.date() - timedelta(days=d) for d in range(1, 8)]
    PoolSnapshot.objects.bulk_create(
        [PoolSnapshot(pool=p, day=day, tvl_usd=p.tvl_usd, apy=p.apy, apy_base=p.apy, apy_reward=p.apy_reward)
         for p in pools for day in days], batch_size=10_000)  # fmt: skip
    users = User.objects.bulk_create([User(email=f"bench{i}@example.com") for i in range(1000)])
    portfolios = Portfolio.objects.bulk_create([Portfolio(owner=u, name="Main") for u in users])
    concentrated = [p for p in pools if p.kind == "concentrated"][:2000]
    positions = Position.objects.bulk_create(
        [Position(portfolio=portfolios[i % 1000], pool=p, kind="concentrated_lp", opened_at=NOW - timedelta(days=30),
                  range_lower=D(rng.randint(1, 100)) / 100, range_upper=D(rng.randint(101, 10_000)) / 100)
         for i, p in enumerate(concentrated)])  # fmt: skip
    rules = []
    for i in range(n_rules):
        condition = CONDITIONS[i % len(CONDITIONS)]
        if condition in ("out_of_range", "near_edge"):
            position = positions[i % len(positions)]
            pool, user_id = position.pool, position.portfolio.owner_id  # type: ignore[assignment]  # bench positions all have a pool
        else:
            position, pool, user_id = None, pools[rng.randrange(n_pools)], users[i % 1000].pk
        rules.append(AlertRule(user_id=user_id, pool=pool, position=position, condition=condition,
                               threshold=None if condition in ("out_of_range", "risk_worse", "rewards_ended")
                               else D(rng.randint(1, 50)), baseline_grade="B", baseline_reward=D(1)))  # fmt: skip
    AlertRule.objects.bulk_create(rules, batch_size=10_000)

    # The opportunities user: 50 tokens in the wallet.
    holder = User.objects.create(email="holder@example.com")
    portfolio = Portfolio.objects.create(owner=holder, name="Main")
    for token in tokens[:50]:
        txn = Transaction.objects.create(portfolio=portfolio, kind="buy", occurred_at=NOW - timedelta(days=10))
        Leg.objects.create(transaction=txn, asset=token.symbol.upper(), token=token, quantity=D(10),
                           fiat_value=D(100))
    return {"pools": n_pools, "rules": n_rules, "positions": len(positions), "snapshots": n_pools * 7}


def move_market(*, seed: int, typical: bool) -> None:
    """What a refresh does to the stored metrics, in one statement (untimed). ``typical``:
    an hourly move (APY ±10 %, TVL ±3 %, a few rewards ending, a few grades moving);
    otherwise a violent one (APY ×0.5–1.5, TVL ×0.6–1.1, 20 % of rewards ending, every
    grade random): with freshly made rules, about half of them fire at once."""
    from django.db import connection

    if typical:
        sql = ("UPDATE pools_pool SET apy = round((apy * (0.9 + 0.2 * random()))::numeric, 4), "
               "tvl_usd = round((tvl_usd * (0.97 + 0.06 * random()))::numeric, 2), "
               "apy_reward = CASE WHEN random() < 0.01 THEN 0 ELSE apy_reward END, "
               "risk_grade = CASE WHEN random() < 0.02 THEN substr('ABCDE', 1 + floor(random() * 5)::int, 1) "
               "ELSE risk_grade END")  # fmt: skip
        prices = "UPDATE pools_token SET last_price_usd = last_price_usd * (0.99 + 0.02 * random())"
    else:
        sql = ("UPDATE pools_pool SET apy = round((apy * (0.5 + random()))::numeric, 4), "
               "tvl_usd = round((tvl_usd * (0.6 + 0.5 * random()))::numeric, 2), "
               "apy_reward = CASE WHEN random() < 0.2 THEN 0 ELSE apy_reward END, "
               "risk_grade = substr('ABCDE', 1 + floor(random() * 5)::int, 1)")  # fmt: skip
        prices = "UPDATE pools_token SET last_price_usd = last_price_usd * (0.95 + 0.1 * random())"
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [seed / 100])
        cursor.execute(sql)
        cursor.execute(prices)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="alerts benchmark")
    parser.add_argument("--pools", type=int, default=20_000)
    parser.add_argument("--rules", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="reuse the existing database (skip the build)")
    args = parser.parse_args(argv)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPUs, load average {load:.2f}")
    if args.keep:
        setup_django()
    else:
        recreate_database()
        setup_django(migrate=True)
        start = time.perf_counter()
        print(f"built {build(args.pools, args.rules)} in {time.perf_counter() - start:.1f} s")

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from accounts.models import User
    from alerts.models import AlertRule, Notification
    from alerts.services.evaluation import alerts_evaluate, evaluate_chunk_size
    from pools.models import Pool

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    Notification.objects.all().delete()
    AlertRule.objects.update(state="armed", episode=0)
    pool_ids = list(Pool.objects.order_by("pk").values_list("pk", flat=True))
    worst = 0.0
    for n, typical in ((1, False), (2, True), (3, True)):
        move_market(seed=n, typical=typical)
        with CaptureQueriesContext(connection) as ctx:
            start, cpu = time.perf_counter(), time.process_time()
            result = alerts_evaluate(pool_ids=pool_ids, now=NOW + timedelta(hours=n))
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        worst = max(worst, elapsed)
        per_chunk = (len(ctx.captured_queries) - 1) / max(result.chunks, 1)
        kind = "typical hourly move" if typical else "violent move, fresh rules"
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"refresh {n} ({kind}): evaluated {result.rules:,} rules on {len(pool_ids):,} pools in {elapsed:.2f} s "
              f"(Python CPU {cpu:.2f} s, load average {load:.1f}) "
              f"({result.fired:,} fired, {result.cleared:,} cleared); {result.chunks} chunks of "
              f"{evaluate_chunk_size()} pools, {len(ctx.captured_queries)} queries ({per_chunk:.0f} per chunk)")
    verdict = "OK" if worst <= EVALUATE_TARGET_SECONDS else "MISSED"
    print(f"evaluation target ≤ {EVALUATE_TARGET_SECONDS:.0f} s (worst of the three): {verdict}")

    setup_test_environment()
    client = Client()
    client.force_login(User.objects.get(email="holder@example.com"))
    response = client.get("/alerts/opportunities/")
    assert response.status_code == 200, response.status_code
    times = []
    for _ in range(args.repeat):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get("/alerts/opportunities/")
            times.append(time.perf_counter() - start)
    best = min(times)
    lines = response.content.count(b'data-testid="opportunity"')
    tokens = response.content.count(b'data-testid="opportunity-token"')
    print(f"opportunities page, {tokens} tokens, {lines} lines: best {best * 1000:.0f} ms, median "
          f"{sorted(times)[len(times) // 2] * 1000:.0f} ms of {args.repeat}, {len(ctx.captured_queries)} queries - "
          f"target ≤ {PAGE_TARGET_SECONDS * 1000:.0f} ms: {'OK' if best <= PAGE_TARGET_SECONDS else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
