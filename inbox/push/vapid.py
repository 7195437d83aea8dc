"""VAPID (RFC 8292): one signed JWT per push service origin, reused until shortly before it
expires. A push service checks the token's signature, audience (its origin) and expiry, nothing
that changes from one push to the next, so signing one per push only spends an ECDSA signature
(as much CPU as a push's own encryption) for nothing."""

from __future__ import annotations

import threading
import time
from functools import lru_cache

from py_vapid import Vapid

__all__ = ["LIFETIME", "RENEW_BEFORE", "VapidSigner", "signer"]

LIFETIME = 12 * 3600  # pywebpush's own choice; RFC 8292 allows at most 24 hours
RENEW_BEFORE = 3600  # a token is not sent in its last hour: pushes in flight, clocks that differ
MAX_ORIGINS = 256  # endpoints come from browsers: a few push services, but a bound all the same


def now() -> float:
    """The clock the tokens' expiry is counted on (a module function, so a test can move it)."""
    return time.time()


class VapidSigner:
    """The Authorization header for each origin, signed once per LIFETIME. Thread-safe."""

    def __init__(self, private_key: str, subject: str):
        self.vapid = Vapid.from_string(private_key)
        self.subject = subject  # "mailto:..." or "https://..."
        self.tokens: dict[str, tuple[str, int]] = {}  # origin -> (Authorization, exp)
        self.signatures = 0  # how many tokens were signed (tests, the benchmark)
        self.lock = threading.Lock()

    def authorization(self, origin: str) -> str:
        """The Authorization header for a push to `origin` ("https://push.example.net")."""
        moment = now()
        with self.lock:
            token = self.tokens.get(origin)
            if token is None or token[1] - moment < RENEW_BEFORE:
                if len(self.tokens) >= MAX_ORIGINS:
                    self.tokens.clear()  # rare: dropping them only costs one signature per origin
                exp = int(moment) + LIFETIME
                claims = {"aud": origin, "exp": exp, "sub": self.subject}
                token = self.tokens[origin] = (self.vapid.sign(claims)["Authorization"], exp)
                self.signatures += 1
        return token[0]


@lru_cache(maxsize=4)  # one per key pair and contact: a worker keeps its tokens between tasks
def signer(private_key: str, subject: str) -> VapidSigner:
    return VapidSigner(private_key, subject)
