"""Whether a socket's session still logs its user in, read through the public API of Django's
session engines and Django's own get_user (synchronous: run in a worker thread).

A database engine (db, cached_db, or a site's own through the documented get_model_class())
is read as its session model, one row with its data and its end. Any other engine (cache, file,
signed cookies) is asked to load() the key: a session that is gone, has expired or whose cookie
no longer verifies loads as nothing."""

from __future__ import annotations

from importlib import import_module
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import get_user, get_user_model
from django.utils import timezone

__all__ = [
    "live_sessions",
    "login_fingerprint",
    "login_fingerprints",
    "session_expiry",
    "session_user",
]

BATCH = 1000  # keys or user ids per query (bound parameters are limited)


class CheckedSession(dict):
    """A session's data as get_user() reads it. Its flush(), when the data no longer verifies,
    ends the session as a request would; its cycle_key(), when the data verified with a key of
    SECRET_KEY_FALLBACKS, keeps the key: a socket cannot give its browser the new cookie, so
    cycling the key here would log the browser out. Its next request cycles it."""

    def __init__(self, data, store):
        super().__init__(data)
        self.store = store

    def flush(self) -> None:
        self.clear()
        self.store.delete()

    def cycle_key(self) -> None:
        pass


def _engine():
    return import_module(settings.SESSION_ENGINE).SessionStore


def _session_model(engine):
    """The session model of a database-backed engine (its documented hook), else None."""
    get_model_class = getattr(engine, "get_model_class", None)
    return get_model_class() if get_model_class is not None else None


def _read(session_key: str):
    """(CheckedSession, when it ends), or None if the session is gone or has expired: one read
    (a database session's end is its row's)."""
    engine = _engine()
    store = engine(session_key)
    if store.session_key is None:  # not a key this engine could have made
        return None
    model = _session_model(engine)
    if model is not None:
        row = model.objects.filter(session_key=store.session_key, expire_date__gt=timezone.now()).first()
        if row is None:
            return None
        return CheckedSession(row.get_decoded(), store), row.expire_date
    data = dict(store.items())  # loaded once, by the store, which then answers its expiry
    return (CheckedSession(data, store), store.get_expiry_date()) if data else None


def session_user(session_key: str):
    """(user id, when the session ends, the user's login_fingerprint) if the session logs a user
    in now, else None: the session read once, the user checked by Django's get_user (the
    backend, an inactive user, the session's auth hash: a password changed since logs it out)."""
    found = _read(session_key)
    if found is None:
        return None
    session, expiry = found
    if expiry <= timezone.now():
        return None
    user = get_user(SimpleNamespace(session=session))  # all it reads of a request
    return (user.pk, expiry, login_fingerprint(user)) if user.is_authenticated else None


def session_expiry(session_key: str, user_id: int):
    """(when the session ends, the user's login_fingerprint), or None if it no longer logs in
    `user_id` (gone, expired, another user, inactive, or a password changed since). Reads the
    session afresh."""
    found = session_user(session_key)
    return found[1:] if found is not None and found[0] == user_id else None


def _batches(ids):
    ids = sorted(ids)
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def _loads(store) -> bool:
    """Whether the store's key is one it could have made and loads data (not gone, expired or
    forged)."""
    return store.session_key is not None and bool(store.load())


def live_sessions(session_keys) -> set[str]:
    """The keys among `session_keys` of sessions that exist and have not expired. Database
    engines: one query per BATCH keys. Other engines load each key (a cache or file read, a
    signed cookie's check; no query)."""
    engine = _engine()
    model = _session_model(engine)
    if model is None:
        return {key for key in session_keys if _loads(engine(key))}
    live = set()
    for batch in _batches(set(session_keys)):
        found = model.objects.filter(session_key__in=batch, expire_date__gt=timezone.now())
        live.update(found.values_list("session_key", flat=True))
    return live


def login_fingerprint(user) -> int:
    """What of a user decides whether their sessions still log in: the password (the session's
    auth hash derives from it) and the active flag. Kept per socket; a change makes the socket's
    session be checked in full (Django's get_user)."""
    return hash((user.password, getattr(user, "is_active", True)))


def login_fingerprints(user_ids) -> dict[int, int]:
    """{user id: login_fingerprint} of the users among `user_ids` that still exist: one query
    per BATCH users."""
    users = get_user_model()._default_manager
    return {
        user.pk: login_fingerprint(user)
        for batch in _batches(user_ids)
        for user in users.filter(pk__in=batch)
    }
