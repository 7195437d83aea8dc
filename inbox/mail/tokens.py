"""The signed tokens in an email's links, one salt per purpose: a token made for one job is
refused by the other, and changing any character of one (its user, kind or notification) breaks
its signature. They need no login: the signature is the proof."""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing

from inbox.conf import inbox_setting

__all__ = [
    "BadToken",
    "ReadToken",
    "Unsubscribe",
    "read_signer",
    "read_token",
    "unsubscribe_signer",
    "unsubscribe_token",
]

UNSUBSCRIBE_SALT = "inbox.mail.unsubscribe"
READ_SALT = "inbox.mail.read"
TOKEN_MAX_LENGTH = 300  # ours are under 100 characters; anything longer is not read at all
DIGEST = "digest"  # the channel an unsubscribe from a digest turns off (all kinds at once)


class BadToken(Exception):
    """The token is malformed, altered, made for another purpose, or too old."""


@dataclass(frozen=True)
class Unsubscribe:
    user_id: int
    channel: str  # "email": this kind's emails; "digest": the digest
    kind: str  # "" for a digest


@dataclass(frozen=True)
class ReadToken:
    user_id: int
    notification_id: int


def unsubscribe_signer() -> signing.Signer:
    """Made once for a batch of emails: `.sign_object([user_id, channel, kind])`."""
    return signing.Signer(salt=UNSUBSCRIBE_SALT)


def read_signer() -> signing.TimestampSigner:
    """Made once for a batch of emails: `.sign_object([user_id, notification_id])`."""
    return signing.TimestampSigner(salt=READ_SALT)


def unsubscribe_token(user_id: int, kind: str, channel: str = "email") -> str:
    """Never expires: RFC 8058 asks that an unsubscribe link keep working. (Not compressed: a
    payload this short never gets shorter; tokens made compressed are still read.)"""
    return unsubscribe_signer().sign_object([user_id, channel, kind])


def read_token(user_id: int, notification_id: int) -> str:
    return read_signer().sign_object([user_id, notification_id])


def read_unsubscribe(token: str) -> Unsubscribe:
    value = _load(unsubscribe_signer(), token)
    match value:
        case [int() as user_id, "email" | "digest" as channel, str() as kind]:
            return Unsubscribe(user_id, channel, kind)
    raise BadToken


def read_read(token: str) -> ReadToken:
    max_age = inbox_setting("MAIL_READ_TOKEN_DAYS") * 24 * 3600
    value = _load(read_signer(), token, max_age=max_age)
    match value:
        case [int() as user_id, int() as notification_id]:
            return ReadToken(user_id, notification_id)
    raise BadToken


def _load(signer, token, **kwargs):
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_LENGTH:
        raise BadToken
    try:
        return signer.unsign_object(token, **kwargs)
    except (signing.BadSignature, ValueError, UnicodeError):  # ValueError: signed but not JSON
        raise BadToken from None
