"""In and out serializers of the alerts API (no services here). Decimals are strings."""

from __future__ import annotations

from rest_framework import serializers

from alerts.models import AlertPreference, AlertRule, Notification, WatchedPool
from pools.models import Pool


class PoolBriefOut(serializers.ModelSerializer):
    class Meta:
        model = Pool
        fields = ["id", "symbol", "meta", "apy", "apy_mean_30d", "tvl_usd", "risk_score", "risk_grade"]


class WatchedIn(serializers.Serializer):
    pool = serializers.PrimaryKeyRelatedField(queryset=Pool.objects.all(), help_text="A pool id (GET /api/v1/pools/).")


class WatchedOut(serializers.ModelSerializer):
    pool = PoolBriefOut(read_only=True)
    tvl_currency = serializers.SerializerMethodField(help_text="Currency of tvl_usd and seen_tvl_usd.")

    class Meta:
        model = WatchedPool
        fields = ["id", "pool", "created_at", "seen_at", "seen_apy", "seen_apy_mean_30d", "seen_tvl_usd",
                  "seen_risk_grade", "tvl_currency"]

    def get_tvl_currency(self, obj: WatchedPool) -> str:
        return "USD"


class RuleIn(serializers.Serializer):
    condition = serializers.ChoiceField(choices=AlertRule.Condition.choices)
    threshold = serializers.DecimalField(max_digits=22, decimal_places=10, required=False, allow_null=True, min_value=0,
                                         help_text="Percent; for apy_below, the APY in percent.")
    pool = serializers.PrimaryKeyRelatedField(queryset=Pool.objects.all(), required=False, allow_null=True)
    position = serializers.IntegerField(required=False, allow_null=True,
                                        help_text="One of your positions (on a listed pool); its pool is watched.")
    is_paused = serializers.BooleanField(required=False, default=False)


class RuleUpdateIn(serializers.Serializer):
    threshold = serializers.DecimalField(max_digits=22, decimal_places=10, required=False, allow_null=True, min_value=0)
    is_paused = serializers.BooleanField(required=False)


class RuleOut(serializers.ModelSerializer):
    class Meta:
        model = AlertRule
        fields = ["id", "pool", "position", "condition", "threshold", "baseline_grade", "baseline_reward",
                  "is_paused", "state", "episode", "last_fired_at", "created_at"]


class NotificationOut(serializers.ModelSerializer):
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "rule", "pool", "condition", "episode", "title", "body", "created_at", "read_at", "is_read"]

    def get_is_read(self, obj: Notification) -> bool:
        return obj.read_at is not None


class UnreadCountOut(serializers.Serializer):
    unread = serializers.IntegerField()


class MarkedOut(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications changed to read.")


class PreferenceIO(serializers.Serializer):
    email = serializers.ChoiceField(choices=AlertPreference.Email.choices)


class RiskOut(serializers.Serializer):
    text = serializers.CharField()
    learn_url = serializers.SerializerMethodField()

    def get_learn_url(self, obj) -> str:
        return f"/learn/articles/{obj.learn_slug}/"


class OpportunityLineOut(serializers.Serializer):
    pool_id = serializers.IntegerField()
    name = serializers.CharField()
    chain = serializers.CharField()
    needs_bridge = serializers.BooleanField()
    apy_mean_30d = serializers.DecimalField(max_digits=22, decimal_places=10)
    apy = serializers.DecimalField(max_digits=22, decimal_places=10, allow_null=True)
    risk_score = serializers.IntegerField()
    risk_grade = serializers.CharField()
    tvl_usd = serializers.DecimalField(max_digits=20, decimal_places=2)
    adjusted_yield = serializers.DecimalField(max_digits=30, decimal_places=10,
                                              help_text="30-day mean APY × (100 − risk score) / 100, percent.")
    income_difference = serializers.DecimalField(max_digits=38, decimal_places=2, allow_null=True,
                                                 help_text="Yearly, in the report's currency (an estimate).")
    risks = RiskOut(many=True)


class OpportunityHoldingOut(serializers.Serializer):
    token_id = serializers.IntegerField()
    symbol = serializers.CharField()
    chain = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=48, decimal_places=18)
    value_usd = serializers.DecimalField(max_digits=48, decimal_places=18, allow_null=True)
    current_pool_id = serializers.IntegerField(allow_null=True)
    current_mean_apy = serializers.DecimalField(max_digits=22, decimal_places=10)


class TokenOpportunitiesOut(serializers.Serializer):
    holding = OpportunityHoldingOut()
    lines = OpportunityLineOut(many=True)


class OpportunitiesOut(serializers.Serializer):
    currency = serializers.CharField()
    min_tvl_usd = serializers.IntegerField()
    outlier_pct = serializers.IntegerField()
    show_all = serializers.BooleanField()
    note = serializers.SerializerMethodField()
    items = TokenOpportunitiesOut(many=True)

    def get_note(self, obj) -> str:
        return ("Facts and estimates from the last 30 days, not advice. Ranked by risk-adjusted yield, never by "
                "spot APY. " + obj.fx_note).strip()


