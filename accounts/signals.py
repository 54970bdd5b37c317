"""Revoke the legacy API token when the password changes (allauth signals, wired in apps.py).

App tokens (JWT) need nothing here: they live in a session, and a password change or reset
ends every session (ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE; Django's session hash check)."""

from typing import Any

from accounts.services import legacy_tokens_revoke


def revoke_legacy_tokens(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    if user is not None:
        legacy_tokens_revoke(user=user)
