"""Base64url and VAPID keys, the push package's shared vocabulary (no Django models here: the
test settings import it before Django is set up)."""

from __future__ import annotations

import base64
import binascii
import re

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from py_vapid import Vapid

BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}", re.ASCII)
KEY_MAX_LENGTH = 100  # django-webpush's p256dh and auth columns


class InvalidSubscription(ValueError):
    """The subscription cannot be stored or used; the message says why."""


def vapid_public_key() -> str:
    """The site's VAPID public key, which the page subscribes with ("" when push is not set up)."""
    return getattr(settings, "WEBPUSH_SETTINGS", {}).get("VAPID_PUBLIC_KEY", "")


def push_configured() -> bool:
    keys = getattr(settings, "WEBPUSH_SETTINGS", {})
    return bool(keys.get("VAPID_PUBLIC_KEY") and keys.get("VAPID_PRIVATE_KEY"))


def b64url_decode(value: str) -> bytes | None:
    """Strict base64url: only A-Z a-z 0-9 - _ with optional correct '=' padding, else None
    (the standard decoder silently skips characters outside the alphabet)."""
    if not isinstance(value, str) or not BASE64URL.fullmatch(value):
        return None
    if "=" in value and len(value) % 4:
        return None
    data = value.rstrip("=")
    try:
        return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        return None


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_bytes(value, name: str, length: int) -> bytes:
    if not isinstance(value, str) or not value:
        raise InvalidSubscription(f"The subscription has no {name} key.")
    if len(value) > KEY_MAX_LENGTH:
        raise InvalidSubscription(f"The {name} key is longer than {KEY_MAX_LENGTH} characters.")
    raw = b64url_decode(value)
    if raw is None:
        raise InvalidSubscription(f"The {name} key is not base64url (A-Z, a-z, 0-9, - and _ only).")
    if len(raw) != length:
        raise InvalidSubscription(f"The {name} key must be {length} bytes, not {len(raw)}.")
    return raw


def new_key_pair() -> dict:
    """A P-256 key pair as Web Push wants them: the private number and the uncompressed public
    point, both base64url without padding, under the names WEBPUSH_SETTINGS uses."""
    vapid = Vapid()
    vapid.generate_keys()
    private = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    public = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {"VAPID_PUBLIC_KEY": b64url_encode(public), "VAPID_PRIVATE_KEY": b64url_encode(private)}
