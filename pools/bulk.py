# ruff: noqa: S608 - SQL here is built only from model table/column names (quoted); values are parameters.
"""Set-based writes for the ingestion service: a handful of statements per table,
never a query per row.

PostgreSQL: rows are streamed with ``COPY`` into a temporary table, then merged
with ``UPDATE … FROM tmp WHERE (stored) IS DISTINCT FROM (new)`` and ``INSERT …
SELECT … ON CONFLICT DO NOTHING``. The ``IS DISTINCT FROM``
is what makes a re-run free: a row whose values did not change is neither
rewritten nor locked (no dead tuple, no WAL) nor returned.

SQLite (the embedded default): the same statements with ``executemany`` into the
temporary table and ``IS NOT`` (SQLite's null-safe inequality, row values
allowed) instead of ``IS DISTINCT FROM``. SQLite stores decimals as REAL, so
values beyond ~15 significant digits are rounded there; both sides of the
comparison are rounded the same way, so re-runs stay unchanged.

Every function here must run inside ``transaction.atomic()`` (the PostgreSQL
temporary tables are ``ON COMMIT DROP``).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection

_counter = itertools.count()


def json_text(value: Any) -> str:
    """A JSON column value as Django's JSONField encodes it, so SQLite text compares equal."""
    return json.dumps(value)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _adapt_sqlite(row: Sequence[Any]) -> tuple:
    ops = connection.ops
    return tuple(ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else v for v in row)


def _distinct(left: Sequence[str], right: Sequence[str]) -> str:
    op = "IS DISTINCT FROM" if is_postgres() else "IS NOT"
    if len(left) == 1:
        return f"{left[0]} {op} {right[0]}"
    return f"({', '.join(left)}) {op} ({', '.join(right)})"


def load_temp(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Create a temporary table shaped like ``table``'s ``columns`` and fill it.

    Returns the temporary table's (quoted) name.
    """
    tmp = f"_yl_tmp_{next(_counter)}"
    cols = ", ".join(_qn(c) for c in columns)
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute(f"CREATE TEMP TABLE {tmp} ON COMMIT DROP AS SELECT {cols} FROM {_qn(table)} WITH NO DATA")
            raw = cursor.cursor  # the psycopg 3 cursor under Django's wrapper
            with raw.copy(f"COPY {tmp} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            # Not ANALYZEd (that costs more than the merge on a wide 20,000-row table):
            # without statistics PostgreSQL sizes a temporary table from its pages,
            # which is enough for it to pick hash joins.
        else:
            cursor.execute(f"DROP TABLE IF EXISTS temp.{tmp}")
            cursor.execute(f"CREATE TEMP TABLE {tmp} AS SELECT {cols} FROM {_qn(table)} WHERE 0")
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {tmp} ({cols}) VALUES ({marks})", [_adapt_sqlite(r) for r in rows])
    return tmp


def drop_temp(tmp: str) -> None:
    if not is_postgres():  # PostgreSQL drops it on commit
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS temp.{tmp}")


def upsert(
    *,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    conflict: Sequence[str],
    update: dict[str, str] | None = None,
    compare: Sequence[str] | None = None,
    returning: Sequence[str] = ("id",),
    insert: bool = True,
) -> list[tuple]:
    """Insert ``rows``; where a row with the same ``conflict`` key exists, update it
    only if it changed. Returns the ``returning`` columns of rows inserted or updated.

    One temporary table, two statements::

        UPDATE t SET … FROM tmp WHERE t.key = tmp.key AND (t.cols) IS DISTINCT FROM (new)
        INSERT INTO t SELECT … FROM tmp ON CONFLICT (key) DO NOTHING

    rather than a single ``INSERT … ON CONFLICT DO UPDATE … WHERE``: that form
    row-locks every conflicting row even when its ``WHERE`` is false, so an
    unchanged 20,000-pool refresh would still dirty 20,000 heap pages.

    ``update`` maps a column to its new-value SQL: ``{S}.col`` is the incoming
    row, ``{T}.col`` the stored one (default ``{S}.col`` for every non-key
    column). ``compare`` lists the columns whose change justifies a rewrite
    (default: every updated column). ``insert=False`` skips the INSERT when the
    caller knows every row exists.
    """
    tmp = load_temp(table, columns, rows)
    qt = _qn(table)
    if update is None:
        update = {c: f"{{S}}.{_qn(c)}" for c in columns if c not in conflict}
    compare = list(compare if compare is not None else update)

    def expand(expr: str) -> str:
        return expr.replace("{S}", tmp).replace("{T}", qt)

    match = " AND ".join(f"{qt}.{_qn(c)} = {tmp}.{_qn(c)}" for c in conflict)
    ret = (" RETURNING " + ", ".join(f"{qt}.{_qn(c)}" for c in returning)) if returning else ""
    result: list[tuple] = []
    with connection.cursor() as cursor:
        if update:
            sets = ", ".join(f"{_qn(c)} = {expand(e)}" for c, e in update.items())
            changed = _distinct([f"{qt}.{_qn(c)}" for c in compare], [expand(update[c]) for c in compare])
            cursor.execute(f"UPDATE {qt} SET {sets} FROM {tmp} WHERE {match} AND {changed}{ret}")
            if returning:
                result += cursor.fetchall()
        cols = ", ".join(_qn(c) for c in columns)
        keys = ", ".join(_qn(c) for c in conflict)
        if not insert:
            drop_temp(tmp)
            return result
        # DO NOTHING (unlike DO UPDATE) neither locks nor touches the rows that already
        # exist: the unique index is probed and the row skipped. "WHERE true" lets
        # SQLite parse an upsert from a SELECT.
        cursor.execute(f"INSERT INTO {qt} ({cols}) SELECT {cols} FROM {tmp} WHERE true "
                       f"ON CONFLICT ({keys}) DO NOTHING{ret}")
        if returning:
            result += cursor.fetchall()
    drop_temp(tmp)
    return result


def update_from(
    *,
    table: str,
    key: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    update: dict[str, str] | None = None,
    compare: Sequence[str] | None = None,
    returning: Sequence[str] = ("id",),
) -> list[tuple]:
    """``UPDATE table SET … FROM (rows) WHERE table.key = rows.key AND changed``.

    ``columns`` starts with ``key``. ``update`` maps a column to an expression
    over ``{S}.col`` (the new row) and ``{T}.col`` (the stored row); default
    ``{S}.col`` for every non-key column.
    """
    tmp = load_temp(table, columns, rows)
    qt = _qn(table)
    if update is None:
        update = {c: f"{{S}}.{_qn(c)}" for c in columns if c != key}
    compare = list(compare if compare is not None else update)

    def expand(expr: str) -> str:
        return expr.replace("{S}", tmp).replace("{T}", qt)

    sets = ", ".join(f"{_qn(c)} = {expand(e)}" for c, e in update.items())
    changed = _distinct([f"{qt}.{_qn(c)}" for c in compare], [expand(update[c]) for c in compare])
    sql = f"UPDATE {qt} SET {sets} FROM {tmp} WHERE {qt}.{_qn(key)} = {tmp}.{_qn(key)} AND {changed}"
    if returning:
        sql += " RETURNING " + ", ".join(f"{qt}.{_qn(c)}" for c in returning)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        result = cursor.fetchall() if returning else []
    drop_temp(tmp)
    return result


def insert_rows(*, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """Plain bulk insert (PostgreSQL: COPY straight into the table). No conflict handling."""
    if not rows:
        return 0
    cols = ", ".join(_qn(c) for c in columns)
    with connection.cursor() as cursor:
        if is_postgres():
            with cursor.cursor.copy(f"COPY {_qn(table)} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {_qn(table)} ({cols}) VALUES ({marks})",
                               [_adapt_sqlite(r) for r in rows])
    return len(rows)


def delete_ids(*, table: str, ids: Sequence[int]) -> int:
    if not ids:
        return 0
    total = 0
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 900):  # SQLite's bound-parameter limit
            chunk = list(ids[start:start + 900])
            if is_postgres():
                cursor.execute(f"DELETE FROM {_qn(table)} WHERE id = ANY(%s)", [chunk])
            else:
                cursor.execute(f"DELETE FROM {_qn(table)} WHERE id IN ({', '.join(['%s'] * len(chunk))})", chunk)
            total += cursor.rowcount
    return total
