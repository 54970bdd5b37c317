"""Public, read-only pool data for the mobile app: /api/v1/pools/, chains/,
protocols/, tokens/. Responses are cached for 60 s (the data changes hourly);
the global anonymous/user throttles apply."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.cache import cache_page
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from pools import selectors
from pools.api.pagination import StrictPagination
from pools.api.serializers import (
    ChainOut,
    PoolDetailOut,
    PoolListOut,
    PoolSnapshotOut,
    PoolTokenOut,
    PoolTokenPriceOut,
    ProtocolOut,
)
from pools.filters import ChainFilter, CheckboxFilter, PoolFilter, ProtocolFilter, TokenFilter
from pools.models import Token

CACHE_SECONDS = 60
cached = method_decorator(cache_page(CACHE_SECONDS))


class DaysIn(serializers.Serializer):
    days = serializers.IntegerField(required=False, min_value=1, max_value=3660)


DAYS = OpenApiParameter("days", {"type": "integer", "minimum": 1, "maximum": 3660},
                        description="Only the last N days, 1 to 3660 (default: all).")


class PublicReadOnly(viewsets.GenericViewSet):
    """Every pools list: the same pagination and filter backend; ``?ordering=key`` ascending,
    ``-key`` descending (each FilterSet lists its keys)."""

    permission_classes = [AllowAny]
    filter_backends = [DjangoFilterBackend]
    pagination_class = StrictPagination


def strict_flags(request, filterset_class) -> None:
    """The API's boolean filters take ``true`` or ``false`` (empty: not filtered); anything else
    is a 400 naming the parameter (the web explorer's checkboxes share the filters and stay lenient)."""
    bad = {name: ["Give true or false."] for name, f in filterset_class.base_filters.items()
           if isinstance(f, CheckboxFilter) and name in request.query_params
           and request.query_params.getlist(name) not in (["true"], ["false"], [""])}
    if bad:
        raise serializers.ValidationError(bad)


@extend_schema_view(
    list=extend_schema(summary="Pools (filter, sort with ?ordering=, paginate)", tags=["pools"]),
    retrieve=extend_schema(summary="A pool with tokens, statistics and risk breakdown", tags=["pools"]),
)
class PoolViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PublicReadOnly):
    filterset_class = PoolFilter

    def get_queryset(self):
        if self.action == "list":
            return selectors.pool_list_base()
        return selectors.pool_get_queryset()

    def get_serializer_class(self):
        return PoolListOut if self.action == "list" else PoolDetailOut

    @cached
    def list(self, request, *args, **kwargs):
        strict_flags(request, PoolFilter)
        return super().list(request, *args, **kwargs)

    @cached
    def retrieve(self, request, *args, **kwargs):
        pool = self.get_object()
        serializer = PoolDetailOut(pool, context={**self.get_serializer_context(),
                                                  "tokens": selectors.pool_tokens(pool=pool)})
        return Response(serializer.data)

    @extend_schema(summary="A pool's daily history (TVL, APY, base and reward APY), oldest first",
                   parameters=[DAYS], responses=PoolSnapshotOut(many=True), tags=["pools"], filters=False)
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    @cached
    def history(self, request, pk=None):
        pool = self.get_object()
        days = DaysIn(data=request.query_params)
        days.is_valid(raise_exception=True)
        since = None
        if days.validated_data.get("days"):
            since = timezone.now().date() - timedelta(days=days.validated_data["days"])
        rows = selectors.pool_history(pool_id=pool.pk, since=since)
        return Response(PoolSnapshotOut(rows, many=True).data)


@extend_schema_view(list=extend_schema(summary="Chains", tags=["pools"]))
class ChainViewSet(mixins.ListModelMixin, PublicReadOnly):
    serializer_class = ChainOut
    filterset_class = ChainFilter

    def get_queryset(self):
        return selectors.chain_list()

    @cached
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


@extend_schema_view(
    list=extend_schema(summary="Protocols with their audit facts", tags=["pools"]),
    retrieve=extend_schema(summary="A protocol", tags=["pools"]),
)
class ProtocolViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PublicReadOnly):
    serializer_class = ProtocolOut
    filterset_class = ProtocolFilter
    lookup_field = "slug"
    lookup_value_regex = r"[A-Za-z0-9._\-]+"

    def get_queryset(self):
        return selectors.protocol_list()

    @cached
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


class SinceIn(serializers.Serializer):
    since = serializers.DateField(required=False)


@extend_schema_view(
    list=extend_schema(summary="Tokens (filter by symbol, chain, address)", tags=["pools"]),
    retrieve=extend_schema(summary="A token with its latest price", tags=["pools"]),
)
class TokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PublicReadOnly):
    serializer_class = PoolTokenOut
    filterset_class = TokenFilter

    def get_queryset(self):
        return Token.objects.select_related("chain").order_by("id")

    @cached
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="A token's daily USD prices, oldest first", tags=["pools"], filters=False,
                   parameters=[OpenApiParameter("since", OpenApiTypes.DATE, description="First day (UTC).")],
                   responses=PoolTokenPriceOut(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    @cached
    def prices(self, request, pk=None):
        token = self.get_object()
        since = SinceIn(data=request.query_params)
        since.is_valid(raise_exception=True)
        rows = selectors.token_prices(token_id=token.pk, since=since.validated_data.get("since"))
        return Response(PoolTokenPriceOut(rows, many=True).data)
