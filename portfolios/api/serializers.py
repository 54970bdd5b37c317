"""In and out serializers of the portfolios API (separate shapes, no services here).

Decimals are strings in both directions (``"1.5"``): no float ever touches an amount.

Money names its currency by a sibling field, everywhere in the API: a leg's
``fiat_value`` has ``fiat_currency`` beside it (the currency it was entered in,
kept as entered); an object of figures (a summary, an analysis, a tax report)
has one ``currency`` field that all its money fields are in.
"""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from accounts.models import Currency
from config.api.fields import StrictBooleanField, StrictCharField
from config.formatting import plain_number
from pools.models import Pool, Token
from portfolios.api.fields import MomentField
from portfolios.ledger import INCOME_TYPE_CHOICES, TX_CATEGORY_CHOICES, TX_KIND_CHOICES
from portfolios.models import FIAT, QTY, Leg, Portfolio, PortfolioSnapshot, Position, Transaction
from portfolios.selectors.loader import VALUATION_CURRENCY
from portfolios.selectors.tokens import price_is_stale


class DecimalOut(serializers.Field):
    """A Decimal as a plain string without trailing zeros (``None`` stays null). Its schema
    (string, decimal, nullable unless its column is NOT NULL) is in config/api/extensions.py."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: object) -> str | None:
        return None if value is None else plain_number(Decimal(str(value)))


class ValuationCurrencyMixin(serializers.Serializer):
    """``currency``: the currency of every money field of the object (the analytics value in
    USD, the price history's currency; legs entered in other currencies are converted at
    their day's ECB rate)."""

    currency = serializers.SerializerMethodField(
        help_text="ISO 4217 currency of every money field of this object (USD: the price history's currency).")

    def get_currency(self, obj: object) -> str:
        return VALUATION_CURRENCY


# --------------------------------------------------------------------------- in


class PortfolioIn(serializers.Serializer):
    name = StrictCharField(max_length=100)


class LegIn(serializers.Serializer):
    token = serializers.PrimaryKeyRelatedField(
        queryset=Token.objects.all(),
        required=False,
        allow_null=True,
        help_text="A token id (GET /api/v1/tokens/). Or give `asset`.",
    )
    asset = StrictCharField(
        max_length=80,
        required=False,
        allow_blank=True,
        help_text="Symbol for fiat (USD) or a token by symbol; default: the token's.",
    )
    quantity = serializers.DecimalField(**QTY)
    fiat_value = serializers.DecimalField(
        **FIAT,
        required=False,
        allow_null=True,
        min_value=Decimal(0),
        help_text="Absolute value at that moment, in `fiat_currency`; omit to look it up (in USD).",
    )
    fiat_currency = serializers.ChoiceField(
        choices=Currency.choices, required=False, allow_blank=True,
        help_text="Currency of `fiat_value` (ISO 4217); default: your currency (GET /api/v1/me/).",
    )
    is_fee = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        if attrs.get("token") is None and not (attrs.get("asset") or "").strip():
            raise serializers.ValidationError("Give a token or an asset symbol.")
        return attrs


class AmountIn(serializers.Serializer):
    """A positive amount of a token (deposits, withdrawals)."""

    token = serializers.PrimaryKeyRelatedField(queryset=Token.objects.all())
    quantity = serializers.DecimalField(**QTY)
    fiat_value = serializers.DecimalField(**FIAT, required=False, allow_null=True, min_value=Decimal(0))
    fiat_currency = serializers.ChoiceField(
        choices=Currency.choices, required=False, allow_blank=True,
        help_text="Currency of `fiat_value`; default: your currency.",
    )


class PositionIn(serializers.Serializer):
    portfolio = serializers.IntegerField()
    pool = serializers.PrimaryKeyRelatedField(queryset=Pool.objects.all(), required=False, allow_null=True)
    label = StrictCharField(max_length=200, required=False, allow_blank=True, default="")  # type: ignore[assignment]  # DRF moves declared fields off the class; the stubs see Field.label
    kind = serializers.ChoiceField(choices=Position.Kind.choices)
    opened_at = MomentField()
    deposits = AmountIn(many=True, allow_empty=False)
    range_lower = serializers.DecimalField(max_digits=38, decimal_places=18, required=False, allow_null=True)
    range_upper = serializers.DecimalField(max_digits=38, decimal_places=18, required=False, allow_null=True)
    notes = StrictCharField(required=False, allow_blank=True, default="")


class PositionUpdateIn(serializers.Serializer):
    label = StrictCharField(max_length=200, required=False, allow_blank=True)  # type: ignore[assignment]  # as above
    notes = StrictCharField(required=False, allow_blank=True)
    range_lower = serializers.DecimalField(max_digits=38, decimal_places=18, required=False, allow_null=True)
    range_upper = serializers.DecimalField(max_digits=38, decimal_places=18, required=False, allow_null=True)
    pool = serializers.PrimaryKeyRelatedField(queryset=Pool.objects.all(), required=False, allow_null=True)


class DepositIn(serializers.Serializer):
    occurred_at = MomentField()
    amounts = AmountIn(many=True, allow_empty=False)


class WithdrawIn(DepositIn):
    close = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="true: everything is withdrawn; default: decided from the amounts.",
    )
    fraction = serializers.DecimalField(
        max_digits=20,
        decimal_places=18,
        required=False,
        allow_null=True,
        help_text="Share of the position withdrawn (0-1); default: from the amounts.",
    )


class ClaimIn(serializers.Serializer):
    token = serializers.PrimaryKeyRelatedField(queryset=Token.objects.all())
    quantity = serializers.DecimalField(**QTY)
    income_type = serializers.ChoiceField(choices=INCOME_TYPE_CHOICES)
    occurred_at = MomentField()
    fiat_value = serializers.DecimalField(**FIAT, required=False, allow_null=True, min_value=Decimal(0))


class CloseIn(serializers.Serializer):
    closed_at = MomentField()


class OverrideAmountIn(serializers.Serializer):
    token = serializers.PrimaryKeyRelatedField(queryset=Token.objects.all())
    quantity = serializers.DecimalField(**QTY, min_value=Decimal(0))


class OverrideIn(serializers.Serializer):
    amounts = OverrideAmountIn(many=True, help_text="Your current amounts; an empty list removes the override.")


CATEGORY_HELP = (
    "Transfers only (transfer_out, transfer_in): gift or gift_spouse (a gift between spouses or civil "
    "partners); blank: a move between your own wallets. The tax report treats gifts by its jurisdiction's rules."
)
HIDDEN_HELP = (
    "A hidden transaction is kept but counts nowhere (holdings, values, income, tax); lists leave it out "
    "unless ?hidden=true. A transaction of a position cannot be hidden."
)


class TransactionIn(serializers.Serializer):
    portfolio = serializers.IntegerField()
    position = serializers.IntegerField(required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=TX_KIND_CHOICES)
    income_type = serializers.ChoiceField(
        choices=INCOME_TYPE_CHOICES, required=False, allow_null=True, allow_blank=True
    )
    occurred_at = MomentField()
    description = StrictCharField(max_length=500, required=False, allow_blank=True, default="")
    legs = LegIn(many=True, allow_empty=False)
    category = serializers.ChoiceField(
        choices=TX_CATEGORY_CHOICES, required=False, allow_blank=True, default="", help_text=CATEGORY_HELP
    )
    hidden = StrictBooleanField(required=False, default=False, help_text=HIDDEN_HELP)


class TransactionUpdateIn(serializers.Serializer):
    position = serializers.IntegerField(required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=TX_KIND_CHOICES, required=False)
    income_type = serializers.ChoiceField(
        choices=INCOME_TYPE_CHOICES, required=False, allow_null=True, allow_blank=True
    )
    occurred_at = MomentField(required=False)
    description = StrictCharField(max_length=500, required=False, allow_blank=True)
    legs = LegIn(many=True, allow_empty=False, required=False)
    category = serializers.ChoiceField(
        choices=TX_CATEGORY_CHOICES, required=False, allow_blank=True, help_text=CATEGORY_HELP
    )
    hidden = StrictBooleanField(required=False, help_text=HIDDEN_HELP)


class TransactionFilterIn(serializers.Serializer):
    portfolio = serializers.IntegerField(required=False)
    position = serializers.IntegerField(required=False)
    kind = serializers.ChoiceField(choices=TX_KIND_CHOICES, required=False)


class PositionFilterIn(serializers.Serializer):
    portfolio = serializers.IntegerField(required=False)


class ImportIn(serializers.Serializer):
    file = serializers.FileField()
    format = serializers.ChoiceField(choices=["native", "koinly"], default="native")
    commit = serializers.BooleanField(default=False)


# --------------------------------------------------------------------------- out


class PortfolioOut(ValuationCurrencyMixin, serializers.ModelSerializer):
    value = DecimalOut()
    deposited = DecimalOut()
    pnl = DecimalOut()
    income_ytd = DecimalOut()

    class Meta:
        model = Portfolio
        fields = ["id", "name", "created_at", "updated_at", "value", "deposited", "pnl", "income_ytd", "valued_at",
                  "currency"]


class PositionOut(serializers.ModelSerializer):
    name = StrictCharField(source="__str__", read_only=True)
    pool_symbol = StrictCharField(source="pool.symbol", read_only=True, default=None, allow_null=True)
    chain = StrictCharField(source="pool.chain.name", read_only=True, default=None, allow_null=True)
    protocol = StrictCharField(source="pool.protocol.name", read_only=True, default=None, allow_null=True)
    range_lower = DecimalOut()
    range_upper = DecimalOut()

    class Meta:
        model = Position
        fields = [
            "id",
            "portfolio",
            "pool",
            "pool_symbol",
            "chain",
            "protocol",
            "label",
            "name",
            "kind",
            "opened_at",
            "closed_at",
            "range_lower",
            "range_upper",
            "notes",
            "created_at",
            "updated_at",
        ]


class LegOut(serializers.ModelSerializer):
    token_symbol = StrictCharField(source="token.symbol", read_only=True, default=None, allow_null=True)
    quantity = DecimalOut()
    fiat_value = DecimalOut(help_text="Absolute value at that moment, in `fiat_currency` (as entered).")
    fiat_currency = serializers.CharField(read_only=True, help_text="ISO 4217 currency of `fiat_value`.")

    class Meta:
        model = Leg
        fields = ["id", "asset", "token", "token_symbol", "quantity", "fiat_value", "fiat_currency",
                  "value_source", "is_fee"]


class TransactionOut(serializers.ModelSerializer):
    legs = LegOut(many=True, read_only=True)

    class Meta:
        model = Transaction
        fields = [
            "id",
            "portfolio",
            "position",
            "kind",
            "income_type",
            "occurred_at",
            "description",
            "source",
            "external_ref",
            "external_url",
            "category",
            "hidden",
            "created_at",
            "updated_at",
            "legs",
        ]


class SnapshotOut(ValuationCurrencyMixin, serializers.ModelSerializer):
    value = DecimalOut()
    deposited = DecimalOut()
    pnl = DecimalOut()
    income_ytd = DecimalOut()

    class Meta:
        model = PortfolioSnapshot
        fields = ["day", "value", "deposited", "pnl", "income_ytd", "currency"]


class TokenFigureOut(serializers.Serializer):
    asset = StrictCharField()
    deposited = DecimalOut()
    now = DecimalOut()
    price_now = DecimalOut()
    value_now = DecimalOut()
    priced_at = serializers.DateTimeField(allow_null=True, help_text="when price_now was quoted (null: peg or none)")


class UnusedDepositOut(serializers.Serializer):
    asset = StrictCharField()
    quantity = DecimalOut()
    value_at_deposit = DecimalOut()


class PositionAnalyticsOut(ValuationCurrencyMixin, serializers.Serializer):
    position_id = serializers.IntegerField()
    name = StrictCharField()
    kind = StrictCharField()
    model = StrictCharField(help_text="constant_product, concentrated, weighted, stableswap or hold")
    is_open = serializers.BooleanField()
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    as_of = serializers.DateTimeField()
    days_held = DecimalOut()
    tokens = TokenFigureOut(many=True)
    deposited = DecimalOut()
    withdrawn = DecimalOut()
    remaining_cost = DecimalOut()
    value_now = DecimalOut()
    value_model = DecimalOut()
    value_hodl = DecimalOut()
    il = DecimalOut()
    il_pct = DecimalOut()
    fees = DecimalOut()
    fees_realised = DecimalOut()
    fees_estimated = serializers.BooleanField()
    rewards_claimed_at_receipt = DecimalOut()
    rewards_claimed_now = DecimalOut()
    rewards_unclaimed = DecimalOut()
    costs = DecimalOut()
    pnl = DecimalOut()
    pnl_vs_hodl = DecimalOut()
    annualised_return = DecimalOut()
    realised_apy = DecimalOut()
    advertised_apy = DecimalOut()
    overridden = serializers.BooleanField()
    in_range = serializers.BooleanField(allow_null=True)
    range_status = StrictCharField(allow_null=True)
    current_price = DecimalOut()
    distance_to_lower = DecimalOut()
    distance_to_upper = DecimalOut()
    warnings = serializers.ListField(child=StrictCharField())
    chain = StrictCharField()
    protocol = StrictCharField()
    unused = UnusedDepositOut(
        many=True,
        help_text="what a concentrated range did not take at the deposit price "
        "(not counted in deposited, HODL or value)",
    )
    assumed_peg = serializers.ListField(
        child=StrictCharField(), help_text="stablecoins valued at 1.00 USD for want of a recent price"
    )
    prices_as_of = serializers.DateTimeField(allow_null=True, help_text="the oldest price behind value_now")
    prices_stale = serializers.SerializerMethodField(help_text="prices_as_of is older than PRICE_STALE_AFTER_HOURS")
    fees_claimed = DecimalOut()

    def get_prices_stale(self, obj) -> bool:
        return price_is_stale(priced_at=obj.prices_as_of)


class SliceOut(serializers.Serializer):
    key = StrictCharField()
    value = DecimalOut()
    share = DecimalOut()


class HoldingOut(serializers.Serializer):
    asset = StrictCharField()
    quantity = DecimalOut()
    price_now = DecimalOut()
    value_now = DecimalOut()
    priced_at = serializers.DateTimeField(allow_null=True, help_text="when price_now was quoted (null: peg or none)")


class PortfolioSummaryOut(ValuationCurrencyMixin, serializers.Serializer):
    portfolio_id = serializers.IntegerField(allow_null=True)
    name = StrictCharField()
    as_of = serializers.DateTimeField()
    value = DecimalOut()
    deposited = DecimalOut()
    pnl = DecimalOut()
    il = DecimalOut()
    fees = DecimalOut()
    rewards = DecimalOut()
    costs = DecimalOut()
    income_ytd = DecimalOut()
    open_positions = serializers.IntegerField()
    by_chain = SliceOut(many=True)
    by_protocol = SliceOut(many=True)
    by_asset = SliceOut(many=True)
    by_kind = SliceOut(many=True)
    holdings = HoldingOut(many=True)
    positions = PositionAnalyticsOut(many=True)
    warnings = serializers.ListField(child=StrictCharField())
    prices_as_of = serializers.DateTimeField(allow_null=True, help_text="the oldest price behind value")
    prices_stale = serializers.SerializerMethodField(help_text="prices_as_of is older than PRICE_STALE_AFTER_HOURS")

    def get_prices_stale(self, obj) -> bool:
        return price_is_stale(priced_at=obj.prices_as_of)


class ImportErrorOut(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True)
    field = StrictCharField()
    message = StrictCharField()
    ref = StrictCharField()
