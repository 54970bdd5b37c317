"""The legacy API token (``Authorization: Token ...``, from the deprecated
``POST /api/v1/auth/token/``): refused once older than settings.API_LEGACY_TOKEN_SECONDS."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


def legacy_token_expires_at(created: Any) -> Any:
    return created + timedelta(seconds=settings.API_LEGACY_TOKEN_SECONDS)


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user, token = super().authenticate_credentials(key)
        if legacy_token_expires_at(token.created) <= timezone.now():
            raise AuthenticationFailed("Token expired; log in again.")
        return user, token
