import zoneinfo

from django import forms
from django.contrib.auth.password_validation import validate_password

from accounts.models import User

TIMEZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]


class PreferencesForm(forms.ModelForm):
    timezone = forms.ChoiceField(choices=TIMEZONE_CHOICES)

    class Meta:
        model = User
        fields = ["name", "fiat_currency", "tax_jurisdiction", "cost_basis_method", "lp_treatment", "timezone",
                  "lots_per_wallet_from"]
        help_texts = {
            "tax_jurisdiction": "Sets how tax years are cut (UK: 6 April) and the rules applied.",
            "cost_basis_method": "UK users always get UK share pooling.",
            "lp_treatment": "How adding or removing liquidity is treated in tax reports.",
        }
        widgets = {"lots_per_wallet_from": forms.DateInput(attrs={"type": "date"})}

    def clean(self):
        data = super().clean()
        if data.get("tax_jurisdiction") == "uk":
            data["cost_basis_method"] = "uk"
        elif data.get("cost_basis_method") == "uk":
            self.add_error("cost_basis_method", "UK share pooling is only available for the UK jurisdiction.")
        return data


class AdminUserCreationForm(forms.ModelForm):
    """Admin 'add user' form for an email-login user."""

    password1 = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label="Password (again)", widget=forms.PasswordInput, strip=False)

    class Meta:
        model = User
        fields = ["email"]

    def clean(self):
        data = super().clean()
        if data.get("password1") != data.get("password2"):
            self.add_error("password2", "The two passwords differ.")
        else:
            try:
                validate_password(data.get("password1") or "", self.instance)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_password(self.cleaned_data["password1"])
        if commit:
            user.save()
        return user
