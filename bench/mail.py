"""Email: 10,000 immediate emails to a local SMTP server, Inbox's batched delivery through the site's
email backend beside Django's send_mail() called once per user; and digests for 10,000 users with
20 unread each.

    python -m bench.mail      (makes and migrates its own SQLite file, results/mail/mail.sqlite3)
    BENCH_MAIL_SERVERS=sink   only these servers (plain, starttls, sink; comma-separated)
    BENCH_MAIL_USERS=2000     fewer users (10,000 by default)

The SMTP servers run in separate processes (their CPU is not taken from the sender's GIL) on
127.0.0.1 and count connections, messages and distinct recipients. The immediate emails run three
times: against aiosmtpd with plain SMTP; against aiosmtpd requiring STARTTLS and AUTH before MAIL,
as a submission port (587) does (a self-signed ECDSA certificate made for the run in a temporary
directory; the clients, bench.mail_backends, trust that certificate alone); and against Postfix's
smtp-sink (C, the server Postfix ships for measuring SMTP clients), when it is installed. aiosmtpd
keeps nothing but its counts; smtp-sink appends every message to a dump file, where its recipients
are counted (X-Rcpt-Args), and counts sessions itself (-c). Each server's CPU time is read from
/proc around each path.

Immediate emails, each path sending 10,000 emails to the same 10,000 addresses, all through the
site's default mailer (Django's SMTP backend, MAILERS["default"]):
  send_mail per user  django.core.mail.send_mail(subject, text, from, [address], html_message=html)
                      for each user: a new SMTP connection each (Django's default), its MIME
                      message built by Django. The text and HTML are rendered beforehand
                      (untimed), so this path pays for the MIME message and SMTP only.
  send_batch          inbox.mail.sender.send_batch() of the same emails prepared beforehand
                      (untimed) by compose.notification_emails(), 200 per connection
                      (INBOX_MAIL_BATCH_SIZE): the default path, one connection per batch, each
                      email through the backend's send_messages(), its MIME message built by
                      Django (compose.Email.message())
  deliver_email       the whole task after notify() to the 10,000 users: the routing query, the
                      split into 50 tasks (run at once), the templates rendered once per task and
                      filled in per user, two signed tokens per user, sending through one
                      connection per batch, receipts every 50 emails
The floor, in the same run: Django building each of those MIME messages (message().as_bytes(), as
its SMTP backend does), with no server at all; send_mail per user's time per email divided by it
is the most any client that lets Django build its messages can gain over send_mail per user.
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
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

N = int(os.environ.get("BENCH_MAIL_USERS", "10000"))
UNREAD = 20
PIPELINING = "inbox.mail.backends.PipeliningSMTPBackend"
MAIL_DIR = Path(__file__).resolve().parent / "results" / "mail"


# ---------------------------------------------------------------- the SMTP server (its own process)


def serve(conn, certdir: str | None) -> None:
    """`certdir`: STARTTLS required (with the cert made there) and AUTH PLAIN/LOGIN required,
    as on a submission port (587); None: plain SMTP."""
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Counter:
        def __init__(self):
            self.connections = self.messages = 0
            self.recipients: set[str] = set()

        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            if not certdir or session.ssl:  # with STARTTLS a client says EHLO again after it
                self.connections += 1
            session.host_name = hostname
            return responses

        async def handle_DATA(self, server, session, envelope):
            self.messages += 1
            self.recipients.update(envelope.rcpt_tos)
            return "250 OK"

    logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd logs a deprecation per AUTH

    def authenticate(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"bench", b"secret"))

    handler = Counter()
    secure = {}
    if certdir:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(f"{certdir}/cert.pem", f"{certdir}/key.pem")
        secure = {
            "tls_context": context,
            "require_starttls": True,
            "auth_required": True,
            "auth_require_tls": True,
            "authenticator": authenticate,
        }
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **secure)
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
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_certificate(directory: str) -> None:
    """A self-signed certificate for 127.0.0.1 (ECDSA P-256, one day), made for this run only."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), True)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    Path(directory, "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    Path(directory, "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


class Server:
    def __init__(self, certdir: str | None = None):
        self.conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("spawn").Process(
            target=serve, args=(child, certdir), daemon=True
        )
        self.process.start()
        self.port = self.conn.recv()

    def take(self) -> dict:
        """The counts since the last take, then zero them."""
        self.conn.send("reset")
        return self.conn.recv()

    def stop(self) -> None:
        self.conn.send("stop")
        self.process.join(10)

    def cpu(self) -> float:
        return process_cpu(self.process.pid)


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def smtp_sink() -> str | None:
    """Postfix's smtp-sink, when installed (Debian puts it in /usr/sbin)."""
    found = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    return found if os.access(found, os.X_OK) else None


class Sink:
    """Postfix's smtp-sink on a free port: `-c` writes its counters (sessions, QUITs, messages) to a
    file, `-D` appends each message to a dump file with an X-Rcpt-Args header per recipient; both
    in a temporary directory. As root it must drop to another user (`-u nobody`), who must be able
    to write there."""

    COUNTERS = re.compile(rb"sess=(\d+) quit=(\d+) mesg=(\d+)")

    def __init__(self, binary: str):
        self.directory = tempfile.TemporaryDirectory(prefix="bench-smtp-sink-")
        folder = Path(self.directory.name)
        self.dump, self.counters = folder / "dump", folder / "counters"
        command = [binary, "-c", "-D", str(self.dump)]
        if os.geteuid() == 0:
            os.chown(folder, pwd.getpwnam("nobody").pw_uid, -1)
            command += ["-u", "nobody"]
        self.port = free_port()
        with self.counters.open("wb") as out:  # a file: a pipe nobody reads would stop the server
            self.process = subprocess.Popen([*command, f"127.0.0.1:{self.port}", "256"], stdout=out)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"smtp-sink did not start: {command}") from None
                time.sleep(0.05)
        self.sessions = 0
        self.take()

    def settled(self) -> int:
        """The session counter once it stops moving (a session counts when the server has closed
        it, a moment after the client's QUIT)."""
        last, deadline = None, time.monotonic() + 5
        while True:
            found = self.COUNTERS.findall(self.counters.read_bytes())
            current = int(found[-1][0]) if found else 0
            if current == last or time.monotonic() > deadline:
                return current
            last = current
            time.sleep(0.2)

    def take(self) -> dict:
        """The counts since the last take (messages and distinct recipients from the dump, which
        is then emptied; connections from the counters)."""
        sessions = self.settled()
        dump = self.dump.read_bytes() if self.dump.exists() else b""
        if dump:
            self.dump.write_bytes(b"")  # smtp-sink opens it per message, appending
        lines = dump.split(b"\n")
        counts = {
            "connections": sessions - self.sessions,
            "messages": sum(line.startswith(b"X-Client-Addr:") for line in lines),  # one per message
            "recipients": len({line for line in lines if line.startswith(b"X-Rcpt-Args:")}),
        }
        self.sessions = sessions
        return counts

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self.directory.cleanup()

    def cpu(self) -> float:
        return process_cpu(self.process.pid)


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
        delivery.register("email", queue_email, in_transaction=True)


def check(path: str, counts: dict, expected: int) -> None:
    if counts["messages"] != expected or counts["recipients"] != expected:
        raise SystemExit(f"{path}: the server received {counts}, not {expected} emails to {expected} users")


def immediate(server: Server | Sink, users, floors: list[float], certdir: str | None) -> list[dict]:
    """The paths' rows; `floors` gets the floor of this server's run (seconds per email)."""
    import email.policy as email_policy

    from django.conf import settings
    from django.core.mail import send_mail

    from inbox.api import notify
    from inbox.mail.compose import Item, notification_emails
    from inbox.mail.sender import send_batch
    from inbox.mail.tasks import deliver_email
    from inbox.models import Message

    from .common import count_queries

    sample = Message(text="Bob mentioned you in the release notes", kind="mention", url="/docs/42/")
    item = Item(0, sample.text, sample.url, "info", "mention", sample.created)
    prepared = notification_emails(item, [(u.pk, u.email, i) for i, u in enumerate(users, 1)])
    rows = []

    def row(path, measure, counts, queries=None):
        seconds, server_cpu, client_cpu = measure
        check(path, counts, len(users))
        rows.append(
            {
                "path": path,
                "emails": counts["messages"],
                "connections": counts["connections"],
                "seconds": round(seconds, 2),
                "emails_per_s": round(counts["messages"] / seconds),
                "server_cpu_us_per_email": round(server_cpu / counts["messages"] * 1e6),
                "client_cpu_us_per_email": round(client_cpu / counts["messages"] * 1e6),
                "queries": queries,
            }
        )
        print(
            f"  {path:<22} {counts['messages']:>6} emails  {counts['connections']:>6} connections  "
            f"{seconds:7.2f} s  {counts['messages'] / seconds:7.0f}/s  server CPU "
            f"{server_cpu / counts['messages'] * 1e6:5.0f} us/email  client CPU "
            f"{client_cpu / counts['messages'] * 1e6:5.0f} us/email",
            flush=True,
        )

    def measured(func):
        """(seconds, the server's CPU seconds, this process's CPU seconds) of func(). On a busy
        machine the sender's CPU time per email says more than its wall time."""
        cpu, own = server.cpu(), time.process_time()
        seconds, _ = timed(func)
        return seconds, server.cpu() - cpu, time.process_time() - own

    server.take()

    def per_user():  # Django's send_mail builds the MIME message from the rendered parts
        for _, email in prepared:
            send_mail(
                email.subject,
                email.body,
                email.from_email,
                email.to,
                html_message=email.alternatives[0].content,
            )

    row("send_mail per user", measured(per_user), server.take())

    built = time.perf_counter()
    for _, email in prepared:  # what Django's SMTP backend does before it talks to the server
        email.message(policy=email_policy.SMTP).as_bytes()
    floor = (time.perf_counter() - built) / len(prepared)
    floors.append(floor)
    print(f"  {'floor: message()':<18} {floor * 1e6:7.0f} us/email (Django's MIME message alone)", flush=True)

    batch = 200
    for pipelining, suffix in ((False, ""), (True, " (pipelining)")):
        settings.MAILERS = {"default": mailer(server, certdir, pipelining)}
        batches = [prepared[i : i + batch] for i in range(0, len(prepared), batch)]
        measure = measured(lambda: [send_batch(emails) for emails in batches])  # noqa: B023 - called at once
        row(f"send_batch{suffix}", measure, server.take())

        with quiet():  # the timed call below is the task's body
            sent = notify(users, sample.text, url=sample.url, kind="mention")
        with count_queries() as queries:
            measure = measured(lambda: deliver_email.call(sent.message.pk))  # noqa: B023 - called at once
        row(f"deliver_email{suffix}", measure, server.take(), sum(queries.values()))
    settings.MAILERS = {"default": mailer(server, certdir)}
    return rows


def digests(server: Server, users) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.test import override_settings
    from django.utils import timezone

    from inbox.api import notify
    from inbox.mail.digests import run_digests
    from inbox.mail.models import DigestReceipt
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

    # The same digests again through the opt-in PipeliningSMTPBackend (the cursors rewound, and
    # the receipts of the slot forgotten: they would make this run skip everyone as mailed).
    DigestSetting.objects.update(next_due_at=past, last_cursor_created=None, last_cursor_id=None)
    DigestReceipt.objects.all().delete()
    default_mailer = settings.MAILERS
    settings.MAILERS = {"default": {**default_mailer["default"], "BACKEND": PIPELINING}}
    try:
        piped, _ = timed(run_digests)
    finally:
        settings.MAILERS = default_mailer
    check("digests (pipelining)", server.take(), len(users))
    result["seconds_pipelining"] = round(piped, 2)
    print(f"  digests through PipeliningSMTPBackend: {piped:.2f} s", flush=True)

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


def mailer(server: Server | Sink, certdir: str | None, pipelining: bool = False) -> dict:
    """Django's SMTP backend (the default path) or Inbox's opt-in PipeliningSMTPBackend."""
    options = {"host": "127.0.0.1", "port": server.port, "timeout": 30}
    if certdir is None:
        backend = PIPELINING if pipelining else "django.core.mail.backends.smtp.EmailBackend"
        return {"BACKEND": backend, "OPTIONS": options}
    return {
        "BACKEND": f"bench.mail_backends.Trusting{'Pipelining' if pipelining else ''}Backend",
        "OPTIONS": {
            **options,
            "use_tls": True,  # STARTTLS, as on a submission port (587)
            "username": "bench",
            "password": "secret",
            "cafile": f"{certdir}/cert.pem",
        },
    }


SERVERS = {
    "plain": "aiosmtpd (Python), plain SMTP on loopback",
    "starttls": "aiosmtpd (Python), STARTTLS + AUTH (submission, as on port 587)",
    "sink": "Postfix smtp-sink (C), plain SMTP on loopback",
}


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.mail_settings"
    MAIL_DIR.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{MAIL_DIR / 'mail.sqlite3'}{suffix}").unlink(missing_ok=True)
    certdir = tempfile.TemporaryDirectory(prefix="bench-mail-")
    make_certificate(certdir.name)
    wanted = os.environ.get("BENCH_MAIL_SERVERS", "plain,starttls,sink").split(",")
    servers: dict[str, Server | Sink] = {}
    skipped = {}
    if "plain" in wanted:
        servers["plain"] = Server()
    if "starttls" in wanted:
        servers["starttls"] = Server(certdir.name)
    if "sink" in wanted and (binary := smtp_sink()):
        servers["sink"] = Sink(binary)
    elif "sink" in wanted:
        skipped["sink"] = "not installed (Debian: apt-get install postfix; bench/run.sh does it as root)"
    digest_server = servers.get("plain") or Server()  # the digests' own when plain is left out
    servers_to_stop = [*servers.values(), *([] if "plain" in servers else [digest_server])]
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command

    logging.getLogger("inbox.mail").setLevel(logging.ERROR)
    logging.getLogger("django.tasks").setLevel(logging.WARNING)  # ImmediateBackend logs every task
    call_command("migrate", verbosity=0)
    immediate_rows, floors = {}, {}
    try:
        User.objects.bulk_create(
            (User(username=f"user{i:05d}", email=f"user{i:05d}@example.com") for i in range(N)),
            batch_size=2000,
        )
        users = list(User.objects.order_by("pk"))
        for mode, server in servers.items():
            certs = certdir.name if mode == "starttls" else None
            settings.MAILERS = {"default": mailer(server, certs)}
            print(f"  {SERVERS[mode]}:", flush=True)
            floors[mode] = []
            immediate_rows[mode] = immediate(server, users, floors[mode], certs)
        for mode, reason in skipped.items():
            print(f"  {SERVERS[mode]}: skipped, {reason}", flush=True)
        settings.MAILERS = {"default": mailer(digest_server, None)}
        digest = digests(digest_server, users)
    finally:
        for server in servers_to_stop:
            server.stop()
        certdir.cleanup()
    ceilings = {mode: ceiling(rows, floors[mode][0]) for mode, rows in immediate_rows.items()}
    results = {"immediate": immediate_rows, "ceilings": ceilings, "skipped": skipped, "digests": digest}
    (MAIL_DIR / "mail.json").write_text(json.dumps(results, indent=2))
    lines = ["", f"Email: {N:,} immediate emails to a local SMTP server (its own process)"]
    lines.append(
        "Goal: the default path (send_batch through Django's SMTP backend, one connection per batch) at "
        "least 10x faster than send_mail per user; the opt-in PipeliningSMTPBackend beside it."
    )
    for mode, rows in immediate_rows.items():
        baseline = rows[0]["seconds"]
        lines += [
            SERVERS[mode],
            f"{'path':<28}{'connections':>12}{'seconds':>10}{'emails/s':>10}{'speed-up':>10}{'SQL':>6}"
            f"{'server CPU/email':>18}{'client CPU/email':>18}{'CPU speed-up':>14}",
        ]
        own = rows[0]["client_cpu_us_per_email"]
        for r in rows:
            lines.append(
                f"{r['path']:<28}{r['connections']:>12}{r['seconds']:>10.2f}{r['emails_per_s']:>10}"
                f"{baseline / r['seconds']:>9.1f}x{r['queries'] if r['queries'] is not None else '':>6}"
                f"{r['server_cpu_us_per_email']:>15} us{r['client_cpu_us_per_email']:>15} us"
                f"{own / max(r['client_cpu_us_per_email'], 1):>13.1f}x"
            )
        top = ceilings[mode]
        lines.append(
            f"  ceilings: send_mail per user's {top['per_user_us']} us/email / the server's own CPU per "
            f"email in send_batch ({top['server_cpu_us']} us) = {top['ceiling']}x; / Django's MIME "
            f"message alone ({top['floor_us']} us, the floor) = {top['floor_ceiling']}x"
        )
    for mode, reason in skipped.items():
        lines.append(f"{SERVERS[mode]}: skipped, {reason}")
    lines += [
        "",
        f"Digests: {digest['users']:,} users x {digest['unread_each']} unread: {digest['seconds']:.2f} s "
        f"(goal < 30 s; through PipeliningSMTPBackend {digest['seconds_pipelining']:.2f} s), "
        f"{digest['queries']} SQL statements in {digest['batches']} batches "
        f"({digest['queries_per_batch']} per batch), {digest['connections']} SMTP connections",
        "SQL statements per batch, 1,000 users, by batch size: "
        + ", ".join(f"{size} users: {n}" for size, n in digest["queries_per_batch_by_size"].items()),
    ]
    summary = "\n".join(lines)
    print(summary)
    (MAIL_DIR / "summary.txt").write_text(summary + "\n")


def ceiling(rows: list[dict], floor: float) -> dict:
    """The speed-ups over send_mail per user that the server's own CPU allows (while sending one
    email after another through one connection, a client cannot go faster than the server
    handles them, whatever it does itself), and that Django's MIME message allows (`floor`,
    seconds per email: every path through Django's SMTP backend builds one per email)."""
    per_user = next(r for r in rows if r["path"] == "send_mail per user")
    batch = next(r for r in rows if r["path"] == "send_batch")
    per_user_us = round(per_user["seconds"] / per_user["emails"] * 1e6)
    server_us = batch["server_cpu_us_per_email"]
    return {
        "per_user_us": per_user_us,
        "server_cpu_us": server_us,
        "ceiling": round(per_user_us / server_us, 1) if server_us else None,
        "floor_us": round(floor * 1e6),
        "floor_ceiling": round(per_user_us / (floor * 1e6), 1),
    }


if __name__ == "__main__":
    main()
