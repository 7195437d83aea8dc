"""The demo site's login hint: which of seed_demo's logins still work."""

from __future__ import annotations

from functools import lru_cache

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password

from inbox.management.commands.seed_demo import PASSWORD, USERS

__all__ = ["demo_logins"]


def demo_logins() -> list[dict]:
    """The active demo users whose password is still the demo one, in seed_demo's order.

    Called by the login template only (a callable in the context), so no other page pays for
    it: one query, and each stored hash is checked once per process (a changed password is a
    new hash, so the answer never goes stale)."""
    roles = {username: role for username, role, *_ in USERS}
    stored = dict(
        get_user_model()
        ._default_manager.filter(username__in=roles, is_active=True)
        .values_list("username", "password")
    )
    return [
        {"username": username, "password": PASSWORD, "role": role}
        for username, role in roles.items()
        if username in stored and is_demo_password(stored[username])
    ]


@lru_cache(maxsize=32)
def is_demo_password(encoded: str) -> bool:
    return check_password(PASSWORD, encoded)
