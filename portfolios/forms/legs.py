"""Token rows: the deposit / withdrawal rows of the position forms (a token, a positive
amount, an optional USD value) and the signed legs of a generic transaction. Plain
formsets without JavaScript: a few blank rows are offered and blank rows are ignored."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory

from portfolios.forms.common import amount_field, clean_fiat_value, resolve_token, usd_field
from portfolios.ledger import is_fiat, is_lp_asset
from portfolios.services.legs import LegInput


class TokenAmountForm(forms.Form):
    """One deposit/withdrawal row: a token, a positive amount, optionally its USD value.

    ``token_choices`` (``[(token_id, "ETH"), ...]``) turns the token into a select
    limited to the pool's / position's tokens; without it the token is typed as a
    symbol and looked up (``chain`` narrows the lookup)."""

    token = forms.CharField(label="Token", required=False, max_length=64)
    quantity = amount_field("Amount")
    fiat_value = usd_field(help_text="Leave blank to use that day's price.")

    def __init__(self, *args, token_choices=None, chain_slug=None, tokens_by_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.chain_slug = chain_slug
        self.tokens_by_id = tokens_by_id or {}
        if token_choices is not None:
            self.fields["token"] = forms.TypedChoiceField(
                label="Token",
                required=False,
                coerce=int,
                empty_value=None,
                choices=[("", "—")] + [(str(pk), label) for pk, label in token_choices],
            )
        self.has_choices = token_choices is not None
        # True until clean() sees content: an unchanged extra row is never cleaned.
        self.is_blank = True

    def clean_quantity(self):
        quantity = self.cleaned_data.get("quantity")
        if quantity is None:
            return None
        if quantity < 0:
            raise ValidationError(
                "Enter the amount as a positive number (%(q)s is negative).", code="negative", params={"q": quantity}
            )
        if quantity == 0:
            raise ValidationError("The amount cannot be zero.", code="zero")
        return quantity

    def clean_fiat_value(self):
        return clean_fiat_value(self.cleaned_data.get("fiat_value"))

    def clean(self):
        data = super().clean()
        token, quantity = data.get("token"), data.get("quantity")
        # A pre-filled token row left without an amount is a token not deposited.
        if (self.has_choices or not token) and quantity is None and data.get("fiat_value") is None and not self.errors:
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
        return LegInput(
            token=self.cleaned_data["token_obj"],
            quantity=self.cleaned_data["quantity"],
            fiat_value=self.cleaned_data.get("fiat_value"),
        )


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


def token_amount_formset(
    *, data=None, prefix="legs", tokens=None, chain_slug=None, initial=None, extra=1, verb="deposited"
):
    """A leg formset: with ``tokens`` (a list of Token) the rows are a select of those."""
    tokens = list(tokens or [])
    kwargs = {"chain_slug": chain_slug}
    if tokens:
        kwargs["token_choices"] = [(t.pk, t.symbol or t.address[:10]) for t in tokens]
        kwargs["tokens_by_id"] = {t.pk: t for t in tokens}
    if initial is None:
        initial = [{"token": t.pk} for t in tokens] if tokens else []
    cls = formset_factory(
        TokenAmountForm, formset=BaseTokenAmountFormSet, extra=extra, max_num=12, validate_max=True, absolute_max=20
    )
    formset = cls(data=data, prefix=prefix, initial=initial, form_kwargs=kwargs)
    formset.verb = verb
    return formset


class LegForm(forms.Form):
    """One leg of a generic transaction: signed quantity (+ received, − sent)."""

    asset = forms.CharField(label="Token", required=False, max_length=64)
    quantity = amount_field("Quantity (+ in, − out)")
    fiat_value = usd_field()
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
        return LegInput(
            token=token,
            asset="" if token is not None else d["asset"],
            quantity=d["quantity"],
            fiat_value=d.get("fiat_value"),
            is_fee=bool(d.get("is_fee")),
        )


class BaseLegFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        if not self.leg_inputs():
            raise ValidationError("A transaction needs at least one leg (a token and a quantity).", code="empty")

    def leg_inputs(self) -> list[LegInput]:
        return [
            f.leg_input()
            for f in self.forms
            # _should_delete_form is BaseFormSet's own (undocumented) check; django-stubs omits it.
            if not f.is_blank and not (self.can_delete and self._should_delete_form(f))  # type: ignore[attr-defined]
        ]


def leg_formset(*, data=None, initial=None, extra=3, can_delete=False):
    cls = formset_factory(
        LegForm,
        formset=BaseLegFormSet,
        extra=extra,
        can_delete=can_delete,
        max_num=30,
        validate_max=True,
        absolute_max=40,
    )
    return cls(data=data, initial=initial, prefix="legs")
