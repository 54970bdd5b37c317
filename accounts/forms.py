from django import forms
from django.contrib.auth.password_validation import validate_password

from accounts.models import User
from accounts.timezones import timezone_choices


class PreferencesForm(forms.ModelForm):
    # static/accounts/timezone.js offers the browser's own zone first (data-browser-zone).
    timezone = forms.ChoiceField(
        label="Time zone",
        choices=timezone_choices(),
        widget=forms.Select(attrs={"data-browser-zone": "offer"}),
        help_text="Dates and times are shown in this zone; tax years are cut in it.",
    )

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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = timezone_choices(self.instance.timezone if self.instance else None)

    def clean(self):
        data = super().clean()
        if data.get("tax_jurisdiction") == "uk":
            data["cost_basis_method"] = "uk"
        elif data.get("cost_basis_method") == "uk":
            self.add_error("cost_basis_method", "UK share pooling is only available for the UK jurisdiction.")
        return data


class ResendVerificationForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254)


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
