"""Filters and orderings: one FilterSet for the pool explorer page and the ``/api/v1/pools/``
list (with its orderings), and the FilterSets of the other pools lists (tokens, chains,
protocols).

Ordering follows DRF's convention on every list: ``?ordering=apy`` ascending,
``?ordering=-apy`` descending; unknown values (NULL) come last either way and the
id breaks ties in the same direction. An unknown key is a 400 naming ``ordering``.
"""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django import forms
from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Lower
from django_filters.constants import EMPTY_VALUES

from pools.models import Chain, Pool, Protocol, Token
from pools.naming import chain_slug, normalize_address, token_symbol_equivalents

#: public ordering key -> model field.
ORDER_FIELDS: dict[str, str] = {
    "tvl": "tvl_usd",
    "apy": "apy",
    "apy_base": "apy_base",
    "apy_reward": "apy_reward",
    "apy_mean_30d": "apy_mean_30d",
    "risk": "risk_score",
}
#: Keys sorted by a yield: by default these leave out outliers and small pools (see ``apy_sort_guard``).
APY_KEYS = frozenset({"apy", "apy_base", "apy_reward", "apy_mean_30d"})
#: The explorer's sort menu, most useful first. Every choice is a plain DRF ordering value.
ORDERING_CHOICES: list[tuple[str, str]] = [
    ("-tvl", "TVL, largest first"),
    ("-apy", "APY, highest first"),
    ("-apy_base", "Base APY, highest first"),
    ("-apy_reward", "Reward APY, highest first"),
    ("-apy_mean_30d", "30-day mean APY, highest first"),
    ("risk", "Risk, lowest first"),
    ("tvl", "TVL, smallest first"),
    ("apy", "APY, lowest first"),
    ("apy_base", "Base APY, lowest first"),
    ("apy_reward", "Reward APY, lowest first"),
    ("apy_mean_30d", "30-day mean APY, lowest first"),
    ("-risk", "Risk, highest first"),
]
ORDERING_LABELS = dict(ORDERING_CHOICES)
DEFAULT_ORDERING = "-tvl"
#: The direction a column header sorts in when first clicked (then it flips).
FIRST_CLICK = {key: ("" if key == "risk" else "-") + key for key in ORDER_FIELDS}


def pool_order(qs: QuerySet[Pool], key: str | None) -> QuerySet[Pool]:
    """Order by a public key (``apy`` ascending, ``-apy`` descending…): NULLs always last,
    the id breaks ties in the same direction.

    Every key in both directions is served by a partial index over active pools (see
    Pool.Meta.indexes; TVL, never NULL, by one index scanned either way).
    """
    key = key or DEFAULT_ORDERING
    descending = key.startswith("-")
    field = ORDER_FIELDS.get(key.lstrip("-"))
    if field is None:
        descending, field = True, ORDER_FIELDS["tvl"]
    sign = "-" if descending else ""
    if field == "tvl_usd":  # NOT NULL: plain DESC matches the index exactly
        return qs.order_by(f"{sign}tvl_usd", f"{sign}id")
    expr = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
    return qs.order_by(expr, f"{sign}id")


def apy_sort_min_tvl() -> Decimal:
    return Decimal(str(getattr(settings, "POOL_APY_SORT_MIN_TVL_USD", 100_000)))


def apy_outlier_pct() -> Decimal:
    return Decimal(str(getattr(settings, "POOL_APY_OUTLIER_PCT", 1_000)))


def apy_sort_guard() -> Q:
    """The pools an APY sort shows by default: at least ``POOL_APY_SORT_MIN_TVL_USD``
    of TVL, not flagged as an outlier by the source, and an APY of at most
    ``POOL_APY_OUTLIER_PCT``. A tiny pool's APY is mostly noise (one swap in a
    $12k pool annualises to thousands of percent)."""
    return (Q(tvl_usd__gte=apy_sort_min_tvl()) & ~Q(outlier=True)
            & (Q(apy__isnull=True) | Q(apy__lte=apy_outlier_pct())))


def ordering_key(value: str | None) -> str:
    return value if value in ORDERING_LABELS else DEFAULT_ORDERING


def is_apy_ordering(key: str | None) -> bool:
    return (key or "").lstrip("-") in APY_KEYS


class StableOrderingFilter(django_filters.OrderingFilter):
    """django-filter's OrderingFilter (``key`` ascending, ``-key`` descending, an unknown
    key is a validation error naming ``ordering``), with NULLs last either way and the
    id as tie-breaker in the same direction, so pages never overlap."""

    def get_ordering_value(self, param):
        descending = param.startswith("-")
        field = self.param_map[param.lstrip("-")]
        return F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        ordering = [self.get_ordering_value(param) for param in value]
        last = "-id" if value[-1].startswith("-") else "id"
        return qs.order_by(*ordering, last)


class CheckboxFilter(django_filters.BooleanFilter):
    """``?stablecoin=true`` (a ticked box); anything else means "do not filter"."""

    field_class = forms.NullBooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.CheckboxInput(check_test=lambda v: str(v).lower() in {"true", "1", "on"}))
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        return super().filter(qs, True) if value else qs


class ChainChoiceField(forms.ModelChoiceField):
    """A chain by slug, however it is spelt (``op_bnb``, ``opBNB`` -> ``opbnb``)."""

    def to_python(self, value):
        if value not in self.empty_values:
            value = chain_slug(str(value))
        return super().to_python(value)


class ChainChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = ChainChoiceField


class PoolFilter(django_filters.FilterSet):
    chain = ChainChoiceFilter(
        queryset=Chain.objects.order_by("name"),
        to_field_name="slug",
        field_name="chain",
        empty_label="All chains",
        help_text="Chain slug, e.g. ethereum",
    )
    protocol = django_filters.ModelChoiceFilter(
        queryset=Protocol.objects.order_by("name"),
        to_field_name="slug",
        field_name="protocol",
        empty_label="All protocols",
        help_text="Protocol slug, e.g. uniswap-v3",
    )
    kind = django_filters.ChoiceFilter(choices=Pool.Kind.choices, empty_label="All kinds", label="Pool kind")
    stablecoin = CheckboxFilter(field_name="stablecoin", label="Stablecoins only")
    no_il_risk = CheckboxFilter(method="filter_no_il_risk", label="No impermanent-loss risk")
    single_exposure = CheckboxFilter(method="filter_single", label="Single asset")
    min_tvl = django_filters.NumberFilter(field_name="tvl_usd", lookup_expr="gte", label="Min TVL (USD)", min_value=0)
    apy_min = django_filters.NumberFilter(field_name="apy", lookup_expr="gte", label="APY from (%)")
    apy_max = django_filters.NumberFilter(field_name="apy", lookup_expr="lte", label="APY to (%)")
    token = django_filters.CharFilter(
        method="filter_token",
        label="Token symbol",
        max_length=40,
        help_text="A token in the pool, e.g. USDC (exact symbol; a native coin also finds its wrapped "
        "token: ETH finds WETH, BNB finds WBNB, and the other way round)",
    )
    ordering = django_filters.ChoiceFilter(
        choices=ORDERING_CHOICES, method="filter_ordering", label="Sort by", empty_label=None, null_label=None,
        help_text="A key sorts ascending, -key descending (e.g. -apy: highest APY first). Default -tvl.",
    )
    show_all = CheckboxFilter(
        method="filter_show_all", label="Show all pools",
        help_text="Sorting by an APY leaves out outliers and pools under the TVL floor unless this is true.",
    )

    class Meta:
        model = Pool
        fields: list[str] = []

    def filter_no_il_risk(self, qs, name, value):
        return qs.filter(il_risk=False) if value else qs

    def filter_single(self, qs, name, value):
        return qs.filter(exposure=Pool.Exposure.SINGLE) if value else qs

    def filter_token(self, qs, name, value):
        # tokens_key is "-WETH-USDC-": an exact token match, not a substring of another symbol
        symbols = token_symbol_equivalents(value.replace("-", ""))
        if not symbols:
            return qs
        match = Q()
        for symbol in symbols:
            match |= Q(tokens_key__contains=f"-{symbol}-")
        return qs.filter(match)

    def filter_ordering(self, qs, name, value):
        return qs  # applied last, in .qs, so every request is ordered

    def filter_show_all(self, qs, name, value):
        return qs  # applied in .qs, where the ordering is known

    @property
    def ordering_key(self) -> str:
        if self.is_bound and self.form.is_valid():
            return ordering_key(self.form.cleaned_data.get("ordering"))
        return DEFAULT_ORDERING

    @property
    def hides_small_and_outliers(self) -> bool:
        """True when this list leaves out outliers and small pools (an APY sort without show_all)."""
        show_all = self.is_bound and self.form.is_valid() and self.form.cleaned_data.get("show_all")
        return is_apy_ordering(self.ordering_key) and not show_all

    @property
    def qs(self):
        qs = super().qs
        if self.hides_small_and_outliers:
            qs = qs.filter(apy_sort_guard())
        return pool_order(qs, self.ordering_key)


class TokenFilter(django_filters.FilterSet):
    symbol = django_filters.CharFilter(method="filter_symbol", help_text="Exact symbol, any case (e.g. usdc).")
    chain = django_filters.CharFilter(method="filter_chain", help_text="Chain slug (e.g. ethereum).")
    address = django_filters.CharFilter(method="filter_address", help_text="Token address (any case for EVM).")
    ordering = StableOrderingFilter(
        fields=(("symbol", "symbol"), ("id", "id")),
        help_text="symbol or id; -symbol / -id descending. Default: id.",
    )

    class Meta:
        model = Token
        fields = ["symbol", "chain", "address"]

    def filter_symbol(self, qs, name, value):
        return qs.annotate(symbol_lower=Lower("symbol")).filter(symbol_lower=value.strip().lower())

    def filter_address(self, qs, name, value):
        return qs.filter(address=normalize_address(value))

    def filter_chain(self, qs, name, value):
        return qs.filter(chain__slug=chain_slug(value))


class ChainFilter(django_filters.FilterSet):
    ordering = StableOrderingFilter(
        fields=(("name", "name"), ("slug", "slug")),
        help_text="name or slug; -name / -slug descending. Default: name.",
    )

    class Meta:
        model = Chain
        fields: list[str] = []


class ProtocolFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=Protocol.Category.choices)
    ordering = StableOrderingFilter(
        fields=(("name", "name"), ("slug", "slug"), ("launch_date", "launch_date")),
        help_text="name, slug or launch_date; -key descending. Default: name.",
    )

    class Meta:
        model = Protocol
        fields: list[str] = []
