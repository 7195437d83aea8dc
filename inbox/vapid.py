"""VAPID key pairs for Web Push (no Django here: test settings use it too)."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid
from py_vapid.utils import b64urlencode

__all__ = ["new_key_pair"]


def new_key_pair() -> dict:
    """A P-256 key pair as Web Push wants them: the private number and the uncompressed public
    point, both base64url without padding, under the names WEBPUSH_SETTINGS uses."""
    vapid = Vapid()
    vapid.generate_keys()
    private = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    public = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {"VAPID_PUBLIC_KEY": b64urlencode(public), "VAPID_PRIVATE_KEY": b64urlencode(private)}
