"""/api/v1/watchlist/, alert-rules/, notifications/, alert-preference/, opportunities/:
the user's own data only (querysets through the owner; class default ``.none()``;
another user's id answers 404). Lists use the project's pagination and
``?ordering=`` (DRF convention: ``created_at`` ascending, ``-created_at`` descending)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts import selectors
from alerts.api import serializers as s
from alerts.models import AlertRule, Notification, WatchedPool
from alerts.opportunities import opportunities_for_user
from alerts.services.emails import preference_set
from alerts.services.notifications import notifications_mark_read
from alerts.services.rules import rule_create, rule_defaults_for, rule_delete, rule_update
from alerts.services.watchlist import watch_add, watch_remove, watchlist_mark_seen
from config.api.fields import query_flag
from portfolios.models import Position
from portfolios.selectors import position_get_for_user

TAG = ["alerts"]


def _call[T](fn: Callable[..., T], **kwargs: Any) -> T:
    """Run a service; its validation errors become 400 responses with the service's message."""
    try:
        return fn(**kwargs)
    except DjangoValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        raise serializers.ValidationError(detail) from exc


class OwnedViewSet(viewsets.GenericViewSet):
    filter_backends = [OrderingFilter]
    ordering = ["-created_at", "-id"]


@extend_schema_view(
    list=extend_schema(summary="Your watched pools", tags=TAG),
    create=extend_schema(summary="Watch a pool (idempotent)", request=s.WatchedIn, responses={201: s.WatchedOut},
                         tags=TAG),
    destroy=extend_schema(summary="Stop watching (by watchlist entry id)", tags=TAG),
)
class WatchlistViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, OwnedViewSet):
    queryset = WatchedPool.objects.none()
    serializer_class = s.WatchedOut
    ordering_fields = ["created_at", "seen_at"]

    def get_queryset(self):
        return selectors.watchlist_for_user(user=self.request.user)

    def create(self, request):
        data = s.WatchedIn(data=request.data)
        data.is_valid(raise_exception=True)
        watched = watch_add(user=request.user, pool=data.validated_data["pool"])
        return Response(s.WatchedOut(watched).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: WatchedPool) -> None:
        watch_remove(user=self.request.user, pool_id=instance.pool_id)

    @extend_schema(summary="Mark every watched pool as seen now (resets what changed)", request=None,
                   responses=s.SeenOut, tags=TAG)
    @action(detail=False, methods=["post"])
    def seen(self, request):
        return Response({"marked": watchlist_mark_seen(user=request.user)})


@extend_schema_view(
    list=extend_schema(summary="Your alert rules", tags=TAG),
    retrieve=extend_schema(summary="An alert rule", tags=TAG),
    create=extend_schema(summary="Create an alert rule on a pool or one of your positions", request=s.RuleIn,
                         responses={201: s.RuleOut}, tags=TAG),
    partial_update=extend_schema(summary="Change the threshold, or pause / resume", request=s.RuleUpdateIn,
                                 responses=s.RuleOut, tags=TAG),
    destroy=extend_schema(summary="Delete an alert rule", tags=TAG),
)
class RuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OwnedViewSet):
    queryset = AlertRule.objects.none()
    serializer_class = s.RuleOut
    ordering_fields = ["created_at", "condition", "last_fired_at"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.rule_list_for_user(user=self.request.user)

    def create(self, request):
        data = s.RuleIn(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        position = None
        if d.get("position") is not None:
            position = Position.objects.filter(portfolio__owner=request.user, pk=d["position"]).select_related(
                "pool", "portfolio").first()
            if position is None:
                raise serializers.ValidationError({"position": ["Not one of your positions."]})
        rule = _call(rule_create, user=request.user, condition=d["condition"], pool=d.get("pool"), position=position,
                     threshold=d.get("threshold"), is_paused=d.get("is_paused", False))
        return Response(s.RuleOut(rule).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="The alerts we suggest for one of your positions (offered when it is added)",
                   parameters=[OpenApiParameter("position", OpenApiTypes.INT, required=True)],
                   responses={200: s.RuleDefaultOut(many=True),
                              404: OpenApiResponse(description="No such position, or it is not yours.")},
                   tags=TAG)
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def defaults(self, request):
        raw = request.query_params.get("position", "")
        if not raw.isdigit():
            raise serializers.ValidationError({"position": ["Give one of your position ids."]})
        position = position_get_for_user(user=request.user, position_id=int(raw))
        if position.pool is None:
            return Response([])
        existing = selectors.rule_conditions_for_position(user=request.user, position_id=position.pk)
        return Response(s.RuleDefaultOut([
            {"condition": d.condition, "threshold": d.threshold, "why": d.why, "already_set": d.condition in existing}
            for d in rule_defaults_for(pool=position.pool, position=position)], many=True).data)

    def partial_update(self, request, pk=None):
        rule = self.get_object()
        data = s.RuleUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        rule = _call(rule_update, rule=rule, threshold=d.get("threshold"), is_paused=d.get("is_paused"),
                     set_threshold="threshold" in d)
        return Response(s.RuleOut(rule).data)

    def destroy(self, request, pk=None):
        rule_delete(rule=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


UNREAD = OpenApiParameter("unread", OpenApiTypes.BOOL, description="true: only unread notifications.")


@extend_schema_view(
    list=extend_schema(summary="Your notifications (newest first)", parameters=[UNREAD], tags=TAG),
    retrieve=extend_schema(summary="A notification", tags=TAG),
)
class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OwnedViewSet):
    queryset = Notification.objects.none()
    serializer_class = s.NotificationOut
    ordering_fields = ["created_at"]

    def get_queryset(self):
        qs = selectors.notification_list_for_user(user=self.request.user)
        if query_flag(self.request, "unread"):
            qs = qs.filter(read_at__isnull=True)
        return qs

    @extend_schema(summary="How many notifications are unread", responses=s.UnreadCountOut, tags=TAG)
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request):
        return Response({"unread": selectors.notifications_unread_count(user=request.user)})

    @extend_schema(summary="Mark one notification read", request=None, responses=s.MarkedOut, tags=TAG)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        note = self.get_object()
        return Response({"marked": notifications_mark_read(user=request.user, ids=[note.pk])})

    @extend_schema(summary="Mark every notification read", request=None, responses=s.MarkedOut, tags=TAG)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": notifications_mark_read(user=request.user)})


class PreferenceView(APIView):
    @extend_schema(summary="How alert emails are sent to you", responses=s.PreferenceIO, tags=TAG)
    def get(self, request):
        return Response({"email": selectors.preference_for_user(user=request.user)})

    @extend_schema(summary="Set how alert emails are sent (immediate, daily, off)", request=s.PreferenceIO,
                   responses=s.PreferenceIO, tags=TAG)
    def put(self, request):
        data = s.PreferenceIO(data=request.data)
        data.is_valid(raise_exception=True)
        pref = preference_set(user=request.user, email=data.validated_data["email"])
        return Response({"email": pref.email})


SHOW_ALL = OpenApiParameter("show_all", OpenApiTypes.BOOL,
                            description="true: include pools under the TVL floor and APY outliers.")


class OpportunitiesView(APIView):
    @extend_schema(summary="Pools that take the tokens you hold, ranked by risk-adjusted yield (not advice)",
                   parameters=[SHOW_ALL], responses=s.OpportunitiesOut, tags=TAG)
    def get(self, request):
        report = opportunities_for_user(user=request.user, show_all=query_flag(request, "show_all"))
        return Response(s.OpportunitiesOut(report).data)
