"""allauth adapter: our client-IP rule, our login limits (accounts/limits.py), and sign-up
that does the same work whether or not the email already has an account."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.crypto import get_random_string

from accounts import limits
from config.clientip import request_client_ip


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: HttpRequest) -> str:
        ip = request_client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine the client IP address.")
        return ip

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        # Counted per client IP and per account-and-client (accounts/limits.py); the
        # middleware refuses the next attempt once over a limit.
        limits.record_failure(request, str(credentials.get("email") or credentials.get("username") or ""))

    def send_account_already_exists_mail(self, email: str) -> None:
        # A new sign-up hashes the chosen password; do the same work here so that the answer
        # takes as long whether or not the email is already registered (no enumeration by
        # timing). Both paths also send exactly one email.
        make_password(get_random_string(32))
        super().send_account_already_exists_mail(email)
