"""Filters and orderings: one FilterSet for the pool explorer page and the ``/api/v1/pools/``
list (with its orderings), and the ``/api/v1/tokens/`` filter."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import F, QuerySet
from django.db.models.functions import Lower

from pools.models import Chain, Pool, Protocol, Token
from pools.naming import normalize_address

#: ordering key -> (field, descending). "-key" flips the direction.
ORDERINGS: dict[str, tuple[str, bool]] = {
    "tvl": ("tvl_usd", True),
    "apy": ("apy", True),
    "apy_base": ("apy_base", True),
    "apy_reward": ("apy_reward", True),
    "apy_mean_30d": ("apy_mean_30d", True),
    "risk": ("risk_score", False),
}
ORDERING_LABELS = {
    "tvl": "TVL (largest first)",
    "apy": "APY (highest first)",
    "apy_base": "Base APY (highest first)",
    "apy_reward": "Reward APY (highest first)",
    "apy_mean_30d": "30-day mean APY (highest first)",
    "risk": "Risk (lowest first)",
    "-risk": "Risk (highest first)",
    "-tvl": "TVL (smallest first)",
    "-apy": "APY (lowest first)",
    "-apy_base": "Base APY (lowest first)",
    "-apy_reward": "Reward APY (lowest first)",
    "-apy_mean_30d": "30-day mean APY (lowest first)",
}
DEFAULT_ORDERING = "tvl"


def pool_order(qs: QuerySet[Pool], key: str | None) -> QuerySet[Pool]:
    """Order by a public key (``apy``, ``-apy``, ``risk``…): NULLs always last, id breaks ties.

    The natural direction of each key (highest APY first, lowest risk first) is
    served by a partial index (see Pool.Meta.indexes); the flipped one sorts.
    """
    key = key or DEFAULT_ORDERING
    flip = key.startswith("-")
    field, descending = ORDERINGS.get(key.lstrip("-"), ORDERINGS[DEFAULT_ORDERING])
    descending = descending != flip
    if field == "tvl_usd":  # NOT NULL: plain DESC matches the index exactly
        return qs.order_by(f"{'-' if descending else ''}tvl_usd", f"{'-' if descending else ''}id")
    expr = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
    return qs.order_by(expr, "-id" if descending else "id")


ORDERING_CHOICES = [(key, ORDERING_LABELS.get(key, key)) for key in ORDERINGS] + [
    (f"-{key}", ORDERING_LABELS.get(f"-{key}", f"{key} (reversed)")) for key in ORDERINGS
]


class CheckboxFilter(django_filters.BooleanFilter):
    """``?stablecoin=true`` (a ticked box); anything else means "do not filter"."""

    field_class = forms.NullBooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.CheckboxInput(check_test=lambda v: str(v).lower() in {"true", "1", "on"}))
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        return super().filter(qs, True) if value else qs


class PoolFilter(django_filters.FilterSet):
    chain = django_filters.ModelChoiceFilter(
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
        help_text="A token in the pool, e.g. USDC (exact symbol)",
    )
    ordering = django_filters.ChoiceFilter(
        choices=ORDERING_CHOICES, method="filter_ordering", label="Sort by", empty_label=None, null_label=None
    )

    class Meta:
        model = Pool
        fields: list[str] = []

    def filter_no_il_risk(self, qs, name, value):
        return qs.filter(il_risk=False) if value else qs

    def filter_single(self, qs, name, value):
        return qs.filter(exposure=Pool.Exposure.SINGLE) if value else qs

    def filter_token(self, qs, name, value):
        token = value.strip().upper().replace("-", "")
        # tokens_key is "-WETH-USDC-": an exact token match, not a substring of another symbol
        return qs.filter(tokens_key__contains=f"-{token}-") if token else qs

    def filter_ordering(self, qs, name, value):
        return qs  # applied last, in .qs, so every request is ordered

    @property
    def qs(self):
        qs = super().qs
        ordering = DEFAULT_ORDERING
        if self.is_bound and self.form.is_valid():
            ordering = self.form.cleaned_data.get("ordering") or DEFAULT_ORDERING
        return pool_order(qs, ordering)


class TokenFilter(django_filters.FilterSet):
    symbol = django_filters.CharFilter(method="filter_symbol", help_text="Exact symbol, any case (e.g. usdc).")
    chain = django_filters.CharFilter(field_name="chain__slug", help_text="Chain slug (e.g. ethereum).")
    address = django_filters.CharFilter(method="filter_address", help_text="Token address (any case for EVM).")

    class Meta:
        model = Token
        fields = ["symbol", "chain", "address"]

    def filter_symbol(self, qs, name, value):
        return qs.annotate(symbol_lower=Lower("symbol")).filter(symbol_lower=value.strip().lower())

    def filter_address(self, qs, name, value):
        return qs.filter(address=normalize_address(value))
