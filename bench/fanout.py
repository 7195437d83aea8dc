"""Fan-out: the wall time of one inbox.api.notify() call for N recipients, on the bench SQLite file.

    python -m bench.fanout      (after bench.seed)

Three ways to name the recipients, as the API allows:
  queryset  User.objects.filter(is_active=True, id range of N users)
  group     Group "fan-N" (its active members)
  list      a Python list of N User objects, loaded before the clock starts
Median of 3 runs per (path, N); before each run the previous fan-out's message and recipient rows
are deleted and the WAL is checkpointed, so every run starts from the same state.
Writes results/fanout.json.

Then preference routing (issue 9), 100,000 recipients (queryset), writes results/routing.json:
  before kinds   the statement notify() ran before kinds and preferences (no routing clause), alone:
                 without the message's on-commit hand-over to the channels that notify() does
  no clause      notify(kind="announcement"): its inbox cannot be turned off, so no clause
  no overrides   notify(kind="build.finished") with an empty preference table
  routed         the same with 210,000 preference rows: every 10th user turned the kind's inbox
                 off, everyone turned its push on and general's email on (90,000 rows are written)
  push select    recipients_for(message, "push") read to a list, over the 90,000 routed rows
Goal: routed within 2x of before kinds. `python -m bench.fanout routing` runs only this part.
"""

from __future__ import annotations

import statistics
import sys
import time

from .common import count_queries, save, setup_django

SIZES = (1_000, 10_000, 100_000)
PATHS = ("queryset", "group", "list")
REPS = 3
TEXT = "Fan-out benchmark: the deploy starts at 17:00."


def clean() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM inbox_notification "
            "WHERE message_id IN (SELECT id FROM inbox_message WHERE text = %s)",
            [TEXT],
        )
        cursor.execute("DELETE FROM inbox_message WHERE text = %s", [TEXT])
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def recipients(path: str, n: int, fan_ids: list[int]):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    users = get_user_model().objects.filter(is_active=True, pk__gte=fan_ids[0], pk__lte=fan_ids[n - 1])
    if path == "queryset":
        return users
    if path == "group":
        return Group.objects.get(name=f"fan-{n}")
    return list(users.order_by("pk"))


def main() -> None:
    setup_django()
    from django.contrib.auth import get_user_model

    from inbox.api import notify
    from inbox.models import Notification

    fan_ids = list(
        get_user_model()
        .objects.filter(username__startswith="fan")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert len(fan_ids) >= max(SIZES)
    out = {}
    for path in PATHS:
        for n in SIZES:
            runs = []
            for _ in range(REPS):
                clean()
                targets = recipients(path, n, fan_ids)
                with count_queries() as counts:
                    started = time.perf_counter()
                    sent = notify(targets, TEXT, level="warning")
                    seconds = time.perf_counter() - started
                assert sent.count == n, (path, n, sent.count)
                assert Notification.objects.filter(message=sent.message).count() == n
                runs.append({"seconds": seconds, "by_verb": dict(counts)})
            median = statistics.median(r["seconds"] for r in runs)
            out[f"{path}_{n}"] = {
                "path": path,
                "n": n,
                "median_s": median,
                "runs_s": [r["seconds"] for r in runs],
                "queries": sum(runs[-1]["by_verb"].values()),
                "by_verb": runs[-1]["by_verb"],
            }
            print(f"  notify() {path:<9}{n:>8,}: {median:8.3f} s  {runs[-1]['by_verb']}")
    clean()
    save("fanout", out)
    save("routing", routing())


ROUTING_N = 100_000
OPT_OUT_EVERY = 10  # every 10th user turned the kind's inbox off
# The demo's builds: inbox optional, push off by default (so push selects with EXISTS), and no email by
# default (so notify() runs no "has no email address" count: only routing is measured).
KIND = "build.finished"


def fan_user_ids() -> list[int]:
    from django.contrib.auth import get_user_model

    return list(
        get_user_model()
        .objects.filter(username__startswith="fan")
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def fanout_before_kinds(users, text: str) -> int:
    """notify()'s write as it was before kinds: the message, then one INSERT ... SELECT of every
    recipient, with no preference clause (kept here to compare with)."""
    from django.db import connection, transaction

    from inbox.models import Message, Notification

    qn = connection.ops.quote_name
    with transaction.atomic():
        message = Message.objects.create(text=text, level="warning")
        ids_sql, ids_params = users.order_by().values("pk").query.sql_with_params()
        columns = ", ".join(
            qn(Notification._meta.get_field(name).column) for name in ("recipient", "message", "created")
        )
        sql = (
            f"INSERT INTO {qn(Notification._meta.db_table)} ({columns}) "
            f"SELECT {qn('id')}, %s, %s FROM {qn(users.model._meta.db_table)} WHERE {qn('id')} IN ({ids_sql})"
        )
        created = connection.ops.adapt_datetimefield_value(message.created)
        with connection.cursor() as cursor:
            cursor.execute(sql, [message.pk, created, *ids_params])
            return cursor.rowcount


def set_preferences(fan_ids: list[int], on: bool) -> int:
    """Fill (or empty) the preference table for the fan users, in the database."""
    from django.db import connection

    from inbox.models import Preference

    Preference.objects.all().delete()
    if not on:
        return 0
    low, high = fan_ids[0], fan_ids[-1]
    with connection.cursor() as cursor:
        for kind, channel, enabled, every in (
            (KIND, "inbox", False, OPT_OUT_EVERY),
            (KIND, "push", True, 1),
            ("general", "email", True, 1),
        ):
            cursor.execute(
                "INSERT INTO inbox_preference (user_id, kind, channel, enabled) "
                "SELECT id, %s, %s, %s FROM auth_user WHERE id BETWEEN %s AND %s AND id %% %s = 0",
                [kind, channel, enabled, low, high, every],
            )
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Preference.objects.count()


def routing() -> dict:
    """Preference routing inside notify() beside the fan-out without it (see the module's doc)."""
    from django.contrib.auth import get_user_model

    from inbox.api import notify
    from inbox.recipients import recipients_for

    fan_ids = fan_user_ids()
    assert len(fan_ids) >= ROUTING_N
    users = get_user_model().objects.filter(
        is_active=True, pk__gte=fan_ids[0], pk__lte=fan_ids[ROUTING_N - 1]
    )
    ids = fan_ids[:ROUTING_N]
    opted_out = sum(1 for pk in ids if pk % OPT_OUT_EVERY == 0)
    variants = (
        ("before_kinds", False, lambda: fanout_before_kinds(users, TEXT), ROUTING_N),
        (
            "no_clause",
            False,
            lambda: notify(users, TEXT, level="warning", kind="announcement").count,
            ROUTING_N,
        ),
        (
            "no_overrides",
            False,
            lambda: notify(users, TEXT, level="warning", kind=KIND).count,
            ROUTING_N,
        ),
        (
            "routed",
            True,
            lambda: notify(users, TEXT, level="warning", kind=KIND).count,
            ROUTING_N - opted_out,
        ),
    )
    out = {}
    for name, with_preferences, send, expected in variants:
        rows = set_preferences(fan_ids, with_preferences)
        runs = []
        for _ in range(REPS):
            clean()
            with count_queries() as counts:
                started = time.perf_counter()
                count = send()
                seconds = time.perf_counter() - started
            assert count == expected, (name, count, expected)
            runs.append({"seconds": seconds, "by_verb": dict(counts)})
        median = statistics.median(r["seconds"] for r in runs)
        out[name] = {
            "n": ROUTING_N,
            "written": expected,
            "preference_rows": rows,
            "median_s": median,
            "runs_s": [r["seconds"] for r in runs],
            "queries": sum(runs[-1]["by_verb"].values()),
            "by_verb": runs[-1]["by_verb"],
        }
        print(
            f"  routing {name:<13}{ROUTING_N:>8,}: {median:8.3f} s  {expected:,} rows  {runs[-1]['by_verb']}"
        )

    # The push and email channels' selection through the same clause, over the routed message.
    from inbox.models import Message

    message = Message.objects.filter(text=TEXT).latest("id")
    runs = []
    for _ in range(REPS):
        with count_queries() as counts:
            started = time.perf_counter()
            wanted = len(list(recipients_for(message, "push")))
            runs.append(time.perf_counter() - started)
    out["push_select"] = {
        "n": out["routed"]["written"],
        "wanted": wanted,
        "median_s": statistics.median(runs),
        "runs_s": runs,
        "queries": sum(counts.values()),
    }
    print(
        f"  routing push_select  {out['push_select']['n']:>8,}: {out['push_select']['median_s']:8.3f} s  "
        f"{wanted:,} ids"
    )
    set_preferences(fan_ids, False)
    clean()
    return out


if __name__ == "__main__":
    if sys.argv[1:] == ["routing"]:
        setup_django()
        save("routing", routing())
    else:
        main()
