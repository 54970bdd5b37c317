"""One FilterSet for the pool explorer page and the ``/api/v1/pools/`` list."""

from __future__ import annotations

import django_filters
from django import forms

from pools.models import Chain, Pool, Protocol
from pools.selectors import DEFAULT_ORDERING, ORDERING_LABELS, ORDERINGS, pool_order

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
    chain = django_filters.ModelChoiceFilter(queryset=Chain.objects.order_by("name"), to_field_name="slug",
                                             field_name="chain", empty_label="All chains",
                                             help_text="Chain slug, e.g. ethereum")
    protocol = django_filters.ModelChoiceFilter(queryset=Protocol.objects.order_by("name"), to_field_name="slug",
                                                field_name="protocol", empty_label="All protocols",
                                                help_text="Protocol slug, e.g. uniswap-v3")
    kind = django_filters.ChoiceFilter(choices=Pool.Kind.choices, empty_label="All kinds", label="Pool kind")
    stablecoin = CheckboxFilter(field_name="stablecoin", label="Stablecoins only")
    no_il_risk = CheckboxFilter(method="filter_no_il_risk", label="No impermanent-loss risk")
    single_exposure = CheckboxFilter(method="filter_single", label="Single asset")
    min_tvl = django_filters.NumberFilter(field_name="tvl_usd", lookup_expr="gte", label="Min TVL (USD)",
                                          min_value=0)
    apy_min = django_filters.NumberFilter(field_name="apy", lookup_expr="gte", label="APY from (%)")
    apy_max = django_filters.NumberFilter(field_name="apy", lookup_expr="lte", label="APY to (%)")
    token = django_filters.CharFilter(method="filter_token", label="Token symbol", max_length=40,
                                      help_text="A token in the pool, e.g. USDC (exact symbol)")
    ordering = django_filters.ChoiceFilter(choices=ORDERING_CHOICES, method="filter_ordering", label="Sort by",
                                           empty_label=None, null_label=None)

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
