from django.contrib.auth import authenticate
from rest_framework import serializers

from accounts.models import CostBasisMethod, Currency, Jurisdiction, LpTreatment, User


class MeOut(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name", "fiat_currency", "tax_jurisdiction", "cost_basis_method",
                  "lp_treatment", "timezone", "date_joined"]
        read_only_fields = fields


class PreferencesIn(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    fiat_currency = serializers.ChoiceField(choices=Currency.choices, required=False)
    tax_jurisdiction = serializers.ChoiceField(choices=Jurisdiction.choices, required=False)
    cost_basis_method = serializers.ChoiceField(choices=CostBasisMethod.choices, required=False)
    lp_treatment = serializers.ChoiceField(choices=LpTreatment.choices, required=False)
    timezone = serializers.CharField(max_length=64, required=False)


class TokenIn(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)

    def validate(self, attrs):
        user = authenticate(
            request=self.context.get("request"), email=attrs["email"].lower(), password=attrs["password"]
        )
        if user is None:
            raise serializers.ValidationError("Unable to log in with these credentials.", code="authorization")
        if not user.emailaddress_set.filter(verified=True).exists():
            raise serializers.ValidationError("Verify your email address first.", code="authorization")
        attrs["user"] = user
        return attrs


class TokenOut(serializers.Serializer):
    token = serializers.CharField()
