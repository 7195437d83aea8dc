"""Fan-out: the wall time of one inbox.api.notify() call for N recipients, on the bench SQLite file.

    python -m bench.fanout      (after bench.seed)

Three ways to name the recipients, as the API allows:
  queryset  User.objects.filter(is_active=True, id range of N users)
  group     Group "fan-N" (its active members)
  list      a Python list of N User objects, loaded before the clock starts
Median of 3 runs per (path, N); before each run the previous fan-out's message and recipient rows
are deleted and the WAL is checkpointed, so every run starts from the same state.
Writes results/fanout.json.
"""

from __future__ import annotations

import statistics
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


if __name__ == "__main__":
    main()
