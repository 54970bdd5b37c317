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
    chain: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Token
        fields = ["id", "chain", "address", "symbol", "is_stablecoin", "price_id", "last_price_usd", "last_price_at"]


class PoolTokenPriceOut(serializers.ModelSerializer):
    class Meta:
        model = TokenPrice
        fields = ["timestamp", "price_usd", "quoted_at", "source"]


class RiskFactorOut(serializers.Serializer):
    key = serializers.CharField()
    # DRF moves declared fields off the class; the stubs see Field.label (a string) here.
    label = serializers.CharField()  # type: ignore[assignment]
    value = serializers.CharField()
    points = serializers.IntegerField()
    max_points = serializers.IntegerField()
    explanation = serializers.CharField()
    unknown = serializers.BooleanField()


def _decimal(value) -> str | None:
    """A stored decimal as DRF writes it: every decimal place, never exponent notation."""
    return None if value is None else format(value, "f")


class PoolListOut(serializers.ModelSerializer):
    chain = serializers.CharField(source="chain.slug")
    chain_name = serializers.CharField(source="chain.name")
    protocol = serializers.CharField(source="protocol.slug")
    protocol_name = serializers.CharField(source="protocol.name")
    name = serializers.CharField(source="display_name", help_text='e.g. "USDC-WETH 0.05 % · Uniswap V3 · Ethereum"')

    class Meta:
        model = Pool
        fields = [
            "id", "external_id", "symbol", "meta", "name", "address", "chain", "chain_name", "protocol",
            "protocol_name", "kind", "stablecoin", "il_risk", "exposure", "tvl_usd", "apy", "apy_base", "apy_reward",
            "apy_mean_30d", "volume_usd_1d", "il_7d", "risk_score", "risk_grade", "is_active", "last_seen_at",
        ]  # fmt: skip

    _DECIMALS = ("tvl_usd", "apy", "apy_base", "apy_reward", "apy_mean_30d", "volume_usd_1d", "il_7d")
    _PLAIN = ("id", "external_id", "symbol", "meta", "address", "kind", "stablecoin", "il_risk", "exposure",
              "risk_score", "risk_grade", "is_active")

    def to_representation(self, pool):
        """The list's rows, built directly: 50 rows through DRF's field-by-field machinery
        cost more than the query. Same output as the declared fields (tests compare them)."""
        if type(self) is not PoolListOut:
            return super().to_representation(pool)
        row = {name: getattr(pool, name) for name in self._PLAIN}
        row.update({name: _decimal(getattr(pool, name)) for name in self._DECIMALS})
        seen = pool.last_seen_at
        row.update(
            name=pool.display_name, chain=pool.chain.slug, chain_name=pool.chain.name, protocol=pool.protocol.slug,
            protocol_name=pool.protocol.name,
            last_seen_at=None if seen is None else self.fields["last_seen_at"].to_representation(seen),
        )
        return {name: row[name] for name in self.Meta.fields}


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
