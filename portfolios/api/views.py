"""/api/v1/portfolios/, positions/, transactions/: the user's own data only.

Every queryset goes through the owner (``portfolios.selectors``); the class
default is ``.none()``, so a view that forgets ``get_queryset`` shows nothing.
Another user's object answers 404 on every endpoint and method (tested for
every route under /api/v1/ that takes an id). Views are thin: validate with an
``*In`` serializer, call a service or selector, answer with an ``*Out`` one;
domain errors become 400 with the service's message. Every POST honours an
``Idempotency-Key`` (``config.idempotency``, a middleware: no view code).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from config.api.exceptions import SafeJSONParser
from config.api.fields import query_flag
from config.api.ordering import StrictOrderingFilter
from portfolios import selectors
from portfolios.api import serializers as s
from portfolios.models import Portfolio, Position, Transaction
from portfolios.services import csv_import
from portfolios.services import portfolios as portfolio_services
from portfolios.services import positions as position_services
from portfolios.services import transactions as transaction_services
from portfolios.services.errors import PortfolioError
from portfolios.services.legs import LegInput


def _call[T](fn: Callable[..., T], **kwargs: Any) -> T:
    """Run a service; its errors become 400 responses with the service's message."""
    try:
        return fn(**kwargs)
    except DjangoValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        raise serializers.ValidationError(detail) from exc
    except PortfolioError as exc:
        raise serializers.ValidationError({exc.field or "detail": [str(exc)]}) from exc


def _amounts(rows: list[dict[str, Any]]) -> list[LegInput]:
    return [
        LegInput(token=r["token"], quantity=r["quantity"], fiat_value=r.get("fiat_value"),
                 fiat_currency=r.get("fiat_currency") or "")
        for r in rows
    ]


class OwnedViewSet(viewsets.GenericViewSet):
    """Base: nothing is visible unless ``get_queryset`` says so through the owner."""
    queryset: QuerySet[Any]  # each subclass names its own model

    queryset = Portfolio.objects.none()
    filter_backends: list = [StrictOrderingFilter]  # ?ordering= with each list's ordering_fields

    def get_serializer_class(self):  # the actions pick their own in/out serializers
        return serializers.Serializer


# --------------------------------------------------------------------------- portfolios


@extend_schema_view(
    list=extend_schema(summary="Your portfolios", responses=s.PortfolioOut(many=True), tags=["portfolios"]),
    retrieve=extend_schema(summary="A portfolio", responses=s.PortfolioOut, tags=["portfolios"]),
    create=extend_schema(
        summary="Create a portfolio", request=s.PortfolioIn, responses={201: s.PortfolioOut}, tags=["portfolios"]
    ),
    partial_update=extend_schema(
        summary="Rename a portfolio", request=s.PortfolioIn, responses=s.PortfolioOut, tags=["portfolios"]
    ),
    update=extend_schema(
        summary="Rename a portfolio", request=s.PortfolioIn, responses=s.PortfolioOut, tags=["portfolios"]
    ),
    destroy=extend_schema(summary="Delete a portfolio and everything in it", tags=["portfolios"]),
)
class PortfolioViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OwnedViewSet):
    ordering_fields = ["name", "created_at", "id"]

    def get_queryset(self):
        return selectors.portfolio_list_for_user(user=self.request.user)

    def get_serializer_class(self):
        return s.PortfolioOut

    def create(self, request):
        data = s.PortfolioIn(data=request.data)
        data.is_valid(raise_exception=True)
        portfolio = _call(portfolio_services.portfolio_create, owner=request.user, name=data.validated_data["name"])
        return Response(s.PortfolioOut(portfolio).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        portfolio = self.get_object()
        data = s.PortfolioIn(data=request.data)
        data.is_valid(raise_exception=True)
        portfolio = _call(portfolio_services.portfolio_update, portfolio=portfolio, name=data.validated_data["name"])
        return Response(s.PortfolioOut(portfolio).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        _call(portfolio_services.portfolio_delete, portfolio=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Value, PnL, income, allocations and every position's analytics",
        responses=s.PortfolioSummaryOut,
        tags=["portfolios"],
    )
    @action(detail=True, methods=["get"])
    def summary(self, request, pk=None):
        summary = selectors.portfolio_summary_now(portfolio=self.get_object())
        return Response(s.PortfolioSummaryOut(summary).data)

    @extend_schema(
        summary="Daily value history (one row per day, oldest first)",
        responses=s.SnapshotOut(many=True),
        tags=["portfolios"],
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def history(self, request, pk=None):
        rows = selectors.portfolio_value_history(portfolio=self.get_object())
        return Response(s.SnapshotOut(rows, many=True).data)

    @extend_schema(
        summary="Import a CSV (native or Koinly): preview with commit=false, import with commit=true",
        request={"multipart/form-data": s.ImportIn},
        responses={200: OpenApiTypes.OBJECT, 201: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
        tags=["portfolios"],
    )
    @action(detail=True, methods=["post"], url_path="import", parser_classes=[MultiPartParser, FormParser])
    def import_csv(self, request, pk=None):
        portfolio = self.get_object()
        data = s.ImportIn(data=request.data)
        data.is_valid(raise_exception=True)
        fmt, file = data.validated_data["format"], data.validated_data["file"]
        if not data.validated_data["commit"]:
            preview = _call(csv_import.csv_import_preview, portfolio=portfolio, file=file, fmt=fmt)
            return Response(
                {
                    "rows": [r.as_dict() for r in preview.rows],
                    "duplicates": [r.as_dict() for r in preview.duplicates],
                    "errors": [e.as_dict() for e in preview.errors],
                },
                status=status.HTTP_200_OK,
            )
        result = _call(csv_import.csv_import_commit, portfolio=portfolio, file=file, fmt=fmt)
        body = {
            "created": result.created,
            "duplicates": result.duplicates,
            "errors": [e.as_dict() for e in result.errors],
            "transactions": result.transaction_ids,
        }
        if result.errors:
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)

    @extend_schema(
        summary="Export every transaction as CSV (native format)",
        responses={(200, "text/csv"): OpenApiTypes.STR},
        tags=["portfolios"],
    )
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        portfolio = self.get_object()
        response = HttpResponse(csv_import.csv_export(portfolio=portfolio), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="portfolio-{portfolio.pk}-transactions.csv"'
        return response


# --------------------------------------------------------------------------- positions


PORTFOLIO_PARAM = OpenApiParameter("portfolio", OpenApiTypes.INT, description="Only this portfolio's")


@extend_schema_view(
    list=extend_schema(
        summary="Your positions (newest first)",
        parameters=[PORTFOLIO_PARAM],
        responses=s.PositionOut(many=True),
        tags=["positions"],
    ),
    retrieve=extend_schema(summary="A position", responses=s.PositionOut, tags=["positions"]),
    create=extend_schema(
        summary="Open a position with its first deposit",
        request=s.PositionIn,
        responses={201: s.PositionOut},
        tags=["positions"],
    ),
    partial_update=extend_schema(
        summary="Edit label, notes, pool or range",
        request=s.PositionUpdateIn,
        responses=s.PositionOut,
        tags=["positions"],
    ),
    update=extend_schema(
        summary="Edit label, notes, pool or range",
        request=s.PositionUpdateIn,
        responses=s.PositionOut,
        tags=["positions"],
    ),
    destroy=extend_schema(summary="Delete a position with its transactions", tags=["positions"]),
)
class PositionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OwnedViewSet):
    queryset = Position.objects.none()
    ordering_fields = ["opened_at", "closed_at", "id"]

    def get_queryset(self):
        params = s.PositionFilterIn(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return selectors.positions_for_user(user=self.request.user, portfolio_id=params.validated_data.get("portfolio"))

    def get_serializer_class(self):
        return s.PositionOut

    def create(self, request):
        data = s.PositionIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        portfolio = selectors.portfolio_get_for_user(user=request.user, portfolio_id=v["portfolio"])
        position = _call(
            position_services.position_open,
            portfolio=portfolio,
            pool=v.get("pool"),
            label=v["label"],
            kind=v["kind"],
            opened_at=v["opened_at"],
            deposits=_amounts(v["deposits"]),
            range_lower=v.get("range_lower"),
            range_upper=v.get("range_upper"),
            notes=v["notes"],
        )
        return Response(s.PositionOut(position).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        position = self.get_object()
        data = s.PositionUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        position = _call(position_services.position_update, position=position, **data.validated_data)
        return Response(s.PositionOut(position).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        _call(position_services.position_delete, position=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Value now, HODL, impermanent loss, fees, rewards, PnL, realised APY, range",
        responses=s.PositionAnalyticsOut,
        tags=["positions"],
    )
    @action(detail=True, methods=["get"])
    def analytics(self, request, pk=None):
        result = selectors.position_analytics(position=self.get_object())
        return Response(s.PositionAnalyticsOut(result).data)

    @extend_schema(
        summary="Add liquidity (LP, farm) or stake more (staking, lending)",
        request=s.DepositIn,
        responses={201: s.TransactionOut},
        tags=["positions"],
    )
    @action(detail=True, methods=["post"])
    def deposit(self, request, pk=None):
        position = self.get_object()
        data = s.DepositIn(data=request.data)
        data.is_valid(raise_exception=True)
        staking = position.kind in position_services.STAKING_KINDS
        fn = position_services.position_stake if staking else position_services.position_add_liquidity
        txn = _call(
            fn,
            position=position,
            deposits=_amounts(data.validated_data["amounts"]),
            occurred_at=data.validated_data["occurred_at"],
        )
        return Response(s.TransactionOut(txn).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Withdraw liquidity or unstake",
        request=s.WithdrawIn,
        responses={201: s.TransactionOut},
        tags=["positions"],
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        position = self.get_object()
        data = s.WithdrawIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        staking = position.kind in position_services.STAKING_KINDS
        fn = position_services.position_unstake if staking else position_services.position_remove_liquidity
        txn = _call(
            fn,
            position=position,
            withdrawals=_amounts(v["amounts"]),
            occurred_at=v["occurred_at"],
            close=v.get("close"),
            fraction=v.get("fraction"),
        )
        return Response(s.TransactionOut(txn).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record rewards claimed from the position",
        request=s.ClaimIn,
        responses={201: s.TransactionOut},
        tags=["positions"],
    )
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        position = self.get_object()
        data = s.ClaimIn(data=request.data)
        data.is_valid(raise_exception=True)
        txn = _call(position_services.position_claim_rewards, position=position, **data.validated_data)
        return Response(s.TransactionOut(txn).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Mark the position closed", request=s.CloseIn, responses=s.PositionOut, tags=["positions"])
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        position = self.get_object()
        data = s.CloseIn(data=request.data)
        data.is_valid(raise_exception=True)
        position = _call(
            position_services.position_close, position=position, closed_at=data.validated_data["closed_at"]
        )
        return Response(s.PositionOut(position).data)

    @extend_schema(
        summary="Override the current token amounts with your wallet's",
        request=s.OverrideIn,
        responses=s.PositionAnalyticsOut,
        tags=["positions"],
    )
    @action(detail=True, methods=["put"])
    def amounts(self, request, pk=None):
        position = self.get_object()
        data = s.OverrideIn(data=request.data)
        data.is_valid(raise_exception=True)
        amounts = {row["token"]: row["quantity"] for row in data.validated_data["amounts"]}
        _call(position_services.position_override_amounts, position=position, amounts=amounts)
        return Response(s.PositionAnalyticsOut(selectors.position_analytics(position=position)).data)


# --------------------------------------------------------------------------- transactions


@extend_schema_view(
    list=extend_schema(
        summary="Your transactions with their legs (newest first)",
        parameters=[
            PORTFOLIO_PARAM,
            OpenApiParameter("position", OpenApiTypes.INT),
            OpenApiParameter("kind", OpenApiTypes.STR),
            OpenApiParameter(
                "hidden",
                OpenApiTypes.BOOL,
                description="false (default): the transactions that count; true: only the hidden ones. "
                "Anything else is a 400.",
            ),
        ],
        responses=s.TransactionOut(many=True),
        tags=["transactions"],
    ),
    retrieve=extend_schema(summary="A transaction", responses=s.TransactionOut, tags=["transactions"]),
    create=extend_schema(
        summary="Record a transaction",
        request=s.TransactionIn,
        responses={201: s.TransactionOut},
        tags=["transactions"],
    ),
    partial_update=extend_schema(
        summary="Change a transaction (legs replace all legs)",
        request=s.TransactionUpdateIn,
        responses=s.TransactionOut,
        tags=["transactions"],
    ),
    update=extend_schema(
        summary="Change a transaction (legs replace all legs)",
        request=s.TransactionUpdateIn,
        responses=s.TransactionOut,
        tags=["transactions"],
    ),
    destroy=extend_schema(summary="Delete a transaction", tags=["transactions"]),
)
class TransactionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OwnedViewSet):
    queryset = Transaction.objects.none()
    parser_classes = [SafeJSONParser]
    ordering_fields = ["occurred_at", "id"]

    def get_queryset(self):
        params = s.TransactionFilterIn(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        v = params.validated_data
        return selectors.transactions_for_user(
            user=self.request.user,
            portfolio_id=v.get("portfolio"),
            position_id=v.get("position"),
            kind=v.get("kind"),
            # A hidden transaction is still the user's to read, change (unhide) or delete by its id.
            hidden=query_flag(self.request, "hidden") if self.action == "list" else None,
        )

    def get_serializer_class(self):
        return s.TransactionOut

    def _position(self, position_id, portfolio):
        if position_id is None:
            return None
        position = selectors.position_get_for_user(user=self.request.user, position_id=position_id)
        if position.portfolio_id != portfolio.pk:
            raise serializers.ValidationError({"position": ["This position belongs to another portfolio."]})
        return position

    def create(self, request):
        data = s.TransactionIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        portfolio = selectors.portfolio_get_for_user(user=request.user, portfolio_id=v["portfolio"])
        txn = _call(
            transaction_services.transaction_record,
            portfolio=portfolio,
            kind=v["kind"],
            legs=_legs(v["legs"]),
            occurred_at=v["occurred_at"],
            position=self._position(v.get("position"), portfolio),
            income_type=v.get("income_type") or None,
            description=v["description"],
            source="api",
            category=v.get("category") or "",
            hidden=v.get("hidden", False),
        )
        txn = selectors.transaction_get_for_user(user=request.user, transaction_id=txn.pk)
        return Response(s.TransactionOut(txn).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        txn = self.get_object()
        data = s.TransactionUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "legs" in fields:
            fields["legs"] = _legs(fields["legs"])
        if "position" in fields:
            fields["position"] = self._position(fields["position"], txn.portfolio)
        if "income_type" in fields:
            fields["income_type"] = fields["income_type"] or ""
        _call(transaction_services.transaction_update, transaction=txn, **fields)
        txn = selectors.transaction_get_for_user(user=request.user, transaction_id=txn.pk)
        return Response(s.TransactionOut(txn).data)

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def destroy(self, request, pk=None):
        _call(transaction_services.transaction_delete, transaction=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


def _legs(rows: list[dict[str, Any]]) -> list[LegInput]:
    return [
        LegInput(
            token=r.get("token"),
            asset=r.get("asset") or "",
            quantity=r["quantity"],
            fiat_value=r.get("fiat_value"),
            is_fee=r.get("is_fee", False),
            fiat_currency=r.get("fiat_currency") or "",
        )
        for r in rows
    ]
