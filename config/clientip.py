"""The client's IP address, believing X-Forwarded-For only through trusted proxies.

Each trusted reverse proxy appends the address it received the request from to
``X-Forwarded-For``. With ``n`` trusted proxies the client is therefore the ``n``-th address
from the right; anything left of it was written by the client and proves nothing. With
``n = 0`` (the default) the header is ignored and the socket address is the client.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(remote_addr: str | None, forwarded_for: str | None, trusted_proxies: int) -> str | None:
    """The client address, or ``remote_addr`` when the header is missing, short or malformed."""
    if trusted_proxies > 0 and forwarded_for:
        hops = [hop.strip() for hop in forwarded_for.split(",")]
        if len(hops) >= trusted_proxies:
            candidate = hops[-trusted_proxies]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return remote_addr or None


def request_client_ip(request: HttpRequest) -> str | None:
    """``client_ip`` of a Django request, through settings.TRUSTED_PROXY_COUNT proxies."""
    return client_ip(request.META.get("REMOTE_ADDR"), request.headers.get("X-Forwarded-For"),
                     settings.TRUSTED_PROXY_COUNT)
