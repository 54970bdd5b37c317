from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import MeOut, PreferencesIn, TokenIn, TokenOut
from accounts.services import LoginRefused, legacy_token_issue, user_authenticate, user_update_preferences

DEPRECATION_LINK = '</api/auth/app/v1/auth/login>; rel="successor-version"'


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
    """Deprecated: exchange email and password for a legacy API token.

    Use the app login (`POST /api/auth/app/v1/auth/login`), which returns an expiring access
    token and a refresh token. This endpoint obeys the same brute-force limits as every login;
    each call replaces the previous token, which expires after `API_LEGACY_TOKEN_SECONDS` and
    is revoked by logout, password change or reset, and from the web settings page."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_scope = "token"

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'  # wrong credentials are a 401, like a bad token

    @extend_schema(request=TokenIn, responses={
        200: TokenOut,
        401: OpenApiResponse(description="Wrong email or password, or the email is not verified yet.")},
        deprecated=True)
    def post(self, request):
        data = TokenIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = user_authenticate(request=request, email=data.validated_data["email"],
                                     password=data.validated_data["password"])
        except LoginRefused as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from exc
        token, expires_at = legacy_token_issue(user=user)
        response = Response(TokenOut({"token": token, "expires_at": expires_at}).data, status=status.HTTP_200_OK)
        response["Deprecation"] = "true"
        response["Link"] = DEPRECATION_LINK
        return response
