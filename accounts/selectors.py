"""Reads for accounts: the user's signed-in sessions and legacy API token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from allauth.usersessions.models import UserSession
from django.shortcuts import get_object_or_404
from rest_framework.authtoken.models import Token

from accounts.api.authentication import legacy_token_expires_at
from accounts.models import User


@dataclass(frozen=True)
class LegacyToken:
    created: datetime
    expires_at: datetime
    prefix: str  # the first characters only, to recognise it


def user_sessions_list(*, user: User) -> list[UserSession]:
    """Live sessions (browser and app), newest first; dead ones are purged on the way."""
    return sorted(UserSession.objects.purge_and_list(user), key=lambda s: s.created_at, reverse=True)


def user_session_get(*, user: User, session_id: int) -> UserSession:
    return get_object_or_404(UserSession.objects.filter(user=user), pk=session_id)


def legacy_token_get(*, user: User) -> LegacyToken | None:
    token = Token.objects.filter(user=user).first()
    if token is None:
        return None
    return LegacyToken(created=token.created, expires_at=legacy_token_expires_at(token.created), prefix=token.key[:6])
