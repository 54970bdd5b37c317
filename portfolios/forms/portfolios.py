"""Forms of portfolios (name, delete confirmation), of a generic transaction and of
the CSV upload."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from portfolios import validation
from portfolios.forms.common import PastDateTimeField
from portfolios.ledger import INCOME_TYPE_CHOICES, TX_CATEGORY_CHOICES, TX_KIND_CHOICES, TxKind, category_problem
from portfolios.models import HIDDEN_IN_POSITION_ERROR


class PortfolioForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="E.g. “Main wallet” or “Ledger”. Each of your portfolios has its own name.",
    )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Give the portfolio a name.", code="blank")
        return name


class ConfirmDeleteForm(forms.Form):
    confirm = forms.BooleanField(
        label="Yes, delete it and everything in it",
        required=True,
        error_messages={"required": "Tick the box to confirm: this cannot be undone."},
    )


class TransactionForm(forms.Form):
    kind = forms.ChoiceField(label="Kind", choices=TX_KIND_CHOICES)
    income_type = forms.ChoiceField(
        label="Income type",
        required=False,
        choices=[("", "— (not a reward)"), *INCOME_TYPE_CHOICES],
        help_text="Rewards only: what kind of income it is.",
    )
    occurred_at = PastDateTimeField(label="Date", help_text="When it happened, in your time zone.")
    position = forms.TypedChoiceField(
        label="Position",
        required=False,
        coerce=int,
        empty_value=None,
        help_text="Optional: the position this belongs to.",
    )
    description = forms.CharField(label="Description", max_length=500, required=False)
    category = forms.ChoiceField(
        label="Category",
        required=False,
        choices=[("", "— (a move between your own wallets)"), *TX_CATEGORY_CHOICES],
        help_text="Transfers only: a transfer out or in that was a gift. It changes how the tax report treats it.",
    )
    hidden = forms.BooleanField(
        label="Hide this transaction (it will count nowhere)",
        required=False,
        help_text="E.g. a spam token airdropped to your wallet. It is kept, and you can show and unhide it.",
    )

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
        problem = category_problem(kind or "", data.get("category") or "") if kind else None
        if problem is not None:
            self.add_error("category", problem)
        if data.get("hidden") and data["position_obj"] is not None:
            self.add_error("hidden", HIDDEN_IN_POSITION_ERROR)
        return data


class ImportUploadForm(forms.Form):
    MAX_BYTES = 5 * 1024 * 1024

    file = forms.FileField(label="CSV file", help_text="UTF-8 CSV, up to 5 MB.")
    format = forms.ChoiceField(
        label="Format",
        choices=[
            ("auto", "Detect from the header"),
            ("native", "Yieldledger (one row per leg)"),
            ("koinly", "Koinly universal"),
        ],
        widget=forms.RadioSelect,
        initial="auto",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise ValidationError("The file is larger than 5 MB: split it and import the parts.", code="too_big")
        # Bytes that are not UTF-8 are kept (as lone surrogates) and reported on their own row by the import.
        text = validation.decode_csv(upload.read())
        if not text.strip():
            raise ValidationError("The file is empty.", code="empty")
        return text
