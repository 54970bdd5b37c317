"""Forms of positions: open one, its deposits and withdrawals (dates; the tokens are
``legs`` formsets), a reward claim, closing it, the user's own current amounts."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from portfolios.forms.common import PastDateTimeField, amount_field, clean_fiat_value, resolve_token, usd_field
from portfolios.ledger import INCOME_TYPE_CHOICES, IncomeType
from portfolios.models import Position

# Pool kind -> the position kind a deposit into it usually is.
POOL_KIND_TO_POSITION_KIND = {
    "amm": Position.Kind.LP,
    "weighted": Position.Kind.LP,
    "stableswap": Position.Kind.LP,
    "unknown": Position.Kind.LP,
    "concentrated": Position.Kind.CONCENTRATED_LP,
    "lending": Position.Kind.LENDING,
    "staking": Position.Kind.STAKING,
    "liquid_staking": Position.Kind.LIQUID_STAKING,
    "farm": Position.Kind.FARM,
    "vault": Position.Kind.FARM,
}
# Position kind -> the income type its reward claims usually are.
DEFAULT_INCOME_TYPE: dict[str, IncomeType] = {
    Position.Kind.LP: IncomeType.LIQUIDITY_MINING,
    Position.Kind.CONCENTRATED_LP: IncomeType.LIQUIDITY_MINING,
    Position.Kind.FARM: IncomeType.LIQUIDITY_MINING,
    Position.Kind.STAKING: IncomeType.STAKING,
    Position.Kind.LIQUID_STAKING: IncomeType.STAKING,
    Position.Kind.LENDING: IncomeType.INTEREST,
}


class PositionOpenForm(forms.Form):
    """Open a position: on a pool (``pool`` set, from the pool page) or by hand
    (a custom label, tokens typed as symbols). A user without a portfolio names
    a new one here."""

    portfolio = forms.TypedChoiceField(label="Portfolio", coerce=int, required=False)
    new_portfolio_name = forms.CharField(
        label="New portfolio name",
        max_length=100,
        required=False,
        initial="My portfolio",
        help_text="You have no portfolio yet: this one is created with the position.",
    )
    pool = forms.IntegerField(required=False, widget=forms.HiddenInput)
    label = forms.CharField(
        label="Label",
        max_length=200,
        required=False,
        help_text="Your name for the position. Required when it is not on a listed pool.",
    )
    kind = forms.ChoiceField(label="Kind", choices=Position.Kind.choices)
    opened_at = PastDateTimeField(label="Opened at", help_text="When you deposited, in your time zone.")
    chain = forms.ChoiceField(
        label="Chain", required=False, help_text="Where the tokens are; narrows the token lookup."
    )
    range_lower = forms.DecimalField(
        label="Range lower price",
        required=False,
        max_digits=38,
        decimal_places=18,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    range_upper = forms.DecimalField(
        label="Range upper price",
        required=False,
        max_digits=38,
        decimal_places=18,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, portfolios=(), pool=None, chains=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.pool_obj = pool
        self.portfolios = {p.pk: p for p in portfolios}
        if self.portfolios:
            self.fields["portfolio"].choices = [(str(p.pk), p.name) for p in portfolios]
            self.fields["portfolio"].required = True
            del self.fields["new_portfolio_name"]
        else:
            del self.fields["portfolio"]
            self.fields["new_portfolio_name"].required = True
        if pool is not None:
            del self.fields["chain"]
            self.fields["label"].help_text = f"Optional; the position is named after the pool ({pool.symbol})."
        else:
            self.fields["chain"].choices = [("", "Any chain")] + [(c.slug, c.name) for c in chains]

    def clean_label(self):
        return self.cleaned_data["label"].strip()

    def clean(self):
        data = super().clean()
        if self.pool_obj is None and not data.get("label") and "label" not in self.errors:
            self.add_error("label", "Give the position a label (it is not on a listed pool).")
        kind = data.get("kind")
        lower, upper = data.get("range_lower"), data.get("range_upper")
        if kind == Position.Kind.CONCENTRATED_LP:
            if lower is None:
                self.add_error("range_lower", "A concentrated position needs the lower price of its range.")
            if upper is None:
                self.add_error("range_upper", "A concentrated position needs the upper price of its range.")
            if lower is not None and lower <= 0:
                self.add_error("range_lower", "The lower price must be above zero.")
            if lower is not None and upper is not None and upper <= lower:
                self.add_error("range_upper", "The upper price must be above the lower price.")
        elif lower is not None or upper is not None:
            self.add_error(
                "range_lower",
                "Only concentrated-liquidity positions have a price range: clear the "
                "range or choose “Concentrated liquidity (range)”.",
            )
        if self.portfolios and data.get("portfolio") is not None:
            data["portfolio_obj"] = self.portfolios.get(data["portfolio"])
        return data


class PositionMoveForm(forms.Form):
    """The date of an add/remove liquidity, stake or unstake (the tokens are a formset)."""

    occurred_at = PastDateTimeField(label="Date", help_text="When it happened, in your time zone.")


class PositionWithdrawForm(PositionMoveForm):
    close = forms.BooleanField(
        label="Close the position after this",
        required=False,
        help_text="A withdrawal of (nearly) everything closes it anyway.",
    )


class ClaimRewardsForm(forms.Form):
    token = forms.CharField(label="Reward token", max_length=64)
    quantity = amount_field("Amount received")
    income_type = forms.ChoiceField(label="Income type", choices=INCOME_TYPE_CHOICES)
    occurred_at = PastDateTimeField(label="Claimed at", help_text="When you received it, in your time zone.")
    fiat_value = usd_field(help_text="Its value when received (your income); leave blank to use that day's price.")

    def __init__(self, *args, token_choices=None, tokens_by_id=None, chain_slug=None, datalist_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.chain_slug = chain_slug
        self.tokens_by_id = tokens_by_id or {}
        if datalist_id:
            self.fields["token"].widget.attrs["list"] = datalist_id
        if token_choices:
            self.fields["token"] = forms.TypedChoiceField(
                label="Reward token", coerce=int, choices=[(str(pk), s) for pk, s in token_choices]
            )

    def clean_quantity(self):
        quantity = self.cleaned_data.get("quantity")
        if quantity is None:
            raise ValidationError("Enter the amount you received.", code="required")
        if quantity <= 0:
            raise ValidationError("Enter the amount received as a positive number.", code="negative")
        return quantity

    def clean_fiat_value(self):
        return clean_fiat_value(self.cleaned_data.get("fiat_value"))

    def clean_token(self):
        token = self.cleaned_data["token"]
        if isinstance(token, int):
            return self.tokens_by_id[token]
        return resolve_token(token, chain_slug=self.chain_slug)


class PositionCloseForm(forms.Form):
    closed_at = PastDateTimeField(
        label="Closed at", help_text="Closing keeps the history; withdraw first if tokens are still in it."
    )

    def __init__(self, *args, opened_at=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.opened_at = opened_at

    def clean_closed_at(self):
        closed_at = self.cleaned_data["closed_at"]
        if self.opened_at and closed_at < self.opened_at:
            raise ValidationError(
                "A position cannot close before it opened (%(opened)s).",
                code="before_open",
                params={"opened": timezone.localtime(self.opened_at).strftime("%Y-%m-%d %H:%M")},
            )
        return closed_at


class OverrideAmountsForm(forms.Form):
    """The amounts the user's wallet shows now, one field per token of the position."""

    as_of = PastDateTimeField(label="As of", help_text="When you read these amounts.")

    def __init__(self, *args, tokens=(), current=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.tokens = list(tokens)
        current = current or {}
        for token in self.tokens:
            self.fields[f"token_{token.pk}"] = forms.DecimalField(
                label=f"{token.symbol} now",
                required=False,
                max_digits=48,
                decimal_places=18,
                initial=current.get(token.pk),
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
                help_text="Leave blank to keep the model's estimate for this token.",
            )

    def clean(self):
        data = super().clean()
        amounts = {}
        for token in self.tokens:
            name = f"token_{token.pk}"
            value = data.get(name)
            if value is None:
                continue
            if value < 0:
                self.add_error(name, f"An amount cannot be negative ({value} {token.symbol}).")
                continue
            amounts[token] = value
        if not amounts and not self.errors:
            raise ValidationError("Enter the amount of at least one token.", code="empty")
        data["amounts"] = amounts
        return data
