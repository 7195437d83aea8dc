"""A browser's side of Web Push, for tests: a PushSubscription's JSON with real keys."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from inbox.push.keys import b64url_decode, b64url_encode

__all__ = ["b64url_decode", "b64url_encode", "subscription_json"]


def subscription_json(
    endpoint: str, private_key: ec.EllipticCurvePrivateKey | None = None, auth: bytes | None = None
) -> dict:
    """A PushSubscription's JSON for `endpoint`, as a browser would make it: a P-256 public key
    and a 16-byte auth secret (new ones unless given, e.g. by a receiver that decrypts)."""
    private_key = private_key or ec.generate_private_key(ec.SECP256R1())
    point = private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    auth = os.urandom(16) if auth is None else auth
    return {"endpoint": endpoint, "keys": {"p256dh": b64url_encode(point), "auth": b64url_encode(auth)}}
