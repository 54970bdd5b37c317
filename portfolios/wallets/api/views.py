"""/api/v1/wallets/ and /api/v1/wallet-syncs/: the user's own wallets only.

``POST /wallets/{id}/sync/`` answers 202 with a ``Location`` header naming the run's
status resource (``/api/v1/wallet-syncs/{id}/``), which reports progress and, when
done, the reconciliation. Another user's wallet or run is a 404 on every method.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api.ordering import StrictOrderingFilter
from portfolios.selectors.access import portfolio_get_for_user
from portfolios.wallets import selectors
from portfolios.wallets.api import serializers as s
from portfolios.wallets.models import Chain, Wallet, WalletSync
from portfolios.wallets.services import wallets as wallet_services


def _chains(slugs: list[str]) -> list[Chain]:
    found = {c.slug: c for c in Chain.objects.filter(slug__in=slugs)}
    unknown = sorted(set(slugs) - set(found))
    if unknown:
        raise serializers.ValidationError({"chains": [f"Unknown chain: {', '.join(unknown)}."]})
    return [found[slug] for slug in slugs]


def _call(fn, **kwargs):
    try:
        return fn(**kwargs)
    except DjangoValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        raise serializers.ValidationError(detail) from exc


def _sync_out(run: WalletSync) -> dict:
    lines = selectors.reconciliation_lines(sync=run) if run.is_finished else []
    return s.WalletSyncOut(run, context={"reconciliation": lines}).data


class WalletFilterIn(serializers.Serializer):
    portfolio = serializers.IntegerField(required=False)


@extend_schema_view(
    list=extend_schema(
        summary="Your wallets", responses=s.WalletOut(many=True), tags=["wallets"],
        parameters=[OpenApiParameter("portfolio", OpenApiTypes.INT, description="Only this portfolio's")],
    ),
    retrieve=extend_schema(summary="A wallet with its checkpoints per chain", responses=s.WalletOut, tags=["wallets"]),
    create=extend_schema(
        summary="Add a wallet to a portfolio (its first sync starts)", request=s.WalletIn,
        responses={201: s.WalletOut}, tags=["wallets"],
    ),
    partial_update=extend_schema(
        summary="Rename, pause or change chains", request=s.WalletUpdateIn, responses=s.WalletOut, tags=["wallets"]
    ),
    destroy=extend_schema(summary="Remove a wallet and what its syncs recorded", tags=["wallets"]),
)  # fmt: skip
class WalletViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Wallet.objects.none()
    serializer_class = s.WalletOut
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    # The API's one list vocabulary: strict ?ordering= over these keys, strict ?portfolio=.
    filter_backends = [StrictOrderingFilter]
    ordering_fields = ["label", "created_at", "id"]

    def get_queryset(self):
        params = WalletFilterIn(data=self.request.query_params)  # ?portfolio= a whole number, else a 400
        params.is_valid(raise_exception=True)
        portfolio_id = params.validated_data.get("portfolio")
        return selectors.wallet_list_for_user(user=self.request.user, portfolio_id=portfolio_id)

    def create(self, request):
        data = s.WalletIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        portfolio = portfolio_get_for_user(user=request.user, portfolio_id=v["portfolio"])
        wallet = _call(
            wallet_services.wallet_create, portfolio=portfolio, address=v["address"], label=v["label"],
            chains=_chains(v["chains"]),
        )  # fmt: skip
        wallet = selectors.wallet_get_for_user(user=request.user, wallet_id=wallet.pk)
        return Response(s.WalletOut(wallet).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        wallet = self.get_object()
        data = s.WalletUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "chains" in fields:
            fields["chains"] = _chains(fields["chains"])
        _call(wallet_services.wallet_update, wallet=wallet, **fields)
        return Response(s.WalletOut(selectors.wallet_get_for_user(user=request.user, wallet_id=wallet.pk)).data)

    def destroy(self, request, pk=None):
        wallet_services.wallet_delete(wallet=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Sync now: 202 and the run's status URL in Location (a run already queued is reused)",
        request=None,
        responses={202: s.WalletSyncOut},
        tags=["wallets"],
    )
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        run = wallet_services.wallet_sync_start(wallet=self.get_object())
        location = reverse("wallet-sync-detail", kwargs={"pk": run.pk})
        return Response(_sync_out(run), status=status.HTTP_202_ACCEPTED, headers={"Location": location})


@extend_schema_view(
    retrieve=extend_schema(
        summary="A sync run: status, progress, reconciliation when finished",
        responses={200: s.WalletSyncOut, 404: OpenApiResponse(description="Not yours or no such run")},
        tags=["wallets"],
    ),
)
class WalletSyncViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = WalletSync.objects.none()
    serializer_class = s.WalletSyncOut

    def retrieve(self, request, pk=None):
        run = selectors.wallet_sync_get_for_user(user=request.user, sync_id=int(pk) if str(pk).isdigit() else 0)
        return Response(_sync_out(run))
