"""The site's django-axes hooks (login throttling is the site's, not the inbox app's): what a
failed login is counted under, the username and address axes records, and the page for a
locked-out login.

The policy (AXES_LOCKOUT_PARAMETERS below; README, "Throttling"): AXES_FAILURE_LIMIT failures
for one username from one address lock that pair, and LOGIN_ADDRESS_FAILURE_LIMIT failures from
one address, whatever the usernames, lock the address for every username that has not logged in
from it before. No username is ever locked everywhere: failures from one address cannot keep its
owner out from another. A success resets its own pair's failures and nothing else (axes's
AXES_RESET_ON_SUCCESS deletes what the parameters of the successful request select, and for a
request that got in those are only its pair).
"""

from __future__ import annotations

import ipaddress

from axes.conf import settings as axes_settings
from axes.helpers import get_cool_off
from axes.models import AccessAttempt, AccessBase, AccessLog
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render
from django.utils import timezone

from config.client_ip import client_ip

__all__ = ["lockout_address", "lockout_parameters", "lockout_response", "login_username"]

USERNAME_MAX_LENGTH = 255  # django-axes's AccessAttempt.username column
IPV6_PREFIX = 64  # what one IPv6 client is usually given: it can pick any address inside
PAIR = ["username", "ip_address"]
ADDRESS = ["ip_address"]


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: a 429 page that says when to try again (also a Retry-After)."""
    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else None
    response = render(request, "registration/lockout.html", {"minutes": minutes}, status=429)
    if minutes:
        response["Retry-After"] = str(minutes * 60)
    return response


def login_username(request, credentials=None):
    """AXES_USERNAME_CALLABLE: the username tried, as django-axes would read it, cut to the
    column it records it in. Django's login form does not bound the username, and PostgreSQL
    refuses a longer value (a 500 on a failed login with a 5,000-character username)."""
    source = credentials or getattr(request, "data", request.POST)
    username = source.get(axes_settings.AXES_USERNAME_FORM_FIELD)
    return username[:USERNAME_MAX_LENGTH] if isinstance(username, str) else username


def lockout_address(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the client's address (config.client_ip), an IPv6 one cut to its
    /64 so that a client cannot start a fresh count with each of its 2**64 addresses. None (one
    shared count, NULL in axes's column) when there is none, as behind a Unix socket."""
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return None
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address.packed, IPV6_PREFIX), strict=False).network_address)
    return str(address)


def lockout_parameters(request_or_attempt, credentials=None) -> list[list[str]]:
    """AXES_LOCKOUT_PARAMETERS: what axes counts this attempt's failures under, against
    AXES_FAILURE_LIMIT. Always the (username, address) pair; also the whole address once it is
    past LOGIN_ADDRESS_FAILURE_LIMIT (a count already past AXES_FAILURE_LIMIT, so a lockout),
    unless the username has logged in from there before. axes asks again for a success's reset:
    a request that got in is never one of the locked, so only its pair is reset."""
    if isinstance(request_or_attempt, AccessBase):
        return [PAIR]  # a recorded attempt (axes's admin, a cache key): its own pair
    request = request_or_attempt
    address = lockout_address(request)
    if failures_from(address, request) < settings.LOGIN_ADDRESS_FAILURE_LIMIT:
        return [PAIR]
    username = login_username(request, credentials)
    if AccessLog.objects.filter(username=username, ip_address=address).exists():
        return [PAIR]  # axes's log of successful logins (AXES_DISABLE_ACCESS_LOG must stay off)
    return [PAIR, ADDRESS]


def failures_from(address: str | None, request) -> int:
    """The failed logins from an address within the cool-off, as axes counts them."""
    attempts = AccessAttempt.objects.filter(ip_address=address)
    cool_off = get_cool_off(request)
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    return attempts.aggregate(failures=Sum("failures_since_start"))["failures"] or 0
