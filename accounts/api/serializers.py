from datetime import date

from rest_framework import serializers

from accounts.models import CostBasisMethod, Currency, Jurisdiction, LpTreatment, User
from config.api.fields import StrictCharField


class MeOut(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name", "fiat_currency", "tax_jurisdiction", "cost_basis_method",
                  "lp_treatment", "timezone", "lots_per_wallet_from", "date_joined"]
        read_only_fields = fields


class PreferencesIn(serializers.Serializer):
    name = StrictCharField(max_length=150, required=False, allow_blank=True)
    fiat_currency = serializers.ChoiceField(choices=Currency.choices, required=False)
    tax_jurisdiction = serializers.ChoiceField(choices=Jurisdiction.choices, required=False)
    cost_basis_method = serializers.ChoiceField(choices=CostBasisMethod.choices, required=False)
    lp_treatment = serializers.ChoiceField(choices=LpTreatment.choices, required=False)
    timezone = StrictCharField(max_length=64, required=False)
    lots_per_wallet_from = serializers.DateField(
        required=False, allow_null=True,
        help_text="From this date (YYYY-MM-DD) tax lots are tracked wallet by wallet (US rules: 2025-01-01); "
                  "null: one pool for all your wallets. Not used with UK share pooling.")

    def validate_lots_per_wallet_from(self, value: date | None) -> date | None:
        if value is not None and value < FIRST_DAY:
            raise serializers.ValidationError("Give a date on or after 2009-01-03 (the first block of Bitcoin).")
        return value


#: No crypto transaction is older than Bitcoin's first block.
FIRST_DAY = date(2009, 1, 3)


class TokenIn(serializers.Serializer):
    email = serializers.EmailField()
    password = StrictCharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenOut(serializers.Serializer):
    token = StrictCharField(help_text="Send as `Authorization: Token <token>`.")
    expires_at = serializers.DateTimeField(help_text="After this the token is refused (401); ask for a new one.")
