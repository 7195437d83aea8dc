"""The signed token a push carries, with which the service worker marks one notification read."""

from __future__ import annotations

from django.core import signing

READ_TOKEN_SALT = "inbox.push.read"


READ_TOKEN_MAX_AGE = 90 * 24 * 3600  # a push older than this cannot mark anything read
READ_TOKEN_MAX_LENGTH = 300


def read_token(notification_id: int) -> str:
    """Proof, carried inside the encrypted push, that lets the service worker mark one
    notification read without a CSRF token (a service worker cannot read cookies)."""
    return signing.dumps(notification_id, salt=READ_TOKEN_SALT, compress=True)
