"""The Django side of the socket benchmark (bench/sockets.py), in a process of its own, as the
command line or the task worker would be:

    python -m bench.sockets_send seed N    users ws00000.. with sessions -> results/sockets/users.tsv
    python -m bench.sockets_send serve     one notify() per line read from stdin:
        "one <user id> <text>"  -> notify(that user)
        "all <text>"            -> notify(every ws* user: a broadcast)
        "burst <users> <count> <marker>"  -> bench/sockets_burst.py: `count` notify() calls round
                                   robin over the first `users` users, their real-time events
                                   held back, then all published at once (t0, t1: the publishing)
      and answers "<t0> <t1> <count>": time.monotonic() just before notify() and once it returned
      (committed, its real-time event published). Linux's monotonic clock is the same in every
      process, so the load client compares it with a frame's arrival.

DJANGO_SETTINGS_MODULE=bench.sockets_settings (and REDIS_URL for the layer transport).
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta

from .common import setup_django
from .sockets_common import SOCKETS_RESULTS, USERS_FILE

PREFIX = "ws"
SEED_MESSAGES = 3  # each user's list: 3 notifications, the newest one unread


def seed(count: int) -> None:
    """`count` users, each logged in by a session row written with the session engine's own
    encode (no login per user), each with SEED_MESSAGES notifications."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
        load_backend,
    )
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from inbox.api import notify
    from inbox.models import Notification

    started = time.perf_counter()
    user_model = get_user_model()
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    session_model = store_class.get_model_class()
    unusable = make_password(None)  # nobody logs in with a password here
    with transaction.atomic():
        user_model.objects.bulk_create(
            (user_model(username=f"{PREFIX}{i:05d}", password=unusable) for i in range(count)),
            batch_size=2000,
        )
        users = list(user_model.objects.filter(username__startswith=PREFIX).order_by("pk"))
        expiry = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
        backend = next(  # as Client.force_login picks it: the first backend that can load a user
            path for path in settings.AUTHENTICATION_BACKENDS if hasattr(load_backend(path), "get_user")
        )
        keys, sessions = {}, []
        for user in users:
            key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
            data = {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: backend,
                HASH_SESSION_KEY: user.get_session_auth_hash(),
            }
            sessions.append(
                session_model(session_key=key, session_data=store_class().encode(data), expire_date=expiry)
            )
            keys[user.pk] = key
        session_model.objects.bulk_create(sessions, batch_size=2000)
    everyone = user_model.objects.filter(username__startswith=PREFIX)
    for i in range(SEED_MESSAGES):
        notify(everyone, f"Seeded notification {i + 1} of {SEED_MESSAGES} for the socket benchmark.")
    newest = {}
    rows = Notification.objects.filter(recipient__username__startswith=PREFIX).order_by("created", "pk")
    shown: dict[int, list[int]] = {}
    for n in rows.only("pk", "recipient_id", "created"):
        newest[n.recipient_id] = n.cursor
        shown.setdefault(n.recipient_id, []).append(n.pk)
    Notification.objects.filter(
        pk__in=[ids[0] for ids in shown.values()] + [ids[1] for ids in shown.values()]
    ).update(read_at=timezone.now())
    SOCKETS_RESULTS.mkdir(parents=True, exist_ok=True)
    USERS_FILE.write_text(
        "".join(
            f"{user.pk}\t{keys[user.pk]}\t{newest[user.pk]}\t{','.join(map(str, shown[user.pk]))}\n"
            for user in users
        )
    )
    print(
        f"  seeded {len(users):,} users with sessions and {SEED_MESSAGES} notifications each in "
        f"{time.perf_counter() - started:.1f} s"
    )


def burst(everyone, sockets: int, count: int, marker: str) -> tuple[float, float, int]:
    """`count` notifications, one each, round robin over the first `sockets` users (the last one
    of each user's share marked "<marker>-end"), their real-time events held back; then those
    events published as fast as a loop of notify() calls would, in transactions of 1,000."""
    from django.db import transaction

    from inbox.api import notify
    from inbox.realtime import events

    ids = list(everyone.order_by("pk").values_list("pk", flat=True)[:sockets])
    held: list[dict] = []
    publish = events.publish
    events.publish = held.append  # the sent() events wait here
    try:
        for i in range(count):
            end = "-end" if i >= count - len(ids) else ""
            notify(everyone.filter(pk=ids[i % len(ids)]), f"Burst {marker}{end} {i}")
    finally:
        events.publish = publish
    t0 = time.monotonic()
    for start in range(0, len(held), 1000):
        with transaction.atomic():
            for event in held[start : start + 1000]:
                publish(event)
    return t0, time.monotonic(), len(held)


def serve() -> None:
    from django.contrib.auth import get_user_model

    from inbox.api import notify

    users = get_user_model().objects
    everyone = users.filter(username__startswith=PREFIX)
    print("ready", flush=True)
    for line in sys.stdin:
        kind, _, rest = line.rstrip("\n").partition(" ")
        if kind == "one":
            user_id, _, text = rest.partition(" ")
            recipients = users.filter(pk=int(user_id))
        elif kind == "all":
            text, recipients = rest, everyone
        elif kind == "burst":
            sockets, count, marker = rest.split()
            t0, t1, published = burst(everyone, int(sockets), int(count), marker)
            print(f"{t0:.6f} {t1:.6f} {published}", flush=True)
            continue
        else:
            print(f"error unknown command {kind!r}", flush=True)
            continue
        t0 = time.monotonic()
        sent = notify(recipients, text)
        t1 = time.monotonic()
        print(f"{t0:.6f} {t1:.6f} {sent.count}", flush=True)


if __name__ == "__main__":
    setup_django()
    if sys.argv[1:2] == ["seed"]:
        seed(int(sys.argv[2]))
    elif sys.argv[1:2] == ["serve"]:
        serve()
    else:
        sys.exit("usage: python -m bench.sockets_send seed N | serve")
