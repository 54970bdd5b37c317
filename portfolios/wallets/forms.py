from __future__ import annotations

from django import forms

from portfolios.wallets.checksum import AddressError, parse_address
from portfolios.wallets.models import Chain


class WalletForm(forms.Form):
    address = forms.CharField(
        max_length=42,
        help_text="0x followed by 40 hexadecimal digits, as your wallet shows it. Read-only: no key is ever asked.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "0x…"}),
    )
    label = forms.CharField(max_length=100, required=False, help_text="Your own name for it (optional).")
    chains = forms.ModelMultipleChoiceField(
        queryset=Chain.objects.filter(active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to scan every chain.",
    )

    def clean_address(self) -> str:
        try:
            return parse_address(self.cleaned_data["address"])
        except AddressError as exc:
            raise forms.ValidationError(str(exc)) from exc
