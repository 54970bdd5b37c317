"""GET forms of the Learn calculators.

Parsing, caps and messages come from :mod:`pools.calculators.inputs`, so a page and the
API reject the same inputs with the same words. Numbers are text inputs with
``inputmode="decimal"`` rather than ``type=number``: the browser then never blocks a submission
on its own rules (``step``, locale), and the server's message appears next to the field.
Rates on the pages are percents (people type 12 for 12 %); the API takes fractions.
"""

from decimal import Decimal

from django import forms

from pools.calculators import inputs
from pools.calculators.inputs import InvalidParameter, InvalidParameters

MODEL_CHOICES = [
    ("constant_product", "Constant product (Uniswap v2, 50/50)"),
    ("weighted", "Weighted (Balancer, e.g. 80/20)"),
    ("concentrated", "Concentrated range (Uniswap v3)"),
    ("stableswap", "StableSwap (Curve)"),
]

COMPOUNDING_CHOICES = [
    ("1", "Yearly (1× a year)"),
    ("12", "Monthly (12×)"),
    ("52", "Weekly (52×)"),
    ("365", "Daily (365×)"),
    ("8760", "Hourly (8,760×)"),
    ("continuous", "Continuously"),
]

PERCENT = Decimal(100)


def _text_input(placeholder: str = "") -> forms.TextInput:
    attrs = {"inputmode": "decimal", "autocomplete": "off", "spellcheck": "false"}
    if placeholder:
        attrs["placeholder"] = placeholder
    return forms.TextInput(attrs=attrs)


class BoundedDecimalField(forms.CharField):
    """A number parsed and capped by :func:`inputs.parse_decimal` (``limit`` names the bounds)."""

    def __init__(self, *, limit: str, scale: Decimal = Decimal(1), unit: str = "", **kwargs):
        self.limit = limit
        self.scale = scale
        self.unit = unit
        kwargs.setdefault("widget", _text_input())
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return None
        try:
            return inputs.parse_decimal(value, self.limit, scale=self.scale, unit=self.unit)
        except InvalidParameter as exc:
            raise forms.ValidationError(exc.message, code="invalid") from None


class CalculatorForm(forms.Form):
    """Base: ``DEFAULTS`` is the worked example a page shows before anyone submits."""

    DEFAULTS: dict[str, str] = {}

    @classmethod
    def for_request(cls, query) -> "CalculatorForm":
        """Bound to the query string, or to ``DEFAULTS`` when it carries none of our fields."""
        if any(name in query for name in cls.base_fields):
            return cls(query)
        return cls(cls.DEFAULTS)

    def add_library_error(self, exc: InvalidParameter) -> None:
        """Show a :mod:`pools.amm` error next to the field it names (or above the form)."""
        field = exc.field if exc.field in self.fields else None
        self.add_error(field, inputs.sentence(exc.message))


class PoolModelForm(CalculatorForm):
    """The pool model and its parameters; only the chosen model's parameters are read."""

    model = forms.ChoiceField(label="Pool type", choices=MODEL_CHOICES, initial="constant_product")
    weights = forms.CharField(
        label="Weights",
        required=False,
        widget=_text_input("0.8,0.2"),
        help_text="Weighted pools only. Fractions summing to 1, first token first, e.g. 0.8,0.2 for an 80/20 pool.",
    )
    lower = forms.CharField(
        label="Lower bound",
        required=False,
        widget=_text_input("0.5"),
        help_text="Concentrated ranges only. As a multiple of the entry price: 0.8 means 20 % below it.",
    )
    upper = forms.CharField(
        label="Upper bound",
        required=False,
        widget=_text_input("2"),
        help_text="Concentrated ranges only. As a multiple of the entry price: 1.25 means 25 % above it.",
    )
    amplification = forms.CharField(
        label="Amplification (A)",
        required=False,
        widget=_text_input("100"),
        help_text="StableSwap only. The whitepaper A (a Curve contract's A() divided by n^(n-1)); "
        "higher A means flatter prices near the peg.",
    )
    n_coins = forms.CharField(
        label="Number of coins",
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "placeholder": "2"}),
        help_text="StableSwap only. 2 to 8 coins (default 2); the first coin is the one whose price moves.",
    )

    def clean(self):
        cleaned = super().clean()
        model = cleaned.get("model")
        if not model:
            return cleaned
        try:
            cleaned["pool"] = inputs.parse_pool_params(model, cleaned)
        except InvalidParameters as exc:
            for field, message in exc.errors.items():
                self.add_error(field, message)
        return cleaned


class ImpermanentLossForm(PoolModelForm):
    DEFAULTS = {
        "model": "constant_product",
        "price_ratio": "2",
        "weights": "0.8,0.2",
        "lower": "0.5",
        "upper": "2",
        "amplification": "100",
        "n_coins": "2",
    }

    price_ratio = BoundedDecimalField(
        limit="price_ratio",
        label="Price change (new price ÷ entry price)",
        help_text="Price of the first token in the second, now divided by when you deposited: "
        "2 means it doubled, 0.5 means it halved.",
    )


class BreakEvenForm(ImpermanentLossForm):
    DEFAULTS = {**ImpermanentLossForm.DEFAULTS, "days": "30", "compounds_per_year": "365"}

    days = BoundedDecimalField(
        limit="days",
        label="Over how many days",
        help_text="How long the price move takes (or how long you stay in the pool). 0.01 to 3,650 days.",
    )
    compounds_per_year = forms.ChoiceField(
        label="Fees reinvested",
        choices=COMPOUNDING_CHOICES,
        initial="365",
        required=False,  # a shared link without it means daily
        help_text="For the compounded figure; the simple figure assumes fees are not reinvested.",
    )

    def clean_compounds_per_year(self):
        try:
            return inputs.parse_compounding(self.cleaned_data["compounds_per_year"])
        except InvalidParameter as exc:
            raise forms.ValidationError(exc.message) from None


class ApyForm(CalculatorForm):
    DEFAULTS = {"direction": "apr_to_apy", "rate": "10", "compounds_per_year": "365"}

    direction = forms.ChoiceField(
        label="Convert",
        choices=[("apr_to_apy", "APR → APY"), ("apy_to_apr", "APY → APR")],
        initial="apr_to_apy",
        widget=forms.RadioSelect,
    )
    rate = forms.CharField(
        label="Rate (%)",
        widget=_text_input("10"),
        help_text="In percent per year: 10 means 10 %. Between -100 % and 100,000 % (APR) or 10⁹ % (APY).",
    )
    compounds_per_year = forms.ChoiceField(
        label="Compounding",
        choices=COMPOUNDING_CHOICES,
        initial="365",
        required=False,  # a shared link without it means daily
        help_text="How often the earnings are added to the balance and start earning too.",
    )

    def clean_compounds_per_year(self):
        try:
            return inputs.parse_compounding(self.cleaned_data["compounds_per_year"])
        except InvalidParameter as exc:
            raise forms.ValidationError(exc.message) from None

    def clean(self):
        cleaned = super().clean()
        direction, raw = cleaned.get("direction"), cleaned.get("rate")
        if direction and raw:
            limit = "apr" if direction == "apr_to_apy" else "apy"
            try:
                cleaned["rate_fraction"] = inputs.parse_decimal(
                    raw, "rate", inputs.LIMITS[limit], scale=PERCENT, unit=" %"
                )
            except InvalidParameter as exc:
                self.add_error("rate", exc.message)
        return cleaned
