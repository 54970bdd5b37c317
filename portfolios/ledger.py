"""The ledger's vocabulary, defined once (pure: standard library only, no Django).

Everything that reads or writes transactions speaks these words: the models
build their ``choices`` and database checks from them, and the services, the
CSV formats, the analytics, the forms and the template tags import them.

* **Transaction kinds** (:class:`TxKind`) and the groups the rules use
  (deposits, withdrawals, what only receives or only sends).
* **Income types** (:class:`IncomeType`) of a ``reward``.
* **Transaction categories** (:class:`TxCategory`): what a transfer is beyond a
  move between one's own wallets - a gift, or a gift between spouses or civil
  partners. Only a ``transfer_out`` or ``transfer_in`` takes one
  (:data:`CATEGORY_KINDS`); the tax rules read it.
* **Fiat codes** (:data:`FIAT_CODES`): upper-case ISO 4217 codes that are money,
  not tokens. Fiat is never lot-tracked and needs no token to be priced. The
  set is every currency of the ECB's daily reference rates (the currencies a
  user can choose) plus the euro: 30 codes. It is deliberately not the whole
  ISO 4217 list: a dozen other codes are also tickers of tokens we list (MNT
  is Mantle, BOB, GEL, SOS, USN...), and a symbol alone cannot tell them apart.
* **Token assets**: a leg of a listed token names it by its upper-case symbol
  (:func:`token_asset`), the address's start when it has none.
* **LP assets**: a position's synthetic receipt asset is ``"LP#<position id>"``
  (:func:`lp_asset` makes it, :func:`parse_lp_asset` reads it back,
  :func:`is_lp_asset` recognises one). The tax engine also names
  position-bound assets ``"CAKE@<position>"``; :func:`is_synthetic_asset`
  covers both.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

__all__ = [
    "CATEGORY_ERROR",
    "CATEGORY_KINDS",
    "DEPOSIT_KINDS",
    "FIAT_CODES",
    "INCOME_TYPE_CHOICES",
    "INCOMING_KINDS",
    "LP_PREFIX",
    "OUTGOING_KINDS",
    "RECEIVE_ONLY_KINDS",
    "SEND_ONLY_KINDS",
    "TX_CATEGORY_CHOICES",
    "TX_KIND_CHOICES",
    "WITHDRAW_KINDS",
    "IncomeType",
    "TxCategory",
    "TxKind",
    "category_problem",
    "is_fiat",
    "is_lp_asset",
    "is_synthetic_asset",
    "lp_asset",
    "parse_lp_asset",
    "token_asset",
]


class TxKind(StrEnum):
    """What a transaction is. Legs carry the amounts; the kind says how to read them."""

    BUY = "buy"
    SELL = "sell"
    SWAP = "swap"
    LP_DEPOSIT = "lp_deposit"
    LP_WITHDRAW = "lp_withdraw"
    STAKE = "stake"
    UNSTAKE = "unstake"
    REWARD = "reward"
    FEE = "fee"
    TRANSFER_IN = "transfer_in"
    TRANSFER_OUT = "transfer_out"

    @property
    def label(self) -> str:
        return _TX_KIND_LABELS[self]


_TX_KIND_LABELS: Final[dict[TxKind, str]] = {
    TxKind.BUY: "Buy",
    TxKind.SELL: "Sell",
    TxKind.SWAP: "Swap",
    TxKind.LP_DEPOSIT: "LP deposit",
    TxKind.LP_WITHDRAW: "LP withdrawal",
    TxKind.STAKE: "Stake",
    TxKind.UNSTAKE: "Unstake",
    TxKind.REWARD: "Reward",
    TxKind.FEE: "Fee",
    TxKind.TRANSFER_IN: "Transfer in",
    TxKind.TRANSFER_OUT: "Transfer out",
}


class IncomeType(StrEnum):
    """What kind of income a ``reward`` is (every one is income when received)."""

    STAKING = "staking"
    LIQUIDITY_MINING = "liquidity_mining"
    LP_FEES = "lp_fees"
    INTEREST = "interest"
    AIRDROP = "airdrop"
    MINING = "mining"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _INCOME_TYPE_LABELS[self]


_INCOME_TYPE_LABELS: Final[dict[IncomeType, str]] = {
    IncomeType.STAKING: "Staking",
    IncomeType.LIQUIDITY_MINING: "Liquidity mining",
    IncomeType.LP_FEES: "LP fees",
    IncomeType.INTEREST: "Interest",
    IncomeType.AIRDROP: "Airdrop",
    IncomeType.MINING: "Mining",
    IncomeType.OTHER: "Other income",
}


class TxCategory(StrEnum):
    """What a transfer is when it is not a move between the user's own wallets."""

    GIFT = "gift"
    GIFT_SPOUSE = "gift_spouse"

    @property
    def label(self) -> str:
        return _TX_CATEGORY_LABELS[self]


_TX_CATEGORY_LABELS: Final[dict[TxCategory, str]] = {
    TxCategory.GIFT: "Gift",
    TxCategory.GIFT_SPOUSE: "Gift between spouses or civil partners",
}

#: ``(value, label)`` pairs in declaration order: the models' ``choices``.
TX_KIND_CHOICES: Final[list[tuple[str, str]]] = [(k.value, k.label) for k in TxKind]
INCOME_TYPE_CHOICES: Final[list[tuple[str, str]]] = [(t.value, t.label) for t in IncomeType]
TX_CATEGORY_CHOICES: Final[list[tuple[str, str]]] = [(c.value, c.label) for c in TxCategory]

#: Put tokens into a position / take them out.
DEPOSIT_KINDS: Final = frozenset({TxKind.LP_DEPOSIT, TxKind.STAKE})
WITHDRAW_KINDS: Final = frozenset({TxKind.LP_WITHDRAW, TxKind.UNSTAKE})
#: Must receive something (a positive principal leg) / send something (a negative one).
INCOMING_KINDS: Final = frozenset({TxKind.REWARD, TxKind.TRANSFER_IN, TxKind.BUY})
OUTGOING_KINDS: Final = frozenset({TxKind.TRANSFER_OUT, TxKind.SELL})
#: Every principal leg is received / every leg (fees included) is sent.
RECEIVE_ONLY_KINDS: Final = frozenset({TxKind.REWARD, TxKind.TRANSFER_IN})
SEND_ONLY_KINDS: Final = frozenset({TxKind.FEE, TxKind.TRANSFER_OUT})
#: The only kinds a category (:class:`TxCategory`) may be given to.
CATEGORY_KINDS: Final = frozenset({TxKind.TRANSFER_OUT, TxKind.TRANSFER_IN})
CATEGORY_ERROR: Final = "Only a transfer out or a transfer in can be categorised (as a gift)."


def category_problem(kind: str, category: str) -> str | None:
    """Why ``category`` does not fit a transaction of ``kind`` (None when it does; blank always fits)."""
    if not category:
        return None
    if category not in TxCategory.__members__.values():
        return f"Unknown category {category!r}; expected one of {', '.join(c.value for c in TxCategory)}."
    if kind not in CATEGORY_KINDS:
        return CATEGORY_ERROR
    return None


#: ISO 4217 codes treated as fiat money: the ECB reference-rate currencies and the euro.
FIAT_CODES: Final = frozenset(
    {
        "AUD", "BRL", "CAD", "CHF", "CNY", "CZK", "DKK", "EUR", "GBP", "HKD",
        "HUF", "IDR", "ILS", "INR", "ISK", "JPY", "KRW", "MXN", "MYR", "NOK",
        "NZD", "PHP", "PLN", "RON", "SEK", "SGD", "THB", "TRY", "USD", "ZAR",
    }
)  # fmt: skip


def is_fiat(asset: str) -> bool:
    """``asset`` is a fiat code (upper case, as legs store it)."""
    return asset in FIAT_CODES


LP_PREFIX: Final = "LP#"
_LP_ASSET = re.compile(r"LP#(\d+)")


def lp_asset(position_id: int) -> str:
    """The synthetic receipt asset of a position: ``lp_asset(12) == "LP#12"``."""
    return f"{LP_PREFIX}{position_id}"


def parse_lp_asset(asset: str) -> int | None:
    """The position id of an ``"LP#<id>"`` asset, or None when ``asset`` is not one."""
    match = _LP_ASSET.fullmatch(asset)
    return int(match.group(1)) if match else None


def is_lp_asset(asset: str) -> bool:
    """Named like a position receipt (``LP#...``), well-formed or not."""
    return asset.startswith(LP_PREFIX)


def is_synthetic_asset(asset: str) -> bool:
    """A bookkeeping asset, not a token: an LP receipt or a position-bound ``X@pos``."""
    return is_lp_asset(asset) or "@" in asset


def token_asset(symbol: str, address: str) -> str:
    """The asset a leg of a listed token carries: ``token_asset("weth", "0xc02a...") == "WETH"``;
    a token without a symbol goes by the start of its address."""
    return (symbol or address[:10]).strip().upper()
