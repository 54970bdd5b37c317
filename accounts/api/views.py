from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import MeOut, PreferencesIn, TokenIn, TokenOut
from accounts.services import user_update_preferences


class MeView(APIView):
    """The signed-in user and their preferences."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeOut)
    def get(self, request):
        return Response(MeOut(request.user).data)

    @extend_schema(request=PreferencesIn, responses=MeOut)
    def patch(self, request):
        data = PreferencesIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        try:
            user = user_update_preferences(user=request.user, data=data.validated_data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return Response(MeOut(user).data)


class TokenView(APIView):
    """Exchange email and password for an API token (rate-limited)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_scope = "token"

    @extend_schema(request=TokenIn, responses={200: TokenOut})
    def post(self, request):
        data = TokenIn(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=data.validated_data["user"])
        return Response({"token": token.key}, status=status.HTTP_200_OK)
