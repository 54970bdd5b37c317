"""Output serializers (the pools API is read-only). Decimals are strings."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pools.models import Chain, Pool, PoolSnapshot, Protocol, Token, TokenPrice


class ChainOut(serializers.ModelSerializer):
    class Meta:
        model = Chain
        fields = ["id", "slug", "name"]


class ProtocolOut(serializers.ModelSerializer):
    class Meta:
        model = Protocol
        fields = ["id", "slug", "name", "category", "url", "audit_count", "audit_links", "last_audit_date",
                  "launch_date"]

    audit_links = serializers.ListField(child=serializers.URLField())


class PoolTokenOut(serializers.ModelSerializer):
    chain = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Token
        fields = ["id", "chain", "address", "symbol", "is_stablecoin", "price_id", "last_price_usd", "last_price_at"]


class PoolTokenPriceOut(serializers.ModelSerializer):
    class Meta:
        model = TokenPrice
        fields = ["timestamp", "price_usd", "quoted_at", "source"]


class RiskFactorOut(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    value = serializers.CharField()
    points = serializers.IntegerField()
    max_points = serializers.IntegerField()
    explanation = serializers.CharField()
    unknown = serializers.BooleanField()


class PoolListOut(serializers.ModelSerializer):
    chain = serializers.CharField(source="chain.slug")
    chain_name = serializers.CharField(source="chain.name")
    protocol = serializers.CharField(source="protocol.slug")
    protocol_name = serializers.CharField(source="protocol.name")

    class Meta:
        model = Pool
        fields = [
            "id", "external_id", "symbol", "meta", "chain", "chain_name", "protocol", "protocol_name", "kind",
            "stablecoin", "il_risk", "exposure", "tvl_usd", "apy", "apy_base", "apy_reward", "apy_mean_30d",
            "volume_usd_1d", "il_7d", "risk_score", "risk_grade", "is_active", "last_seen_at",
        ]  # fmt: skip


class PoolDetailOut(PoolListOut):
    protocol_detail = ProtocolOut(source="protocol")
    underlying_tokens = serializers.SerializerMethodField()
    reward_tokens = serializers.SerializerMethodField()
    risk_factors = serializers.SerializerMethodField()

    class Meta(PoolListOut.Meta):
        fields = [
            *PoolListOut.Meta.fields, "protocol_detail", "derived_fields", "apy_base_7d", "apy_pct_1d", "apy_pct_7d",
            "apy_pct_30d", "volume_usd_7d", "apy_sigma_30d", "apy_mean_30d_computed", "mu", "sigma", "count",
            "outlier", "predicted_class", "predicted_probability", "binned_confidence", "history_start",
            "first_seen_at", "missed_refreshes", "history_backfilled_at", "underlying_tokens", "reward_tokens",
            "risk_factors",
        ]  # fmt: skip

    @extend_schema_field(PoolTokenOut(many=True))
    def get_underlying_tokens(self, pool):
        return PoolTokenOut(self.context["tokens"][0], many=True).data

    @extend_schema_field(PoolTokenOut(many=True))
    def get_reward_tokens(self, pool):
        return PoolTokenOut(self.context["tokens"][1], many=True).data

    @extend_schema_field(RiskFactorOut(many=True))
    def get_risk_factors(self, pool):
        return RiskFactorOut(pool.risk_factors or [], many=True).data


class PoolSnapshotOut(serializers.ModelSerializer):
    class Meta:
        model = PoolSnapshot
        fields = ["day", "tvl_usd", "apy", "apy_base", "apy_reward"]
