"""Seed the load-test database: 20,000 pools with a year of daily history, 1,000 users
(each with an API token, a portfolio and three positions on real pools) and 100,000
transactions (190,000 legs).

    .venv/bin/python -m benchmarks.load.seed [--users 1000] [--transactions 100000]

The database is ``BENCH_DB`` (default ``yl_bench``) on ``BENCH_PG``, the one
``benchmarks/bench_pools_api.py`` builds: its pools and history are reused when present,
built the same way otherwise (ingest of the scaled payload, then the history generated
inside PostgreSQL). The users and their ledgers are generated inside PostgreSQL too
(``INSERT ... SELECT`` over ``generate_series``: no row crosses the wire), so the seeding
takes seconds; an earlier load seed is removed first. Every user's password is
``PASSWORD`` (hashed once, with the deployed hasher) and their email ``load{n}@example.com``;
the tokens are ``TOKEN_PREFIX`` + the user number, zero-padded (40 characters), so the
load test derives them without reading the database.

Each user's ledger: in 2024, every three days, a buy of 1 ETH for 3,000 USD (two in three)
or a sale of 0.5 ETH for 1,600 USD (one in three), and every tenth a staking reward of
0.01 ETH worth 30 USD - consistent (never selling more than is held), so tax reports build.
"""

from __future__ import annotations

import argparse
import sys
import time

PASSWORD = "load-password-123"  # noqa: S105 - a benchmark account's, public on purpose
TOKEN_PREFIX = "loadtoken"  # noqa: S105 - benchmark tokens, derived on purpose
EMAIL = "load{n}@example.com"


def token_for(n: int) -> str:
    return f"{TOKEN_PREFIX}{n:031d}"


def seed_users(cursor, *, users: int, transactions: int, password_hash: str) -> dict[str, int]:
    per_user = max(1, transactions // users)
    cursor.execute("DELETE FROM accounts_user WHERE email LIKE 'load%%@example.com'", [])
    cursor.execute(
        """
        INSERT INTO accounts_user (password, is_superuser, is_staff, is_active, date_joined, name, email,
                                   fiat_currency, tax_jurisdiction, cost_basis_method, lp_treatment, timezone)
        SELECT %s, false, false, true, now(), '', 'load' || g || '@example.com', 'USD', 'us', 'fifo',
               'nontaxable', 'UTC'
        FROM generate_series(1, %s) AS g
        """,
        [password_hash, users],
    )
    cursor.execute(
        """
        INSERT INTO account_emailaddress (email, verified, "primary", user_id)
        SELECT email, true, true, id FROM accounts_user WHERE email LIKE 'load%%@example.com'
        """,
        [],
    )
    cursor.execute(
        """
        INSERT INTO authtoken_token (key, created, user_id)
        SELECT %s || lpad(substring(email from 5 for position('@' in email) - 5), 31, '0'), now(), id
        FROM accounts_user WHERE email LIKE 'load%%@example.com'
        """,
        [TOKEN_PREFIX],
    )
    cursor.execute(
        """
        INSERT INTO portfolios_portfolio (name, created_at, updated_at, owner_id, ledger_version)
        SELECT 'Main', now(), now(), id, gen_random_uuid() FROM accounts_user WHERE email LIKE 'load%%@example.com'
        """,
        [],
    )
    # Three LP positions each, on active constant-product pools spread over the table.
    cursor.execute(
        """
        WITH pools AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM pools_pool
                       WHERE is_active AND kind = 'amm'),
             total AS (SELECT count(*) AS c FROM pools),
             owners AS (SELECT p.id, row_number() OVER (ORDER BY p.id) AS n
                        FROM portfolios_portfolio p JOIN accounts_user u ON u.id = p.owner_id
                        WHERE u.email LIKE 'load%%@example.com')
        INSERT INTO portfolios_position (label, kind, opened_at, notes, created_at, updated_at, pool_id,
                                         portfolio_id)
        SELECT '', 'lp', timestamptz '2024-01-01', '', now(), now(), pools.id, owners.id
        FROM owners CROSS JOIN generate_series(0, 2) AS k CROSS JOIN total
        JOIN pools ON pools.n = 1 + ((owners.n * 7 + k * 3001) %% total.c)
        """,
        [],
    )
    cursor.execute(
        """
        INSERT INTO portfolios_transaction (portfolio_id, kind, income_type, occurred_at, description, source,
                                            dedupe_key, created_at, updated_at)
        SELECT p.id,
               CASE WHEN g %% 10 = 0 THEN 'reward' WHEN g %% 3 = 0 THEN 'sell' ELSE 'buy' END,
               CASE WHEN g %% 10 = 0 THEN 'staking' ELSE '' END,
               timestamptz '2024-01-01 12:00+00' + (g * 3 * 24 * 60 / %s || ' minutes')::interval,
               '', 'import', '', now(), now()
        FROM portfolios_portfolio p JOIN accounts_user u ON u.id = p.owner_id
        CROSS JOIN generate_series(1, %s) AS g
        WHERE u.email LIKE 'load%%@example.com'
        """,
        [max(1, per_user // 100), per_user],
    )
    load_txns = """FROM portfolios_transaction t JOIN portfolios_portfolio p ON p.id = t.portfolio_id
                   JOIN accounts_user u ON u.id = p.owner_id WHERE u.email LIKE 'load%%@example.com'"""
    cursor.execute(
        f"""
        INSERT INTO portfolios_leg (asset, quantity, fiat_value, value_source, is_fee, transaction_id)
        SELECT 'ETH', CASE t.kind WHEN 'buy' THEN 1 WHEN 'sell' THEN -0.5 ELSE 0.01 END,
               CASE t.kind WHEN 'buy' THEN 3000 WHEN 'sell' THEN 1600 ELSE 30 END, 'entered', false, t.id
        {load_txns}
        """,  # noqa: S608 - constant SQL
        [],
    )
    cursor.execute(
        f"""
        INSERT INTO portfolios_leg (asset, quantity, fiat_value, value_source, is_fee, transaction_id)
        SELECT 'USD', CASE t.kind WHEN 'buy' THEN -3000 ELSE 1600 END,
               CASE t.kind WHEN 'buy' THEN 3000 ELSE 1600 END, 'entered', false, t.id
        {load_txns} AND t.kind IN ('buy', 'sell')
        """,  # noqa: S608 - constant SQL
        [],
    )
    counts = {}
    for table in ("accounts_user", "portfolios_position", "portfolios_transaction", "portfolios_leg"):
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - constant table names
        counts[table] = cursor.fetchone()[0]
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args(argv)

    from benchmarks import bench_pools_api as api
    from benchmarks import bench_pools_ingest as ingest

    started = time.perf_counter()
    if not api.database_is_built():
        print("building the pools and their year of history (benchmarks/bench_pools_api.py's steps) ...")
        ingest.recreate_database()
        ingest.setup_django()
        from pools.models import Pool
        from pools.services.ingest import pools_ingest
        from pools.services.risk import pool_risk_refresh
        from pools.services.stats import pool_stats_refresh
        from tests.pools.conftest import make_batch

        records = ingest.scaled_records()
        when = max(r.updated_at for r in records if r.updated_at)
        pools_ingest(batch=make_batch(records, fetched_at=when))
        api.generate_history(args.days)
        pool_stats_refresh(as_of=when.date())
        pool_risk_refresh()
        Pool.objects.update(history_backfilled_at=when)
    else:
        ingest.setup_django()
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django.db import connection, transaction

    hasher = PBKDF2PasswordHasher()
    with transaction.atomic(), connection.cursor() as cursor:
        counts = seed_users(cursor, users=args.users, transactions=args.transactions,
                            password_hash=hasher.encode(PASSWORD, hasher.salt()))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded in {time.perf_counter() - started:.1f} s: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
