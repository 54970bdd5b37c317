"""Calculator API (``/api/v1/calculators/``): serializers and views.

Public (``AllowAny``) and throttled by the global anonymous/user rates. Inputs are query
parameters parsed and capped by :mod:`pools.calculators.inputs` (the same rules and messages
as the Learn pages); results are decimal strings. Rates are fractions (``0.12`` = 12 %).

Errors: invalid input is a 400 ``{"<parameter>": ["message"]}`` naming the parameter, including
errors :mod:`pools.amm` raises as ``InvalidParameter(field, ...)``; a solver that cannot settle
(``ConvergenceError``, or a decimal overflow) is a 422 ``{"detail": "..."}``.
"""

from __future__ import annotations

import time

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import APIException
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from pools.calculators import inputs
from pools.calculators.inputs import InvalidParameter, InvalidParameters

MODELS = list(inputs.MODEL_PARAMETERS)
# Library parameter names that differ from our query parameters.
_FIELD_ALIASES = {"compounding": "compounds_per_year"}

_RATE_NOTE = "Rates are fractions per year: 0.12 means 12 %."
_DECIMAL_NOTE = (
    "Decimal string rounded to 20 significant digits (exponent notation beyond 1e21 or below 1e-20)."
)


# --- fields -------------------------------------------------------------------------------


class TextParam(serializers.Field):
    """A query parameter as stripped text. Not a ``CharField``: its ``minLength`` would end up
    on the numeric schema types below. A blank optional value counts as absent."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("Enter a single value.")
        return data.strip()

    def to_representation(self, value):
        return value


@extend_schema_field(OpenApiTypes.NUMBER)
class NumberParam(TextParam):
    """A numeric query parameter. With ``limit`` it is parsed and capped here; without, it is
    kept as text for :func:`inputs.parse_pool_params` (model parameters are read only when the
    chosen model uses them)."""

    def __init__(self, *, limit: str | None = None, **kwargs):
        self.limit = limit
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        if self.limit is None:
            return text
        try:
            return inputs.parse_decimal(text, self.limit)
        except InvalidParameter as exc:
            raise serializers.ValidationError(exc.message) from None


@extend_schema_field(OpenApiTypes.INT)
class IntegerParam(TextParam):
    """An integer query parameter kept as text for :func:`inputs.parse_pool_params`."""


@extend_schema_field(
    {
        "type": "string",
        "pattern": "^([1-9][0-9]*|continuous)$",
        "default": "365",
        "example": "365",
    }
)
class CompoundingParam(TextParam):
    """``compounds_per_year``: a positive integer (1 to 31536000) or the word ``continuous``."""

    def to_internal_value(self, data):
        try:
            return inputs.parse_compounding(super().to_internal_value(data))
        except InvalidParameter as exc:
            raise serializers.ValidationError(exc.message) from None


@extend_schema_field({"type": "string", "format": "decimal"})
class DecimalString(serializers.Field):
    """A Decimal result as a string (see :func:`inputs.decimal_str`)."""

    def __init__(self, *, significant: int = 20, **kwargs):
        self.significant = significant
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return inputs.decimal_str(value, self.significant)


# --- query serializers (documented as query parameters) -----------------------------------


class PoolQuery(serializers.Serializer):
    model = serializers.ChoiceField(
        choices=MODELS,
        help_text="Pool model: constant_product (Uniswap v2 50/50), weighted (Balancer), "
        "concentrated (Uniswap v3 range), stableswap (Curve). Parameters of other models are ignored.",
    )
    price_ratio = NumberParam(
        limit="price_ratio",
        help_text="New price of the first token in the second, divided by the entry price "
        "(2 = it doubled). Greater than 0; capped to 0.000001 ... 1000000.",
    )
    weights = serializers.CharField(
        required=False,
        help_text="weighted: comma-separated fractions summing to 1, first token first, e.g. 0.8,0.2 "
        "(2 to 8 tokens). Token 0 moves by price_ratio, the others keep their price.",
    )
    lower = NumberParam(
        required=False,
        help_text="concentrated: lower range bound as a multiple of the entry price (e.g. 0.5). "
        "Must be below upper; capped to 0.000001 ... 1000000.",
    )
    upper = NumberParam(
        required=False,
        help_text="concentrated: upper range bound as a multiple of the entry price (e.g. 2).",
    )
    amplification = NumberParam(
        required=False,
        help_text="stableswap: whitepaper amplification A (> 0, at most 1000000). A Curve contract's "
        "A() equals A * n_coins^(n_coins-1).",
    )
    n_coins = IntegerParam(
        required=False,
        help_text="stableswap: number of coins, 2 to 8 (default 2). Coin 0 moves by price_ratio.",
    )

    def validate(self, attrs):
        try:
            attrs["pool"] = inputs.parse_pool_params(attrs["model"], attrs)
        except InvalidParameters as exc:
            raise serializers.ValidationError({k: [v] for k, v in exc.errors.items()}) from None
        return attrs


class ImpermanentLossQuery(PoolQuery):
    curve = serializers.BooleanField(
        required=False,
        default=False,
        help_text="true adds `curve`: the impermanent loss at 200 log-spaced price ratios from 0.1 to 10 "
        "(widened to include price_ratio).",
    )


class BreakEvenQuery(PoolQuery):
    days = NumberParam(
        limit="days",
        help_text="Days over which the price move happens (fees must make up the loss in that time). "
        "Greater than 0; capped to 0.01 ... 3650.",
    )
    compounds_per_year = CompoundingParam(
        required=False,
        default=inputs.DEFAULT_COMPOUNDING,
        help_text="How often fees are reinvested for break_even_apr_compounded: a positive integer "
        "(365 = daily, the default) or `continuous`.",
    )


class ApyQuery(serializers.Serializer):
    apr = NumberParam(
        limit="apr",
        required=False,
        help_text="Nominal APR as a fraction (0.1 = 10 %) to convert to APY. Give exactly one of apr and apy. "
        "Greater than -1; capped at 1000.",
    )
    apy = NumberParam(
        limit="apy",
        required=False,
        help_text="APY as a fraction to convert to the nominal APR. Give exactly one of apr and apy. "
        "Greater than -1; capped at 1000000000.",
    )
    compounds_per_year = CompoundingParam(
        required=False,
        default=inputs.DEFAULT_COMPOUNDING,
        help_text="Compounding periods per year: a positive integer (365 = daily, the default; at most "
        "31536000) or `continuous`.",
    )

    def validate(self, attrs):
        given = [name for name in ("apr", "apy") if attrs.get(name) not in (None, "")]
        if len(given) != 1:
            message = "Give exactly one of apr and apy." if given else "Give apr or apy (exactly one)."
            raise serializers.ValidationError({"apr": [message], "apy": [message]})
        attrs["given"] = given[0]
        return attrs


# --- response serializers ------------------------------------------------------------------


class CurvePointOut(serializers.Serializer):
    price_ratio = DecimalString(significant=6)
    impermanent_loss = DecimalString()


class PoolResultOut(serializers.Serializer):
    model = serializers.ChoiceField(choices=MODELS, read_only=True)
    price_ratio = DecimalString(significant=50, help_text="The price_ratio used (echo).")
    weights = serializers.ListField(
        child=DecimalString(significant=50), allow_null=True, read_only=True, help_text="weighted only, else null."
    )
    lower = DecimalString(significant=50, allow_null=True, help_text="concentrated only, else null.")
    upper = DecimalString(significant=50, allow_null=True, help_text="concentrated only, else null.")
    amplification = DecimalString(significant=50, allow_null=True, help_text="stableswap only, else null.")
    n_coins = serializers.IntegerField(allow_null=True, read_only=True, help_text="stableswap only, else null.")
    impermanent_loss = DecimalString(
        help_text="value_lp / value_hodl - 1 (<= 0; fees not included), e.g. -0.0572 for -5.72 %. " + _DECIMAL_NOTE
    )
    value_lp = DecimalString(help_text="Value of the LP position now, for an initial value of 1.")
    value_hodl = DecimalString(help_text="Value of simply holding the deposited tokens, for an initial value of 1.")
    in_range = serializers.BooleanField(
        allow_null=True,
        read_only=True,
        help_text="concentrated: whether the price is inside [lower, upper); else null.",
    )


class ImpermanentLossOut(PoolResultOut):
    curve = CurvePointOut(many=True, required=False, read_only=True, help_text="Only with curve=true: 200 points.")


class BreakEvenOut(PoolResultOut):
    days = DecimalString(significant=50)
    compounds_per_year = serializers.CharField(read_only=True, help_text='An integer as a string, or "continuous".')
    break_even_apr_simple = DecimalString(
        help_text="Fee APR (fraction) that offsets the loss over `days` if fees are not reinvested. " + _RATE_NOTE
    )
    break_even_apr_compounded = DecimalString(
        help_text="Fee APR (fraction) that offsets the loss if fees are reinvested compounds_per_year times a year."
    )
    break_even_apy = DecimalString(help_text="The yearly growth (APY, fraction) those fees amount to.")


class RateConversionOut(serializers.Serializer):
    given = serializers.ChoiceField(choices=["apr", "apy"], read_only=True, help_text="Which rate was the input.")
    apr = DecimalString(help_text="Nominal APR, fraction per year. " + _RATE_NOTE)
    apy = DecimalString(help_text="APY, fraction per year: (1 + apr/n)^n - 1, or e^apr - 1 when continuous.")
    compounds_per_year = serializers.CharField(read_only=True, help_text='An integer as a string, or "continuous".')


# --- views --------------------------------------------------------------------------------


class NotComputable(APIException):
    status_code = 422
    default_detail = (
        "These inputs could not be computed: the pool solver did not settle on an answer. "
        "Try a price ratio closer to 1 or a smaller amplification."
    )
    default_code = "not_computable"


_ERRORS = {
    400: OpenApiResponse(
        response=OpenApiTypes.OBJECT,
        description='Invalid input: {"<parameter>": ["message"]}, e.g. {"upper": ["Must be greater than lower."]}.',
        examples=[OpenApiExample("Bad bound", value={"upper": ["Must be greater than lower."]})],
    ),
    422: OpenApiResponse(
        response=OpenApiTypes.OBJECT,
        description='Valid input the solver could not compute (e.g. no convergence): {"detail": "..."}.',
    ),
}


def _computed(compute):
    """Run a calculation, turning library errors into 400 (named field) or 422."""
    try:
        return compute()
    except InvalidParameter as exc:
        field = _FIELD_ALIASES.get(exc.field, exc.field)
        raise serializers.ValidationError({field: [inputs.sentence(exc.message)]}) from None
    except InvalidParameters as exc:
        raise serializers.ValidationError({k: [v] for k, v in exc.errors.items()}) from None
    except ArithmeticError:  # ConvergenceError, decimal Overflow
        raise NotComputable() from None


def _pool_payload(pool: inputs.PoolParams, price_ratio, result) -> dict:
    return {
        "model": pool.model,
        "price_ratio": price_ratio,
        "weights": list(pool.weights) if pool.weights is not None else None,
        "lower": pool.lower,
        "upper": pool.upper,
        "amplification": pool.amplification,
        "n_coins": pool.n_coins,
        "impermanent_loss": result.impermanent_loss,
        "value_lp": result.value_lp,
        "value_hodl": result.value_hodl,
        "in_range": result.in_range,
    }


class ImpermanentLossView(APIView):
    """Impermanent loss of an LP position after a price move, for four pool models."""

    permission_classes = [AllowAny]

    @extend_schema(
        summary="Impermanent loss after a price move",
        description="Impermanent loss (LP value vs holding, fees excluded) for an initial value of 1. "
        "Only the parameters of the chosen model are read. " + _DECIMAL_NOTE,
        parameters=[ImpermanentLossQuery],
        responses={200: ImpermanentLossOut, **_ERRORS},
        examples=[
            OpenApiExample(
                "Constant product, price doubled",
                response_only=True,
                value={
                    "model": "constant_product",
                    "price_ratio": "2",
                    "weights": None,
                    "lower": None,
                    "upper": None,
                    "amplification": None,
                    "n_coins": None,
                    "impermanent_loss": "-0.057190958417936634132",
                    "value_lp": "1.4142135623730950488",
                    "value_hodl": "1.5",
                    "in_range": None,
                },
            )
        ],
    )
    def get(self, request):
        query = ImpermanentLossQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        pool, ratio = query.validated_data["pool"], query.validated_data["price_ratio"]
        payload = _pool_payload(pool, ratio, _computed(lambda: inputs.impermanent_loss(pool, ratio)))
        timing = None
        if query.validated_data["curve"]:
            started = time.perf_counter()
            points = _computed(lambda: inputs.il_curve_points(pool, ratio))
            timing = (time.perf_counter() - started) * 1000
            payload["curve"] = [{"price_ratio": r, "impermanent_loss": il} for r, il in points]
        response = Response(ImpermanentLossOut(payload).data)
        if timing is not None:
            response["Server-Timing"] = f"il-curve;dur={timing:.1f}"
        return response


class BreakEvenView(APIView):
    """Fee APR needed to make up the impermanent loss of a price move over a number of days."""

    permission_classes = [AllowAny]

    @extend_schema(
        summary="Break-even fee APR for a price move",
        description="The fee APR that offsets the impermanent loss of `price_ratio` over `days` "
        "(fees assumed to accrue on the position's own value). Simple (no reinvestment) and "
        "compounded figures. " + _RATE_NOTE,
        parameters=[BreakEvenQuery],
        responses={200: BreakEvenOut, **_ERRORS},
    )
    def get(self, request):
        query = BreakEvenQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        pool, ratio, days, compounding = data["pool"], data["price_ratio"], data["days"], data["compounds_per_year"]
        result = _computed(lambda: inputs.break_even(pool, ratio, days, compounding))
        payload = _pool_payload(pool, ratio, result.il)
        payload.update(
            days=days,
            compounds_per_year=str(compounding),
            break_even_apr_simple=result.apr_simple,
            break_even_apr_compounded=result.apr_compounded,
            break_even_apy=result.apy,
        )
        return Response(BreakEvenOut(payload).data)


class ApyView(APIView):
    """APR to APY or APY to APR for a compounding frequency."""

    permission_classes = [AllowAny]

    @extend_schema(
        summary="Convert APR to APY or APY to APR",
        description="Give exactly one of `apr` and `apy`. " + _RATE_NOTE + " "
        "Compounding is `compounds_per_year` (a positive integer, default 365) or "
        "`compounds_per_year=continuous`. " + _DECIMAL_NOTE,
        parameters=[ApyQuery],
        responses={200: RateConversionOut, **_ERRORS},
        examples=[
            OpenApiExample(
                "10 % APR compounded daily",
                response_only=True,
                value={"given": "apr", "apr": "0.1", "apy": "0.10515578161626437394", "compounds_per_year": "365"},
            )
        ],
    )
    def get(self, request):
        query = ApyQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        given, compounding = data["given"], data["compounds_per_year"]
        conversion = _computed(lambda: inputs.convert_rate(**{given: data[given]}, compounding=compounding))
        return Response(
            RateConversionOut(
                {
                    "given": conversion.given,
                    "apr": conversion.apr,
                    "apy": conversion.apy,
                    "compounds_per_year": str(conversion.compounding),
                }
            ).data
        )
