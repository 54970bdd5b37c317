"""Chain configuration files (``portfolios/wallets/data/chains.json``): parse and validate.

The format is documented in ``docs/wallets.md``. Every problem in a file is
reported at once, each with its path (``chains[2].uniswap_v3[0].factory: …``),
as one :class:`ChainConfigError`. Addresses come out lower-case.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portfolios.wallets.chain.abi import AbiError, address

FORMAT_VERSION = 1
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "chains.json"

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
# DeFiLlama coins ids, as pools.Token.price_id: "coingecko:<id>" or "<chain>:0x<address>".
_PRICE_ID = re.compile(r"coingecko:[a-z0-9-]+|[a-z0-9_]+:0x[0-9a-f]{40}")
_URL = re.compile(r"https?://[^\s]+")


class ChainConfigError(ValueError):
    def __init__(self, problems: list[str], source: str = ""):
        self.problems = problems
        where = f"{source}: " if source else ""
        super().__init__(where + "; ".join(problems))


@dataclass(frozen=True, slots=True)
class V2Protocol:
    name: str
    factory: str


@dataclass(frozen=True, slots=True)
class V3Protocol:
    name: str
    factory: str
    position_manager: str


@dataclass(frozen=True, slots=True)
class TokenRef:
    symbol: str
    price_id: str


@dataclass(frozen=True, slots=True)
class ChainConfig:
    chain_id: int
    slug: str
    name: str
    native_symbol: str
    native_price_id: str
    rpc_urls: tuple[str, ...]
    explorer_api: str | None
    explorer_url: str | None
    max_log_range: int
    confirmations: int
    batch_size: int
    wrapped_native: str | None
    uniswap_v2: tuple[V2Protocol, ...] = ()
    uniswap_v3: tuple[V3Protocol, ...] = ()
    tokens: Mapping[str, TokenRef] = field(default_factory=dict)
    rebasing_tokens: frozenset[str] = frozenset()

    @property
    def v2_factories(self) -> frozenset[str]:
        return frozenset(p.factory for p in self.uniswap_v2)

    @property
    def position_managers(self) -> frozenset[str]:
        return frozenset(p.position_manager for p in self.uniswap_v3)

    def explorer_tx_url(self, tx_hash: str) -> str | None:
        return f"{self.explorer_url.rstrip('/')}/tx/{tx_hash}" if self.explorer_url else None


class _Reader:
    """Pulls typed fields out of one JSON object, recording problems instead of raising."""

    def __init__(self, problems: list[str]):
        self.problems = problems

    def fail(self, path: str, msg: str) -> None:
        self.problems.append(f"{path}: {msg}")

    def obj(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(path, f"expected an object, got {type(value).__name__}")
            return {}
        return value

    def get(self, obj: Mapping[str, Any], key: str, path: str, kind: type | tuple[type, ...], *, required=True):
        if key not in obj or obj[key] is None:
            if required:
                self.fail(f"{path}.{key}", "missing")
            return None
        value = obj[key]
        if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
            self.fail(f"{path}.{key}", f"expected {getattr(kind, '__name__', kind)}, got {type(value).__name__}")
            return None
        return value

    def int_in(self, obj, key, path, lo: int, hi: int, *, default: int | None = None) -> int:
        value = self.get(obj, key, path, int, required=default is None)
        if value is None:
            return default if default is not None else 0
        if not lo <= value <= hi:
            self.fail(f"{path}.{key}", f"{value} is outside {lo}..{hi}")
        return value

    def address(self, value: Any, path: str) -> str:
        try:
            return address(value)
        except AbiError as exc:
            self.fail(path, str(exc))
            return ""

    def pattern(self, value: Any, path: str, regex: re.Pattern[str], what: str) -> str:
        if not isinstance(value, str) or not regex.fullmatch(value):
            self.fail(path, f"not {what}: {value!r:.80}")
            return ""
        return value

    def extra_keys(self, obj: Mapping[str, Any], allowed: set[str], path: str) -> None:
        for key in sorted(set(obj) - allowed):
            self.fail(f"{path}.{key}", "unknown key")


_CHAIN_KEYS = {
    "chain_id",
    "slug",
    "name",
    "native",
    "rpc_urls",
    "explorer",
    "max_log_range",
    "confirmations",
    "batch_size",
    "wrapped_native",
    "uniswap_v2",
    "uniswap_v3",
    "tokens",
    "rebasing_tokens",
}


def _parse_chain(r: _Reader, raw: Any, path: str) -> ChainConfig:
    obj = r.obj(raw, path)
    r.extra_keys(obj, _CHAIN_KEYS, path)
    native = r.obj(r.get(obj, "native", path, Mapping) or {}, f"{path}.native")
    urls = r.get(obj, "rpc_urls", path, list) or []
    if not urls:
        r.fail(f"{path}.rpc_urls", "needs at least one URL")
    explorer = r.get(obj, "explorer", path, Mapping, required=False) or {}
    v2 = [r.obj(p, f"{path}.uniswap_v2[{i}]") for i, p in enumerate(r.get(obj, "uniswap_v2", path, list) or [])]
    v3 = [r.obj(p, f"{path}.uniswap_v3[{i}]") for i, p in enumerate(r.get(obj, "uniswap_v3", path, list) or [])]
    tokens: dict[str, TokenRef] = {}
    for key, ref in (r.get(obj, "tokens", path, Mapping, required=False) or {}).items():
        tpath = f"{path}.tokens[{key}]"
        token = r.address(key, tpath)
        ref = r.obj(ref, tpath)
        r.extra_keys(ref, {"symbol", "price_id"}, tpath)
        if token in tokens:
            r.fail(tpath, "listed twice")
        tokens[token] = TokenRef(
            str(r.get(ref, "symbol", tpath, str) or ""),
            r.pattern(ref.get("price_id"), f"{tpath}.price_id", _PRICE_ID, "a price id"),
        )
    wrapped = r.get(obj, "wrapped_native", path, str, required=False)
    return ChainConfig(
        chain_id=r.int_in(obj, "chain_id", path, 1, 2**53),
        slug=r.pattern(obj.get("slug"), f"{path}.slug", _SLUG, "a slug (a-z, 0-9, -)"),
        name=str(r.get(obj, "name", path, str) or ""),
        native_symbol=str(r.get(native, "symbol", f"{path}.native", str) or ""),
        native_price_id=r.pattern(native.get("price_id"), f"{path}.native.price_id", _PRICE_ID, "a price id"),
        rpc_urls=tuple(r.pattern(u, f"{path}.rpc_urls[{i}]", _URL, "an http(s) URL") for i, u in enumerate(urls)),
        explorer_api=(
            r.pattern(explorer["api"], f"{path}.explorer.api", _URL, "an http(s) URL") if explorer.get("api") else None
        ),
        explorer_url=(
            r.pattern(explorer["url"], f"{path}.explorer.url", _URL, "an http(s) URL") if explorer.get("url") else None
        ),
        max_log_range=r.int_in(obj, "max_log_range", path, 1, 10_000_000),
        confirmations=r.int_in(obj, "confirmations", path, 0, 10_000),
        batch_size=r.int_in(obj, "batch_size", path, 1, 1000, default=50),
        wrapped_native=r.address(wrapped, f"{path}.wrapped_native") if wrapped else None,
        uniswap_v2=tuple(
            V2Protocol(
                str(r.get(p, "name", f"{path}.uniswap_v2[{i}]", str) or ""),
                r.address(p.get("factory"), f"{path}.uniswap_v2[{i}].factory"),
            )
            for i, p in enumerate(v2)
        ),
        uniswap_v3=tuple(
            V3Protocol(
                str(r.get(p, "name", f"{path}.uniswap_v3[{i}]", str) or ""),
                r.address(p.get("factory"), f"{path}.uniswap_v3[{i}].factory"),
                r.address(p.get("position_manager"), f"{path}.uniswap_v3[{i}].position_manager"),
            )
            for i, p in enumerate(v3)
        ),
        tokens=tokens,
        rebasing_tokens=frozenset(
            r.address(a, f"{path}.rebasing_tokens[{i}]")
            for i, a in enumerate(r.get(obj, "rebasing_tokens", path, list, required=False) or [])
        ),
    )


def parse_chains(data: Any, source: str = "") -> list[ChainConfig]:
    """Validate a decoded chains document; raise :class:`ChainConfigError` listing every problem."""
    problems: list[str] = []
    r = _Reader(problems)
    root = r.obj(data, "$")
    r.extra_keys(root, {"format", "chains"}, "$")
    if root.get("format") != FORMAT_VERSION:
        r.fail("$.format", f"expected {FORMAT_VERSION}, got {root.get('format')!r}")
    raw_chains = r.get(root, "chains", "$", list) or []
    chains = [_parse_chain(r, raw, f"chains[{i}]") for i, raw in enumerate(raw_chains)]
    for attr in ("chain_id", "slug"):
        seen: set[Any] = set()
        for i, chain in enumerate(chains):
            value = getattr(chain, attr)
            if value in seen:
                r.fail(f"chains[{i}].{attr}", f"{value!r} appears twice")
            seen.add(value)
    if problems:
        raise ChainConfigError(problems, source)
    return chains


def load_chains(path: str | Path = DEFAULT_PATH) -> list[ChainConfig]:
    """Read and validate a chains JSON file (default: the mainnet file shipped in the repository)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ChainConfigError([f"line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}"], str(path)) from exc
    return parse_chains(data, str(path))
