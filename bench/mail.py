"""Email: 10,000 immediate emails to a local SMTP server, Inbox's batched delivery beside Django's
send_mail() called once per user; and digests for 10,000 users with 20 unread each.

    python -m bench.mail      (makes and migrates its own SQLite file, results/mail/mail.sqlite3)

The SMTP server is aiosmtpd in a separate process (its CPU is not taken from the sender's GIL) on
127.0.0.1; it counts connections (EHLO), messages and distinct recipients, and keeps nothing else.

Immediate emails, each path sending 10,000 emails to the same 10,000 addresses:
  send_mail per user  django.core.mail.send_mail(subject, text, from, [address], html_message=html)
                      for each user: a new SMTP connection each (Django's default). The text and
                      HTML are rendered beforehand (untimed), so this path pays only for SMTP.
  send_batch          inbox.mail.sender.send_batch() of the same prepared emails, 200 per connection
                      (INBOX_MAIL_BATCH_SIZE): SMTP and connection reuse alone
  deliver_email       the whole task after notify() to the 10,000 users: the routing query, the
                      split into 50 tasks (run at once), two templates per email, two signed tokens,
                      sending through one connection per batch, receipts every 50 emails
Digests: run_digests() for 10,000 users who each have 20 unread notifications of 4 kinds (a
digest per user: grouped, capped at 20), timed, with its SQL statements counted; then, on 1,000
users, the statements per batch at two batch sizes (the count must not grow with the batch).
A run counts only if the server received exactly one email per user. Writes results/mail/mail.json.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

N = int(os.environ.get("BENCH_MAIL_USERS", "10000"))
UNREAD = 20
MAIL_DIR = Path(__file__).resolve().parent / "results" / "mail"


# ---------------------------------------------------------------- the SMTP server (its own process)


def serve(conn) -> None:
    from aiosmtpd.controller import Controller

    class Counter:
        def __init__(self):
            self.connections = self.messages = 0
            self.recipients: set[str] = set()

        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            self.connections += 1
            session.host_name = hostname
            return responses

        async def handle_DATA(self, server, session, envelope):
            self.messages += 1
            self.recipients.update(envelope.rcpt_tos)
            return "250 OK"

    handler = Counter()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    conn.send(controller.port)
    while True:
        command = conn.recv()
        if command == "stop":
            controller.stop()
            return
        conn.send(
            {
                "connections": handler.connections,
                "messages": handler.messages,
                "recipients": len(handler.recipients),
            }
        )
        if command == "reset":
            handler.__init__()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self):
        self.conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("spawn").Process(target=serve, args=(child,), daemon=True)
        self.process.start()
        self.port = self.conn.recv()

    def take(self) -> dict:
        """The counts since the last take, then zero them."""
        self.conn.send("reset")
        return self.conn.recv()

    def stop(self) -> None:
        self.conn.send("stop")
        self.process.join(10)


# ---------------------------------------------------------------- the measurements


def timed(func) -> tuple[float, object]:
    started = time.perf_counter()
    result = func()
    return time.perf_counter() - started, result


@contextmanager
def quiet():
    """notify() without queueing its emails (tasks run at once here): the untimed set-up."""
    from inbox import delivery
    from inbox.mail.tasks import queue_email

    delivery.unregister("email")
    try:
        yield
    finally:
        delivery.register("email", queue_email)


def check(path: str, counts: dict, expected: int) -> None:
    if counts["messages"] != expected or counts["recipients"] != expected:
        raise SystemExit(f"{path}: the server received {counts}, not {expected} emails to {expected} users")


def immediate(server: Server, users) -> list[dict]:
    from django.core.mail import send_mail

    from inbox.api import notify
    from inbox.mail.compose import Item, notification_email
    from inbox.mail.sender import send_batch
    from inbox.mail.tasks import deliver_email
    from inbox.models import Message

    from .common import count_queries

    sample = Message(text="Bob mentioned you in the release notes", kind="mention", url="/docs/42/")
    prepared = [
        (
            u.pk,
            notification_email(
                u.pk, u.email, Item(i, sample.text, sample.url, "info", "mention", sample.created)
            ),
        )
        for i, u in enumerate(users, 1)
    ]
    rows = []

    def row(path, seconds, counts, queries=None):
        check(path, counts, len(users))
        rows.append(
            {
                "path": path,
                "emails": counts["messages"],
                "connections": counts["connections"],
                "seconds": round(seconds, 2),
                "emails_per_s": round(counts["messages"] / seconds),
                "queries": queries,
            }
        )
        print(
            f"  {path:<18} {counts['messages']:>6} emails  {counts['connections']:>6} connections  "
            f"{seconds:7.2f} s  {counts['messages'] / seconds:7.0f}/s",
            flush=True,
        )

    server.take()

    def per_user():
        for _, email in prepared:
            send_mail(
                email.subject,
                email.body,
                email.from_email,
                email.to,
                html_message=email.alternatives[0].content,
            )

    seconds, _ = timed(per_user)
    row("send_mail per user", seconds, server.take())

    batch = 200
    seconds, _ = timed(lambda: [send_batch(prepared[i : i + batch]) for i in range(0, len(prepared), batch)])
    row("send_batch", seconds, server.take())

    with quiet():  # the timed call below is the task's body
        sent = notify(users, sample.text, url=sample.url, kind="mention")
    with count_queries() as queries:
        seconds, _ = timed(lambda: deliver_email.call(sent.message.pk))
    row("deliver_email", seconds, server.take(), sum(queries.values()))
    return rows


def digests(server: Server, users) -> dict:
    from django.db import connection
    from django.test import override_settings
    from django.utils import timezone

    from inbox.api import notify
    from inbox.mail.digests import run_digests
    from inbox.models import Notification
    from inbox.preferences import DigestSetting

    from .common import count_queries

    Notification.objects.update(read_at=timezone.now())  # the immediate emails' rows: read
    kinds = ("mention", "build.finished", "announcement", "general")
    with quiet():
        for i in range(UNREAD):
            notify(users, f"Digest item {i}", kind=kinds[i % len(kinds)])
    past = timezone.now() - timedelta(minutes=1)
    DigestSetting.objects.bulk_create(
        [
            DigestSetting(user=u, frequency="daily", hour=8, timezone="Europe/Paris", next_due_at=past)
            for u in users
        ],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    server.take()
    with count_queries() as queries:
        seconds, counts = timed(run_digests)
    received = server.take()
    check("digests", received, len(users))
    total = sum(queries.values())
    result = {
        "users": len(users),
        "unread_each": UNREAD,
        "seconds": round(seconds, 2),
        "queries": total,
        "batches": counts["batches"],
        "queries_per_batch": round(total / counts["batches"], 2),  # with the run's last, empty claim
        "connections": received["connections"],
        "run": counts,
    }
    print(
        f"  digests: {len(users)} users x {UNREAD} unread: {seconds:.2f} s, {total} queries in "
        f"{counts['batches']} batches, {received['connections']} connections",
        flush=True,
    )

    # A run ends with one claim that finds nobody due: measured alone, then left out per batch.
    with count_queries() as idle:
        run_digests()
    ending = sum(idle.values())
    per_batch = {}
    subset = [u.pk for u in users[:1000]]
    for size in (50, 500):
        DigestSetting.objects.filter(user_id__in=subset).update(
            next_due_at=past, last_cursor_created=None, last_cursor_id=None
        )
        with override_settings(INBOX_DIGEST_BATCH_SIZE=size), count_queries() as queries:
            counts = run_digests()
        server.take()
        per_batch[size] = round((sum(queries.values()) - ending) / counts["batches"], 2)
    result["queries_per_batch_by_size"] = per_batch
    print(f"  statements per batch on 1,000 users: {per_batch}", flush=True)
    return result


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.mail_settings"
    MAIL_DIR.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{MAIL_DIR / 'mail.sqlite3'}{suffix}").unlink(missing_ok=True)
    server = Server()
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command

    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": server.port, "timeout": 30},
        }
    }
    logging.getLogger("inbox.mail").setLevel(logging.ERROR)
    logging.getLogger("django.tasks").setLevel(logging.WARNING)  # ImmediateBackend logs every task
    call_command("migrate", verbosity=0)
    try:
        User.objects.bulk_create(
            (User(username=f"user{i:05d}", email=f"user{i:05d}@example.com") for i in range(N)),
            batch_size=2000,
        )
        users = list(User.objects.order_by("pk"))
        immediate_rows = immediate(server, users)
        digest = digests(server, users)
    finally:
        server.stop()
    baseline = immediate_rows[0]["seconds"]
    results = {"immediate": immediate_rows, "digests": digest}
    (MAIL_DIR / "mail.json").write_text(json.dumps(results, indent=2))
    lines = [
        "",
        f"Email: {N:,} immediate emails to a local SMTP server (aiosmtpd, its own process)",
        f"{'path':<20}{'connections':>12}{'seconds':>10}{'emails/s':>10}{'speed-up':>10}{'SQL':>6}",
    ]
    for r in immediate_rows:
        lines.append(
            f"{r['path']:<20}{r['connections']:>12}{r['seconds']:>10.2f}{r['emails_per_s']:>10}"
            f"{baseline / r['seconds']:>9.1f}x{r['queries'] if r['queries'] is not None else '':>6}"
        )
    lines += [
        "",
        f"Digests: {digest['users']:,} users x {digest['unread_each']} unread: {digest['seconds']:.2f} s "
        f"(goal < 30 s), {digest['queries']} SQL statements in {digest['batches']} batches "
        f"({digest['queries_per_batch']} per batch), {digest['connections']} SMTP connections",
        "SQL statements per batch, 1,000 users, by batch size: "
        + ", ".join(f"{size} users: {n}" for size, n in digest["queries_per_batch_by_size"].items()),
    ]
    summary = "\n".join(lines)
    print(summary)
    (MAIL_DIR / "summary.txt").write_text(summary + "\n")


if __name__ == "__main__":
    main()
