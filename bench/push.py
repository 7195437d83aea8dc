"""Web Push delivery: pushes per second to 1,000 subscriptions on a local push service, beside
django-webpush's own send_user_notification loop, in the same run.

    python -m bench.push      (makes and migrates its own SQLite file, results/push/push.sqlite3)

The push service runs in a separate process (so its CPU is not taken from the sender's GIL):
a ThreadingHTTPServer on 127.0.0.1 (HTTP/1.1 keep-alive, listen backlog 256) that does what a push
service does with each request: it verifies the VAPID JWT (ES256 signature, aud, exp, sub, and that
the key is the site's), decrypts the aes128gcm body with the subscription's private key and auth
secret, and answers 201, optionally after an artificial latency (a push service across the
internet). It makes the 1,000 subscriptions itself (P-256 keys, 16-byte auth secrets).

Paths, each sending the same 1,000 pushes (payloads of the same size) to the same 1,000 subscriptions:
  django-webpush  webpush.send_user_notification(user, payload, ttl): its loop, one webpush() per
                  subscription, a new connection each. The user holds all 1,000 subscriptions, so
                  it runs one query: its fastest form (a loop over 1,000 users adds 1,000 queries).
  send_pushes c1  inbox.push.sender.send_pushes(jobs) with INBOX_PUSH_CONCURRENCY = 1: one push in
                  flight, over one kept-alive connection, one VAPID token for the origin
  send_pushes     the same at the default concurrency (INBOX_PUSH_CONCURRENCY pushes in flight, on
                  aiohttp's event loop)
  deliver_push    the task's body, inbox.push.tasks.deliver_push.call(message_id) after notify() to
                  the 1,000 users who hold one subscription each: the query, the payloads (each with
                  a signed read token), the pushes streamed at the default concurrency with
                  their receipts written every INBOX_PUSH_WAVE_SIZE answers, settling
and the floor, in the same rounds: the cryptography of the 1,000 pushes alone, in this process
(per push: an ephemeral P-256 key, ECDH with the subscription's key, HKDF, AES-128-GCM, i.e.
http_ece.encrypt as pywebpush calls it), no HTTP, no VAPID, no database.
In rounds (every path once per round); median of BENCH_PUSH_REPS (3) runs per path and latency.
The sequential paths at an added latency run BENCH_PUSH_SLOW_REPS (1) times: 1,000 x the latency
is their floor, so repeats add little but time. A run counts only if the service accepted exactly
1,000 valid pushes, one per subscription, each with this run's text, and rejected none.
Writes results/push/push.json.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import statistics
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

N = 1_000
REPS = int(os.environ.get("BENCH_PUSH_REPS", "3"))
SLOW_REPS = int(os.environ.get("BENCH_PUSH_SLOW_REPS", "1"))
LATENCIES_MS = tuple(int(x) for x in os.environ.get("BENCH_PUSH_LATENCIES", "0,50").split(","))
TTL = 24 * 3600
PATHS = ("django-webpush", "send_pushes c1", "send_pushes", "deliver_push")
SEQUENTIAL = ("django-webpush", "send_pushes c1")
PUSH_DIR = Path(__file__).resolve().parent / "results" / "push"
WARMUP = 50  # pushes per path, before the timed runs (thrown away)


# ---------------------------------------------------------------- the push service (its own process)


class ServiceServer(ThreadingHTTPServer):
    request_queue_size = 256  # the senders open up to 16 connections at once; django-webpush one per push
    daemon_threads = True


def serve(conn, vapid_public_key: str, n: int) -> None:
    """The push service's process: make n subscriptions, serve, answer commands on `conn`."""
    import http_ece
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from inbox.push.keys import b64url_encode
    from tests.push.receiver import VapidError, verify_vapid

    keys = {}
    subscriptions = []
    for i in range(n):
        private_key = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        path = f"/push/{i:04d}"
        keys[path] = (private_key, auth)
        public = private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        subscriptions.append({"path": path, "p256dh": b64url_encode(public), "auth": b64url_encode(auth)})

    lock = threading.Lock()
    state = {"latency_s": 0.0, "expect": "", "paths": Counter(), "rejected": 0, "reasons": [], "wrong": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as push services allow

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            error = payload = None
            try:
                private_key, auth = keys[self.path]
                _claims, signer = verify_vapid(self.headers["Authorization"], origin)
                if signer != vapid_public_key:
                    raise VapidError("signed with another VAPID key than the site's")
                if self.headers.get("Content-Encoding") != "aes128gcm":
                    raise ValueError(f"Content-Encoding is {self.headers.get('Content-Encoding')}")
                if int(self.headers["TTL"]) <= 0:
                    raise ValueError("TTL is not positive")
                payload = json.loads(
                    http_ece.decrypt(body, private_key=private_key, auth_secret=auth, version="aes128gcm")
                )
            except Exception as exc:  # anything a push service would refuse
                error = f"{self.path}: {type(exc).__name__}: {exc}"[:300]
            if state["latency_s"]:
                time.sleep(state["latency_s"])
            with lock:
                if error:
                    state["rejected"] += 1
                    if len(state["reasons"]) < 5:
                        state["reasons"].append(error)
                else:
                    state["paths"][self.path] += 1
                    if not isinstance(payload, dict) or payload.get("body") != state["expect"]:
                        state["wrong"] += 1
            self.send_response(400 if error else 201)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ServiceServer(("127.0.0.1", 0), Handler)
    origin = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    conn.send({"origin": origin, "subscriptions": subscriptions})
    cpu_start = time.process_time()
    while True:
        command, arg = conn.recv()
        if command == "reset":
            with lock:
                state.update(latency_s=arg["latency_ms"] / 1000, expect=arg["expect"], rejected=0, wrong=0)
                state["paths"].clear()
                state["reasons"].clear()
            cpu_start = time.process_time()
            conn.send("ok")
        elif command == "stats":
            with lock:
                paths = state["paths"]
                conn.send(
                    {
                        "ok": sum(paths.values()),
                        "subscriptions": len(paths),
                        "max_per_subscription": max(paths.values(), default=0),
                        "wrong_text": state["wrong"],
                        "rejected": state["rejected"],
                        "reasons": list(state["reasons"]),
                        "cpu_s": time.process_time() - cpu_start,
                    }
                )
        else:
            break
    server.shutdown()
    server.server_close()


class PushService:
    """The parent's handle on the push service process."""

    def __init__(self, vapid_public_key: str, n: int):
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no Django, no DB connection
        self.conn, child = context.Pipe()
        self.process = context.Process(target=serve, args=(child, vapid_public_key, n), daemon=True)
        self.process.start()
        hello = self.conn.recv()
        self.origin = hello["origin"]
        self.subscriptions = hello["subscriptions"]

    def reset(self, expect: str, latency_ms: int) -> None:
        self.conn.send(("reset", {"expect": expect, "latency_ms": latency_ms}))
        self.conn.recv()

    def stats(self) -> dict:
        self.conn.send(("stats", None))
        return self.conn.recv()

    def stop(self) -> None:
        self.conn.send(("stop", None))
        self.process.join(10)


def crypto_floor(jobs) -> float:
    """CPU seconds to encrypt every job's payload as a push (no HTTP, no VAPID): the floor."""
    import http_ece
    from cryptography.hazmat.primitives.asymmetric import ec

    from inbox.push.keys import b64url_decode
    from inbox.push.sender import encode_payload

    inputs = [(encode_payload(j.payload), b64url_decode(j.p256dh), b64url_decode(j.auth)) for j in jobs]
    started = time.process_time()
    for plaintext, receiver_key, auth in inputs:
        ephemeral = ec.generate_private_key(ec.SECP256R1())  # one per push, as pywebpush does
        http_ece.encrypt(
            plaintext, private_key=ephemeral, dh=receiver_key, auth_secret=auth, version="aes128gcm"
        )
    return time.process_time() - started


# ---------------------------------------------------------------- the sender (this process)


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine, from /proc/stat."""
    with open("/proc/stat") as stat:
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, stat.readline().split()[1:9])
    busy = user + nice + system + irq + softirq + steal
    return busy, busy + idle + iowait


def make_fixtures(service: PushService):
    """1,000 users with one subscription each, and one user holding all 1,000 (django-webpush)."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from webpush.models import PushInformation, SubscriptionInfo

    user_model = get_user_model()
    with transaction.atomic(), connection.cursor() as cursor:
        # Inbox allows one owner per subscription (migration 0002); django-webpush's own model
        # lets one user hold all 1,000, as its send_user_notification baseline needs here.
        cursor.execute("DROP INDEX inbox_push_one_owner_per_subscription")
        users = user_model.objects.bulk_create(user_model(username=f"push{i:04d}") for i in range(N))
        holder = user_model.objects.create(username="push-all")
        infos = SubscriptionInfo.objects.bulk_create(
            SubscriptionInfo(
                browser="bench", endpoint=service.origin + s["path"], p256dh=s["p256dh"], auth=s["auth"]
            )
            for s in service.subscriptions
        )
        PushInformation.objects.bulk_create(
            [PushInformation(user=u, subscription=i) for u, i in zip(users, infos, strict=True)]
            + [PushInformation(user=holder, subscription=i) for i in infos]
        )
    return user_model.objects.filter(username__startswith="push0"), holder, infos


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.push_settings"
    PUSH_DIR.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{PUSH_DIR / 'push.sqlite3'}{suffix}").unlink(missing_ok=True)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import override_settings
    from webpush import send_user_notification
    from webpush.utils import send_to_subscription

    from inbox.api import notify
    from inbox.conf import inbox_setting
    from inbox.models import Message
    from inbox.push import vapid
    from inbox.push.sender import PushJob, send_pushes
    from inbox.push.tasks import deliver_push, payload

    call_command("migrate", verbosity=0)
    # settle() logs a warning per failed push; a failed run says why below, in one line.
    logging.getLogger("inbox.push.tasks").setLevel(logging.ERROR)
    service = PushService(settings.WEBPUSH_SETTINGS["VAPID_PUBLIC_KEY"], N)
    try:
        recipients, holder, infos = make_fixtures(service)

        def jobs_for(text: str) -> list[PushJob]:
            message = Message(text=text, level="warning")  # the payload's fields, unsaved
            return [
                PushJob(info.pk, info.endpoint, info.p256dh, info.auth, payload(message, info.pk, 1))
                for info in infos
            ]

        def prepare(path: str, text: str):
            """Untimed: what each path needs, -> the timed call, which returns how many it sent."""
            if path == "django-webpush":
                data = payload(Message(text=text, level="warning"), infos[0].pk, 1)  # the same size

                def call():
                    send_user_notification(holder, data, ttl=TTL)  # raises on a failed push
                    return N

                return call
            if path == "deliver_push":
                Message.objects.filter(text__startswith="Push benchmark").delete()
                message_id = notify(recipients, text, level="warning").message.pk

                def call():
                    result = deliver_push.call(message_id)
                    return result.get("sent", 0) if set(result) == {"sent", "attempt"} else -1

                return call
            jobs = jobs_for(text)
            concurrency = 1 if path == "send_pushes c1" else inbox_setting("PUSH_CONCURRENCY")

            def call():
                with override_settings(INBOX_PUSH_CONCURRENCY=concurrency):
                    outcomes = send_pushes(jobs, ttl=TTL, urgency="normal")
                return sum(o.kind == "sent" for o in outcomes)

            return call

        # Warm-up, thrown away: imports, the first connections, the SQLite page cache.
        service.reset("warm-up", 0)
        warm = jobs_for("warm-up")[:WARMUP]
        send_pushes(warm, ttl=TTL, urgency="normal")
        with override_settings(INBOX_PUSH_CONCURRENCY=1):
            send_pushes(warm, ttl=TTL, urgency="normal")
        with contextlib.suppress(Exception):  # it raises on a refused push; the timed runs will say FAILED
            for info in infos[:WARMUP]:
                send_to_subscription(info, json.dumps(warm[0].payload), ttl=TTL)
        if (warmed := service.stats())["ok"] != 3 * WARMUP:  # the timed runs will say FAILED
            print(f"  warm-up: the push service accepted {warmed['ok']} of {3 * WARMUP}: {warmed['reasons']}")

        clock = os.sysconf("SC_CLK_TCK")
        out = {
            "n": N,
            "reps": REPS,
            "slow_reps": SLOW_REPS,
            "concurrency": inbox_setting("PUSH_CONCURRENCY"),
            "wave_size": inbox_setting("PUSH_WAVE_SIZE"),
            "load_start": Path("/proc/loadavg").read_text().split()[:3],
            "floor_runs": [],
            "variants": {},
        }
        keys = settings.WEBPUSH_SETTINGS
        signer = vapid.signer(keys["VAPID_PRIVATE_KEY"], f"mailto:{keys['VAPID_ADMIN_EMAIL']}")
        for latency in LATENCIES_MS:
            runs = {path: [] for path in PATHS}
            for rep in range(1, REPS + 1):
                floor = crypto_floor(jobs_for(f"Push benchmark: floor, run {rep}"))
                out["floor_runs"].append(floor)
                print(
                    f"  {latency:>2} ms  run {rep}  {'crypto floor':<16}{floor:7.2f} s "
                    f"{N / floor:6.0f} pushes/s"
                )
                for path in PATHS:
                    if latency and path in SEQUENTIAL and rep > SLOW_REPS:
                        continue
                    text = f"Push benchmark: {path}, {latency} ms, run {rep}"
                    call = prepare(path, text)
                    service.reset(text, latency)
                    signed0 = signer.signatures
                    busy0, total0 = cpu_ticks()
                    cpu0 = time.process_time()
                    started = time.perf_counter()
                    try:
                        sent = call()
                        error = ""
                    except Exception as exc:
                        sent, error = -1, f"{type(exc).__name__}: {exc}".replace("\n", " ")[:300]
                    wall = time.perf_counter() - started
                    sender_cpu = time.process_time() - cpu0
                    busy1, total1 = cpu_ticks()
                    got = service.stats()
                    other = busy1 - busy0 - (sender_cpu + got["cpu_s"]) * clock
                    ok = (
                        not error
                        and sent == N
                        and got["ok"] == N
                        and got["subscriptions"] == N
                        and got["max_per_subscription"] == 1
                        and got["wrong_text"] == 0
                        and got["rejected"] == 0
                    )
                    runs[path].append(
                        {
                            "wall_s": wall,
                            "sender_cpu_s": sender_cpu,
                            "receiver_cpu_s": got["cpu_s"],
                            "other_cpu_pct": max(0.0, 100 * other / max(total1 - total0, 1)),
                            "sent": sent,
                            "vapid_signatures": signer.signatures - signed0,  # Inbox's paths only
                            "error": error,
                            "receiver": got,
                            "ok": ok,
                        }
                    )
                    print(
                        f"  {latency:>2} ms  run {rep}  {path:<16}{wall:7.2f} s {N / wall:6.0f} pushes/s  "
                        f"service: {got['ok']} ok, {got['rejected']} rejected"
                        + ("" if ok else f"  FAILED {error or got['reasons'] or got}"[:300])
                    )
            rows = {}
            for path, path_runs in runs.items():

                def median(key, path_runs=path_runs):
                    return statistics.median(r[key] for r in path_runs)

                rows[path] = {
                    "wall_s": median("wall_s"),
                    "sender_cpu_s": median("sender_cpu_s"),
                    "receiver_cpu_s": median("receiver_cpu_s"),
                    "other_cpu_max": max(r["other_cpu_pct"] for r in path_runs),
                    "ok": sum(r["receiver"]["ok"] for r in path_runs),
                    "rejected": sum(r["receiver"]["rejected"] for r in path_runs),
                    "failed_runs": sum(not r["ok"] for r in path_runs),
                    "runs": path_runs,
                }
            out["variants"][str(latency)] = rows
    finally:
        service.stop()
    out["load_end"] = Path("/proc/loadavg").read_text().split()[:3]
    (PUSH_DIR / "push.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
