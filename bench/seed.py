"""Fill the freshly migrated bench database and log the measured users in.

    python -m bench.seed      (DJANGO_SETTINGS_MODULE=bench.settings; run.sh migrates first)

Users:
  reader   10,000 notifications, 5,000 unread (interleaved in time): the badge, like the anchor
  big     100,000 notifications, 50,000 unread: the dashboard deep in a long list
  small       100 notifications, 50 unread: the same dashboard pages for a short list
  fan*    100,000 users, the fan-out recipients; groups fan-1000, fan-10000, fan-100000
Every notification is one of 100,000 messages (message i, i seconds old, goes to each user
whose list is longer than i), so the lists share content as broadcasts do.

Writes results/seed.json and results/endpoints.tsv (name, Cookie header, path, a string that the
logged-in, populated response must contain), which run.sh loads with wrk. The Cookie header is what
a browser sends once it has shown one page: the session and the CSRF cookie (without the latter,
every page that shows a form would make a new CSRF secret and set the cookie again).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from .common import RESULTS, save, setup_django

BASE_TS = datetime(2026, 1, 1, tzinfo=UTC)
FAN_USERS = 100_000
GROUP_SIZES = (1_000, 10_000, 100_000)
LIST_SIZES = {"reader": 10_000, "big": 100_000, "small": 100}  # half of each unread
DEEP_ROWS = {"big": 90_000, "small": 80}  # "load more" cursor this many rows into the list
BATCH = 5_000


def seed() -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection, transaction
    from django.test import Client

    from inbox.models import Message, Notification

    user_model = get_user_model()
    started = time.perf_counter()
    with transaction.atomic():
        users = {name: user_model(username=name) for name in LIST_SIZES}
        user_model.objects.bulk_create(users.values())
        user_model.objects.bulk_create(
            (user_model(username=f"fan{i:06d}") for i in range(FAN_USERS)), batch_size=BATCH
        )
        fan_ids = list(
            user_model.objects.filter(username__startswith="fan").order_by("pk").values_list("pk", flat=True)
        )
        membership = user_model.groups.through
        for size in GROUP_SIZES:
            group = Group.objects.create(name=f"fan-{size}")
            membership.objects.bulk_create(
                (membership(user_id=pk, group_id=group.pk) for pk in fan_ids[:size]), batch_size=BATCH
            )

        levels = ["info", "success", "warning", "error"]
        Message.objects.bulk_create(
            (
                Message(
                    text=f"Build {i} finished: {levels[i % 4]} report for the nightly run.",
                    url=f"/builds/{i}/" if i % 3 == 0 else "",
                    level=levels[i % 4],
                    created=BASE_TS - timedelta(seconds=i),
                )
                for i in range(max(LIST_SIZES.values()))
            ),
            batch_size=BATCH,
        )
        # Message i has id i + 1 (a fresh table), so the newest n messages are id <= n; odd ids
        # (every other row in time) stay unread. The database copies them, like a fan-out would,
        # with the message's expiry (Notification.expires_at; NULL here, as no message expires).
        read_at = connection.ops.adapt_datetimefield_value(BASE_TS)
        with connection.cursor() as cursor:
            for name, size in LIST_SIZES.items():
                cursor.execute(
                    "INSERT INTO inbox_notification (recipient_id, message_id, created, read_at, expires_at) "
                    "SELECT %s, id, created, CASE WHEN id %% 2 = 1 THEN NULL ELSE %s END, expires_at "
                    "FROM inbox_message WHERE id <= %s",
                    [users[name].pk, read_at, size],
                )

    if connection.vendor == "postgresql":
        # What autovacuum does after a bulk load, before the bench measures: without the table's
        # statistics PostgreSQL sorts a whole unread list instead of reading the unread index.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    for name, size in LIST_SIZES.items():
        rows = Notification.objects.for_user(users[name])
        assert rows.count() == size, (name, rows.count())
        assert rows.unread().count() == size // 2, (name, rows.unread().count())

    sessions, endpoints, cursors = {}, [], {}
    for name, user in users.items():
        client = Client()
        client.force_login(user)
        client.get("/inbox/")  # the first page sets the CSRF cookie, as in a browser
        sessions[name] = "; ".join(f"{key}={client.cookies[key].value}" for key in ("sessionid", "csrftoken"))

    def nth(name: str, n: int, unread: bool = False) -> Notification:
        rows = Notification.objects.for_user(users[name]).newest_first()
        return (rows.unread() if unread else rows)[n]

    endpoints.append(("badge", sessions["reader"], "/inbox/badge/", "99+ unread"))
    endpoints.append(("trivial", sessions["reader"], "/bench/trivial/", "ok"))
    for name in ("big", "small"):
        deep = nth(name, DEEP_ROWS[name] - 1)
        cursors[name] = deep.cursor
        first_after = nth(name, DEEP_ROWS[name])
        endpoints += [
            (f"{name}_all", sessions[name], "/inbox/", f'id="notification-{nth(name, 0).pk}"'),
            (
                f"{name}_unread",
                sessions[name],
                "/inbox/?filter=unread",
                f'id="notification-{nth(name, 0, True).pk}"',
            ),
            (
                f"{name}_deep",
                sessions[name],
                f"/inbox/?after={deep.cursor}",
                f'id="notification-{first_after.pk}"',
            ),
        ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "endpoints.tsv").write_text("".join("\t".join(row) + "\n" for row in endpoints))
    data = {
        "seconds": round(time.perf_counter() - started, 2),
        "users": user_model.objects.count(),
        "messages": Message.objects.count(),
        "notifications": Notification.objects.count(),
        "list_sizes": LIST_SIZES,
        "deep_rows": DEEP_ROWS,
        "cursors": cursors,
        "endpoints": [{"name": n, "path": p, "expect": e} for n, _, p, e in endpoints],
    }
    save("seed", data)
    return data


if __name__ == "__main__":
    setup_django()
    result = seed()
    print(
        f"  seeded {result['users']:,} users, {result['messages']:,} messages, "
        f"{result['notifications']:,} notifications in {result['seconds']} s"
    )
