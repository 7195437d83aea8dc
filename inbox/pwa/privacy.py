"""Whose a response is, for the service worker's offline copies, and what a logout clears.

Every response to a logged-in user names its owner (an opaque keyed hash of the user id, never
the id or the username) and the time the session ends (recorded at login: the session's own
expiry date moves with every request that saves it). The service worker keeps offline copies of
one owner's pages only, drops them when a response shows someone else or nobody, and serves none
after that time. The response to any logout (the site's or the admin's) carries Clear-Site-Data,
which empties the browser's caches and storage for the site.
"""

from __future__ import annotations

import time

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.utils.crypto import salted_hmac

OWNER_HEADER = "X-Inbox-User"
EXPIRES_HEADER = "X-Inbox-Session-Expires"
SESSION_EXPIRES_KEY = "inbox_session_expires"
CLEAR_SITE_DATA = '"cache", "storage"'
_LOGGED_OUT = "_inbox_logged_out"


def owner_token(user) -> str:
    """The same for every response to one user, unguessable and unlinkable to the user id."""
    return salted_hmac("inbox.privacy.owner", str(user.pk), algorithm="sha256").hexdigest()[:32]


def record_session_expiry(request) -> int:
    """The session's end, as epoch seconds, noted in the session (which saves it, so the
    session's own expiry is the same moment)."""
    expires = int(time.time()) + request.session.get_expiry_age()
    request.session[SESSION_EXPIRES_KEY] = expires
    return expires


def on_login(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        record_session_expiry(request)


def on_logout(sender, request, user, **kwargs) -> None:
    if request is not None:
        setattr(request, _LOGGED_OUT, True)


def connect_signals() -> None:
    user_logged_in.connect(on_login, dispatch_uid="inbox.privacy.on_login")
    user_logged_out.connect(on_logout, dispatch_uid="inbox.privacy.on_logout")


def privacy_middleware(get_response):
    """Adds the owner and session-end headers for a logged-in user, and Clear-Site-Data to
    the response of a logout. Put it after AuthenticationMiddleware."""

    def middleware(request):
        response = get_response(request)
        if getattr(request, _LOGGED_OUT, False):
            response["Clear-Site-Data"] = CLEAR_SITE_DATA
        session = getattr(request, "session", None)
        # A request without a session cookie is nobody's; not asking spares it "Vary: Cookie".
        if session is None or not session.session_key:
            return response
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            expires = session.get(SESSION_EXPIRES_KEY)
            if not isinstance(expires, int):  # a session from before this was recorded
                expires = record_session_expiry(request)
            response[OWNER_HEADER] = owner_token(user)
            response[EXPIRES_HEADER] = str(expires)
        return response

    return middleware
