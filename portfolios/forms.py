"""Forms of the portfolio pages.

Forms check what a form can know (shape, signs, dates, which token a symbol
means) and turn the input into service arguments; the services decide the
rest (e.g. a withdrawal larger than the position) and their errors are put
back on the form by :func:`apply_service_error`, so a rejected submission
comes back filled in with the message next to the field it is about.

Leg rows (token + amount + optional USD value) are plain formsets without
JavaScript: a few blank rows are offered and blank rows are ignored.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.utils import timezone

from portfolios.ledger import INCOME_TYPE_CHOICES, TX_KIND_CHOICES, IncomeType, TxKind, is_fiat, is_lp_asset
from portfolios.models import Position
from portfolios.selectors import token_for_symbol
from portfolios.services.errors import MissingPrice, PortfolioError

# FUTURE_TOLERANCE: a clock a little ahead of the server's is not "the future" (same rule as the services).
from portfolios.services.legs import FUTURE_TOLERANCE, LegInput

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"

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
DEFAULT_INCOME_TYPE = {
    Position.Kind.LP: IncomeType.LIQUIDITY_MINING,
    Position.Kind.CONCENTRATED_LP: IncomeType.LIQUIDITY_MINING,
    Position.Kind.FARM: IncomeType.LIQUIDITY_MINING,
    Position.Kind.STAKING: IncomeType.STAKING,
    Position.Kind.LIQUID_STAKING: IncomeType.STAKING,
    Position.Kind.LENDING: IncomeType.INTEREST,
}


def now_minute():
    return timezone.localtime().replace(second=0, microsecond=0)


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_FORMAT)


class PastDateTimeField(forms.DateTimeField):
    """A moment that already happened, entered in the user's time zone."""

    widget = DateTimeLocalInput

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", [DATETIME_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"])
        super().__init__(**kwargs)

    def clean(self, value):
        moment = super().clean(value)
        if moment is not None and moment > timezone.now() + FUTURE_TOLERANCE:
            raise ValidationError(
                "%(when)s is in the future: enter when it happened.",
                code="future",
                params={"when": timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")},
            )
        return moment


def _amount_field(label: str, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(label=label, required=False, max_digits=48, decimal_places=18, help_text=help_text,
                              widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))


def _usd_field(label: str = "Value in USD then", help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(label=label, required=False, max_digits=38, decimal_places=18, help_text=help_text,
                              widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))


def resolve_token(symbol: str, *, chain_slug: str | None = None):
    """The listed token a symbol means (on the chain when given), or a ValidationError
    that says so. The lookup is the shared selector (also used by the CSV import)."""
    symbol = symbol.strip()
    token = token_for_symbol(symbol=symbol, chain=chain_slug)
    if token is None:
        raise ValidationError(
            "Unknown token “%(symbol)s”: we list no token with this symbol. Check the spelling "
            "(the token's symbol, e.g. ETH or USDC).",
            code="unknown_token", params={"symbol": symbol.upper()},
        )
    return token


# ----------------------------------------------------------------------------- legs


def clean_fiat_value(value: Decimal | None) -> Decimal | None:
    """An optional USD value entered beside an amount: absolute, so never negative."""
    if value is not None and value < 0:
        raise ValidationError("A value in USD is an absolute amount: it cannot be negative.", code="negative")
    return value


class TokenAmountForm(forms.Form):
    """One deposit/withdrawal row: a token, a positive amount, optionally its USD value.

    ``token_choices`` (``[(token_id, "ETH"), ...]``) turns the token into a select
    limited to the pool's / position's tokens; without it the token is typed as a
    symbol and looked up (``chain`` narrows the lookup)."""

    token = forms.CharField(label="Token", required=False, max_length=64)
    quantity = _amount_field("Amount")
    fiat_value = _usd_field(help_text="Leave blank to use that day's price.")

    def __init__(self, *args, token_choices=None, chain_slug=None, tokens_by_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.chain_slug = chain_slug
        self.tokens_by_id = tokens_by_id or {}
        if token_choices is not None:
            self.fields["token"] = forms.TypedChoiceField(
                label="Token", required=False, coerce=int, empty_value=None,
                choices=[("", "—")] + [(str(pk), label) for pk, label in token_choices])
        self.has_choices = token_choices is not None
        # True until clean() sees content: an unchanged extra row is never cleaned.
        self.is_blank = True

    def clean_quantity(self):
        quantity = self.cleaned_data.get("quantity")
        if quantity is None:
            return None
        if quantity < 0:
            raise ValidationError("Enter the amount as a positive number (%(q)s is negative).", code="negative",
                                  params={"q": quantity})
        if quantity == 0:
            raise ValidationError("The amount cannot be zero.", code="zero")
        return quantity

    def clean_fiat_value(self):
        return clean_fiat_value(self.cleaned_data.get("fiat_value"))

    def clean(self):
        data = super().clean()
        token, quantity = data.get("token"), data.get("quantity")
        # A pre-filled token row left without an amount is a token not deposited.
        if (self.has_choices or not token) and quantity is None and data.get("fiat_value") is None \
                and not self.errors:
            return data
        self.is_blank = False
        if not token and "token" not in self.errors:
            self.add_error("token", "Choose the token.")
        if quantity is None and "quantity" not in self.errors:
            self.add_error("quantity", "Enter the amount.")
        if token and "token" not in self.errors:
            if isinstance(token, int):
                data["token_obj"] = self.tokens_by_id[token]
            else:
                try:
                    data["token_obj"] = resolve_token(token, chain_slug=self.chain_slug)
                except ValidationError as exc:
                    self.add_error("token", exc)
        return data

    def leg_input(self) -> LegInput:
        return LegInput(token=self.cleaned_data["token_obj"], quantity=self.cleaned_data["quantity"],
                        fiat_value=self.cleaned_data.get("fiat_value"))


class BaseTokenAmountFormSet(forms.BaseFormSet):
    """Rows of :class:`TokenAmountForm`; blank rows are skipped, at least one is needed."""

    verb = "deposited"

    def clean(self):
        if any(self.errors):
            return
        if not [f for f in self.forms if not getattr(f, "is_blank", True)]:
            raise ValidationError(f"Enter at least one token and the amount {self.verb}.", code="empty")

    def leg_inputs(self) -> list[LegInput]:
        return [f.leg_input() for f in self.forms if not f.is_blank]


def token_amount_formset(*, data=None, prefix="legs", tokens=None, chain_slug=None, initial=None, extra=1,
                         verb="deposited"):
    """A leg formset: with ``tokens`` (a list of Token) the rows are a select of those."""
    tokens = list(tokens or [])
    kwargs = {"chain_slug": chain_slug}
    if tokens:
        kwargs["token_choices"] = [(t.pk, t.symbol or t.address[:10]) for t in tokens]
        kwargs["tokens_by_id"] = {t.pk: t for t in tokens}
    if initial is None:
        initial = [{"token": t.pk} for t in tokens] if tokens else []
    cls = formset_factory(TokenAmountForm, formset=BaseTokenAmountFormSet, extra=extra, max_num=12,
                          validate_max=True, absolute_max=20)
    formset = cls(data=data, prefix=prefix, initial=initial, form_kwargs=kwargs)
    formset.verb = verb
    return formset


# ----------------------------------------------------------------------------- portfolios


class PortfolioForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100,
                           help_text="E.g. “Main wallet” or “Ledger”. Each of your portfolios has its own name.")

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Give the portfolio a name.", code="blank")
        return name


class ConfirmDeleteForm(forms.Form):
    confirm = forms.BooleanField(label="Yes, delete it and everything in it", required=True,
                                 error_messages={"required": "Tick the box to confirm: this cannot be undone."})


# ----------------------------------------------------------------------------- positions


class PositionOpenForm(forms.Form):
    """Open a position: on a pool (``pool`` set, from the pool page) or by hand
    (a custom label, tokens typed as symbols). A user without a portfolio names
    a new one here."""

    portfolio = forms.TypedChoiceField(label="Portfolio", coerce=int, required=False)
    new_portfolio_name = forms.CharField(label="New portfolio name", max_length=100, required=False,
                                         initial="My portfolio",
                                         help_text="You have no portfolio yet: this one is created with the position.")
    pool = forms.IntegerField(required=False, widget=forms.HiddenInput)
    label = forms.CharField(label="Label", max_length=200, required=False,
                            help_text="Your name for the position. Required when it is not on a listed pool.")
    kind = forms.ChoiceField(label="Kind", choices=Position.Kind.choices)
    opened_at = PastDateTimeField(label="Opened at", help_text="When you deposited, in your time zone.")
    chain = forms.ChoiceField(label="Chain", required=False,
                              help_text="Where the tokens are; narrows the token lookup.")
    range_lower = forms.DecimalField(label="Range lower price", required=False, max_digits=38, decimal_places=18,
                                     widget=forms.NumberInput(attrs={"step": "any"}))
    range_upper = forms.DecimalField(label="Range upper price", required=False, max_digits=38, decimal_places=18,
                                     widget=forms.NumberInput(attrs={"step": "any"}))
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
            self.add_error("range_lower", "Only concentrated-liquidity positions have a price range: clear the "
                                          "range or choose “Concentrated liquidity (range)”.")
        if self.portfolios and data.get("portfolio") is not None:
            data["portfolio_obj"] = self.portfolios.get(data["portfolio"])
        return data


class PositionMoveForm(forms.Form):
    """The date of an add/remove liquidity, stake or unstake (the tokens are a formset)."""

    occurred_at = PastDateTimeField(label="Date", help_text="When it happened, in your time zone.")


class PositionWithdrawForm(PositionMoveForm):
    close = forms.BooleanField(label="Close the position after this", required=False,
                               help_text="A withdrawal of (nearly) everything closes it anyway.")


class ClaimRewardsForm(forms.Form):
    token = forms.CharField(label="Reward token", max_length=64)
    quantity = _amount_field("Amount received")
    income_type = forms.ChoiceField(label="Income type", choices=INCOME_TYPE_CHOICES)
    occurred_at = PastDateTimeField(label="Claimed at", help_text="When you received it, in your time zone.")
    fiat_value = _usd_field(help_text="Its value when received (your income); leave blank to use that day's price.")

    def __init__(self, *args, token_choices=None, tokens_by_id=None, chain_slug=None, datalist_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.chain_slug = chain_slug
        self.tokens_by_id = tokens_by_id or {}
        if datalist_id:
            self.fields["token"].widget.attrs["list"] = datalist_id
        if token_choices:
            self.fields["token"] = forms.TypedChoiceField(label="Reward token", coerce=int,
                                                          choices=[(str(pk), s) for pk, s in token_choices])

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
    closed_at = PastDateTimeField(label="Closed at",
                                  help_text="Closing keeps the history; withdraw first if tokens are still in it.")

    def __init__(self, *args, opened_at=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.opened_at = opened_at

    def clean_closed_at(self):
        closed_at = self.cleaned_data["closed_at"]
        if self.opened_at and closed_at < self.opened_at:
            raise ValidationError("A position cannot close before it opened (%(opened)s).", code="before_open",
                                  params={"opened": timezone.localtime(self.opened_at).strftime("%Y-%m-%d %H:%M")})
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
                label=f"{token.symbol} now", required=False, max_digits=48, decimal_places=18,
                initial=current.get(token.pk),
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
                help_text="Leave blank to keep the model's estimate for this token.")

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


# ----------------------------------------------------------------------------- transactions


class TransactionForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=TX_KIND_CHOICES)
    income_type = forms.ChoiceField(label="Income type", required=False,
                                    choices=[("", "— (not a reward)"), *INCOME_TYPE_CHOICES],
                                    help_text="Rewards only: what kind of income it is.")
    occurred_at = PastDateTimeField(label="Date", help_text="When it happened, in your time zone.")
    position = forms.TypedChoiceField(label="Position", required=False, coerce=int, empty_value=None,
                                      help_text="Optional: the position this belongs to.")
    description = forms.CharField(label="Description", max_length=500, required=False)

    def __init__(self, *args, positions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.positions = {p.pk: p for p in positions}
        self.fields["position"].choices = [("", "— none —")] + [(str(p.pk), str(p)) for p in positions]

    def clean(self):
        data = super().clean()
        kind, income_type = data.get("kind"), data.get("income_type")
        if kind == TxKind.REWARD and not income_type:
            self.add_error("income_type", "A reward needs an income type (staking, LP fees, interest…).")
        elif kind and kind != TxKind.REWARD and income_type:
            self.add_error("income_type", "Only rewards have an income type: clear it or choose Reward.")
        data["position_obj"] = self.positions.get(data.get("position")) if data.get("position") else None
        return data


class LegForm(forms.Form):
    """One leg of a generic transaction: signed quantity (+ received, − sent)."""

    asset = forms.CharField(label="Token", required=False, max_length=64)
    quantity = _amount_field("Quantity (+ in, − out)")
    fiat_value = _usd_field()
    is_fee = forms.BooleanField(label="Fee", required=False)

    def __init__(self, *args, chain_slug=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.chain_slug = chain_slug
        self.is_blank = True  # until clean() sees content

    def clean_fiat_value(self):
        return clean_fiat_value(self.cleaned_data.get("fiat_value"))

    def clean(self):
        data = super().clean()
        if data.get("DELETE"):
            return data
        asset, quantity = (data.get("asset") or "").strip().upper(), data.get("quantity")
        if not asset and quantity is None and data.get("fiat_value") is None and not self.errors:
            return data
        self.is_blank = False
        if not asset and "asset" not in self.errors:
            self.add_error("asset", "Enter the token's symbol.")
        if quantity is None and "quantity" not in self.errors:
            self.add_error("quantity", "Enter the quantity (+ received, − sent).")
        elif quantity == 0:
            self.add_error("quantity", "The quantity cannot be zero.")
        elif data.get("is_fee") and quantity > 0:
            self.add_error("quantity", "A fee is an amount paid: enter it as a negative quantity.")
        data["asset"] = asset
        data["token_obj"] = None
        # Fiat and a position's receipt units (LP#<id>) are not listed tokens.
        if asset and not is_fiat(asset) and not is_lp_asset(asset) and "asset" not in self.errors:
            try:
                data["token_obj"] = resolve_token(asset, chain_slug=self.chain_slug)
            except ValidationError as exc:
                self.add_error("asset", exc)
        return data

    def leg_input(self) -> LegInput:
        d = self.cleaned_data
        token = d.get("token_obj")
        return LegInput(token=token, asset="" if token is not None else d["asset"], quantity=d["quantity"],
                        fiat_value=d.get("fiat_value"), is_fee=bool(d.get("is_fee")))


class BaseLegFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        if not self.leg_inputs():
            raise ValidationError("A transaction needs at least one leg (a token and a quantity).", code="empty")

    def leg_inputs(self) -> list[LegInput]:
        return [f.leg_input() for f in self.forms
                if not f.is_blank and not (self.can_delete and self._should_delete_form(f))]


def leg_formset(*, data=None, initial=None, extra=3, can_delete=False):
    cls = formset_factory(LegForm, formset=BaseLegFormSet, extra=extra, can_delete=can_delete, max_num=30,
                          validate_max=True, absolute_max=40)
    return cls(data=data, initial=initial, prefix="legs")


# ----------------------------------------------------------------------------- CSV


class ImportUploadForm(forms.Form):
    MAX_BYTES = 5 * 1024 * 1024

    file = forms.FileField(label="CSV file", help_text="UTF-8 CSV, up to 5 MB.")
    format = forms.ChoiceField(label="Format", choices=[("native", "Yieldledger (one row per leg)"),
                                                        ("koinly", "Koinly universal")],
                               widget=forms.RadioSelect, initial="native")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise ValidationError("The file is larger than 5 MB: split it and import the parts.", code="too_big")
        raw = upload.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError("The file is not UTF-8 text: export it as CSV (UTF-8).", code="encoding") from None
        if not text.strip():
            raise ValidationError("The file is empty.", code="empty")
        return text


# ----------------------------------------------------------------------------- service errors


def _token_label(token) -> str:
    return getattr(token, "symbol", None) or str(token)


def missing_price_message(exc: MissingPrice) -> str:
    return f"No price for {_token_label(exc.token)} on {exc.when:%Y-%m-%d}: enter the value in USD"


def apply_service_error(exc: Exception, form: forms.Form, formset: forms.BaseFormSet | None = None,
                        *, leg_field: str = "fiat_value") -> None:
    """Put a service's error back on the form: a ``MissingPrice`` on the leg row of
    that token (its USD value field), a ``ValidationError`` on the named fields it
    carries (the rest, and any other ``PortfolioError``, above the form)."""
    if isinstance(exc, MissingPrice):
        message = missing_price_message(exc)
        if formset is not None:
            for row in formset.forms:
                if getattr(row, "is_blank", True) or not hasattr(row, "cleaned_data"):
                    continue
                token = row.cleaned_data.get("token_obj")
                if token is not None and (token == exc.token or _token_label(token) == _token_label(exc.token)):
                    row.add_error(leg_field, message)
                    return
        if leg_field in form.fields:
            form.add_error(leg_field, message)
        else:
            form.add_error(None, message)
        return
    if isinstance(exc, PortfolioError) and getattr(exc, "field", None) in form.fields:
        form.add_error(exc.field, str(exc))
        return
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                target = field if field in form.fields else None
                for error in errors:
                    form.add_error(target, error)
        else:
            form.add_error(None, exc)
        return
    form.add_error(None, str(exc))
