"""A browser's PushSubscription, checked strictly before it is stored: the keys are a P-256 point
and a 16-byte secret in strict base64url, the endpoint passes the endpoint checks."""

from __future__ import annotations

import hmac

from cryptography.hazmat.primitives.asymmetric import ec

from .endpoints import check_endpoint, clean_endpoint
from .keys import KEY_MAX_LENGTH, InvalidSubscription, b64url_bytes, b64url_decode, b64url_encode


def secrets_match(given, stored: str) -> bool:
    """Whether `given` is the same auth secret as `stored`, in constant time (both compared in
    their normalized unpadded form)."""
    if not isinstance(given, str) or len(given) > KEY_MAX_LENGTH:
        given = ""
    given_raw, stored_raw = b64url_decode(given), b64url_decode(stored)
    left = b64url_encode(given_raw) if given_raw else "-"  # never equal to a real secret
    right = b64url_encode(stored_raw) if stored_raw else stored
    return bool(given_raw) & hmac.compare_digest(left.encode(), right.encode())


def clean_subscription(data) -> dict:
    """A PushSubscription's JSON ({"endpoint": ..., "keys": {"p256dh": ..., "auth": ...}})
    as the fields django-webpush stores (keys in unpadded base64url), or InvalidSubscription."""
    if not isinstance(data, dict):
        raise InvalidSubscription("The subscription must be a JSON object.")
    endpoint = clean_endpoint(data.get("endpoint"))
    keys = data.get("keys")
    if not isinstance(keys, dict):
        raise InvalidSubscription("The subscription has no keys.")
    p256dh = b64url_bytes(keys.get("p256dh"), "p256dh", 65)
    try:
        if p256dh[0] != 4:
            raise ValueError
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), p256dh)
    except ValueError:
        raise InvalidSubscription("The p256dh key is not an uncompressed P-256 point.") from None
    auth = b64url_bytes(keys.get("auth"), "auth", 16)
    check_endpoint(endpoint)
    return {"endpoint": endpoint, "p256dh": b64url_encode(p256dh), "auth": b64url_encode(auth)}
