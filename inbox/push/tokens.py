"""The signed token a push carries, with which the service worker marks one notification read."""

from __future__ import annotations

from django.core import signing

READ_TOKEN_SALT = "inbox.push.read"


READ_TOKEN_MAX_AGE = 90 * 24 * 3600  # a push older than this cannot mark anything read
READ_TOKEN_MAX_LENGTH = 300


ID_MAX = 2**63 - 1  # a BigAutoField's largest value; a larger int overflows the database's integer


def read_token(notification_id: int, signer: signing.TimestampSigner | None = None) -> str:
    """Proof, carried inside the encrypted push, that lets the service worker mark one
    notification read without a CSRF token (a service worker cannot read cookies). The very
    token signing.dumps(notification_id, salt=READ_TOKEN_SALT, compress=True) makes: zlib never
    shortens an id's few digits, so that compression is not tried. A task that makes many
    tokens passes one `read_token_signer()` (signing.dumps makes a signer per token)."""
    return (signer or read_token_signer()).sign_object(notification_id)


def read_token_signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=READ_TOKEN_SALT)


def notification_id(token) -> int:
    """The notification id a read token carries, or signing.BadSignature. A valid signature is
    not enough: the payload must be an id (an int, not a bool, a string or a float, in a
    primary key's range), so a token signed around anything else is refused like a forged one."""
    if not isinstance(token, str) or len(token) > READ_TOKEN_MAX_LENGTH:
        raise signing.BadSignature("no token")
    value = signing.loads(token, salt=READ_TOKEN_SALT, max_age=READ_TOKEN_MAX_AGE)
    if type(value) is not int or not 0 < value <= ID_MAX:
        raise signing.BadSignature("the token does not carry a notification id")
    return value
