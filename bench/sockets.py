"""WebSockets beside the badge polling they replace (issue 8, "Benchmark").

    python -m bench.sockets        (run.sh runs it: BENCH_ONLY=sockets bash bench/run.sh)

This process is the load client (asyncio on uvloop, the `websockets` client, aiohttp for the
polling tabs). It seeds its own SQLite file (bench/sockets_send.py: users with session rows, no
logins), then for each size N (BENCH_SOCKETS, "1000,10000"), each time on a freshly started
server, served as scripts/serve.sh serves it (BENCH_SOCKET_WORKERS workers, 2 by default):
  1. N tabs polling the badge every 15 s (N/15 requests/s, paced by the client, a new connection per
     poll) from gunicorn config.wsgi:application, which serves HTTP: the server's CPU over
     IDLE_SECONDS and its memory growth (RSS of gunicorn and its workers).
  2. N authenticated sockets (session cookie, Origin header, the page's hello, answered) on uvicorn
     config.asgi:application, which serves the sockets (without permessage-deflate unless
     BENCH_SOCKETS_DEFLATE=1): the same CPU figure with the sockets idle, and the RSS growth / N.
  3. At the largest N: the latency from notify() (called in another process, bench/sockets_send.py)
     to the frame's arrival, one recipient at a time (LATENCY_SENDS sends), and broadcasts to every
     connected user (BROADCASTS runs: when each socket had the frame). Through the database (the
     embedded default) and again through Redis (BENCH_REDIS_URL) on a fresh server.
Writes results/sockets/sockets.json and prints the table (bench/sockets_report.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import random
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import uvloop
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

from .sockets_common import (
    CLK_TCK,
    SOCKETS_RESULTS,
    USERS_FILE,
    cpu_seconds,
    family,
    machine_ticks,
    rss_bytes,
    socket_fds,
)

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
UVICORN = str(Path(sys.executable).with_name("uvicorn"))
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
SIZES = [int(n) for n in os.environ.get("BENCH_SOCKETS", "1000,10000").split(",")]
WORKERS = int(os.environ.get("BENCH_SOCKET_WORKERS", "2"))
PORT = int(os.environ.get("BENCH_SOCKETS_PORT", "18770"))
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
IDLE_SECONDS = float(os.environ.get("BENCH_SOCKETS_IDLE", "30"))
POLL_EVERY = 15.0  # the badge's poll interval (INBOX_BADGE_POLL_SECONDS)
POLL_WARM = 5.0  # polling runs this long before the measured window
LATENCY_SENDS = int(os.environ.get("BENCH_SOCKETS_SENDS", "100"))
BROADCASTS = int(os.environ.get("BENCH_SOCKETS_BROADCASTS", "5"))
PROFILE = os.environ.get("BENCH_SOCKETS_PROFILE") == "1"  # cProfile the workers: connects, broadcasts
QUICK = PROFILE or os.environ.get("BENCH_SOCKETS_QUICK") == "1"  # only the timed phase, one transport
# The quick run's transport: "database" (embedded) or "layer" (Redis); by default Redis if reachable.
QUICK_TRANSPORT = os.environ.get("BENCH_SOCKETS_TRANSPORT", "")
# Served as scripts/serve.sh serves: no permessage-deflate (BENCH_SOCKETS_DEFLATE=1 turns it on).
DEFLATE = os.environ.get("BENCH_SOCKETS_DEFLATE", "0") == "1"
CONNECTING = 100  # sockets being opened at once
MAX_POLLS_IN_FLIGHT = 2000  # a poll due while this many wait is counted as skipped
GOALS = {"layer": 0.050, "database": 1.2, "broadcast": 1.0}  # p99 seconds
BROWSER_DEFLATE = ClientPerMessageDeflateFactory(client_max_window_bits=True)  # Chromium's offer


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def spread(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": pct(values, 0.50),
        "p99": pct(values, 0.99),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


class Meter:
    """CPU of the server (uvicorn and its workers), of this client and of the whole machine over
    a window; the machine's other load is what neither of the two took."""

    def __init__(self, server: Server):
        self.server = server
        self.started = time.monotonic()
        self.server0, self.client0 = server.cpu(), client_cpu()
        self.busy0, self.total0 = machine_ticks()

    def stop(self) -> dict:
        wall = time.monotonic() - self.started
        server, client = self.server.cpu() - self.server0, client_cpu() - self.client0
        busy, total = machine_ticks()
        cores = (total - self.total0) / CLK_TCK / wall if wall else 1
        machine_busy = (busy - self.busy0) / CLK_TCK
        return {
            "wall": wall,
            "server_cpu": server,
            "server_core_pct": 100 * server / wall,
            "client_cpu": client,
            "client_core_pct": 100 * client / wall,
            "other_pct": max(0.0, 100 * (machine_busy - server - client) / (wall * cores)),
        }


class Server:
    """As `make run` serves the site, on the benchmark's database: uvicorn serving config.asgi for
    the sockets, or with http=True gunicorn serving config.wsgi (HTTP: the polling tabs)."""

    def __init__(self, redis: bool, *, http: bool = False):
        self.redis, self.http = redis, http
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.sockets_settings",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self.env.pop("REDIS_URL", None)
        if redis:
            self.env["REDIS_URL"] = REDIS_URL
        self.process: subprocess.Popen | None = None
        self.log = open(SOCKETS_RESULTS / "server.log", "ab")  # noqa: SIM115

    async def start(self) -> None:
        self.log.write(f"--- start, redis={self.redis}, http={self.http}\n".encode())
        self.log.flush()
        gunicorn = [GUNICORN, "config.wsgi:application", "--bind", f"127.0.0.1:{PORT}", "-w", str(WORKERS)]
        self.process = subprocess.Popen(
            gunicorn
            if self.http
            else [
                UVICORN,
                "bench.sockets_profile:application" if PROFILE else "config.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(PORT),
                "--workers",
                str(WORKERS),
                "--no-access-log",
                "--log-level",
                "warning",
                "--ws-per-message-deflate",
                str(DEFLATE).lower(),
                "--ws-max-size",  # as scripts/serve.sh
                "4096",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=self.log,
        )
        deadline = time.monotonic() + 60
        async with aiohttp.ClientSession() as session:
            answered = 0
            while answered < 20:  # a few answers: every worker has loaded the site
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start: see bench/results/sockets/server.log")
                try:
                    async with session.get(
                        f"http://127.0.0.1:{PORT}/inbox/badge/", allow_redirects=False
                    ) as r:
                        await r.read()
                        answered += 1
                except aiohttp.ClientError:
                    await asyncio.sleep(0.2)
        while len(self.workers()) < WORKERS and time.monotonic() < deadline:
            await asyncio.sleep(0.2)

    def pids(self) -> list[int]:
        return family(self.process.pid) if self.process else []

    def workers(self) -> list[int]:
        """The server's worker processes (uvicorn's other child is multiprocessing's resource
        tracker; gunicorn's children are all workers)."""
        pids = self.pids()
        if self.http:
            return pids[1:]
        spawned = [pid for pid in pids[1:] if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        return spawned or pids[:1]  # --workers 1: uvicorn serves in its own process

    def cpu(self) -> float:
        return cpu_seconds(self.pids())

    def rss(self) -> int:
        return sum(rss_bytes(pid) for pid in self.pids())

    def sockets_per_worker(self) -> list[int]:
        return [socket_fds(pid) for pid in self.workers()]

    def signal(self, signum: int) -> None:
        for pid in self.workers():
            os.kill(pid, signum)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


class Watch:
    """Arrival times, per socket, of the frames that contain `marker`."""

    def __init__(self, marker: str, expected: int):
        self.marker, self.expected = marker, expected
        self.times: dict[int, float] = {}
        self.done = asyncio.Event()

    def hit(self, index: int, now: float) -> None:
        if index not in self.times:
            self.times[index] = now
            if len(self.times) >= self.expected:
                self.done.set()


class Fleet:
    """The open pages: one socket per user, each with a reader task."""

    def __init__(self, users: list[tuple]):
        self.users = users
        self.sockets: dict[int, object] = {}
        self.readers: list[asyncio.Task] = []
        self.watch: Watch | None = None
        self.frames = 0
        self.lost = 0
        self.closing = False
        self.extensions = ""

    async def open(self, index: int, limit: asyncio.Semaphore) -> None:
        user_id, key, newest, shown = self.users[index]
        async with limit:
            ws = await connect(
                f"ws://127.0.0.1:{PORT}/inbox/ws/",
                origin=f"http://127.0.0.1:{PORT}",
                additional_headers={"Cookie": f"sessionid={key}"},
                compression=None,
                extensions=[BROWSER_DEFLATE],
                proxy=None,
                ping_interval=None,  # a browser sends no pings; uvicorn pings every 20 s (its default)
                open_timeout=120,
                close_timeout=2,
            )
            self.extensions = ws.response.headers.get("Sec-WebSocket-Extensions", "")
            hello = {
                "type": "hello",
                "tab": f"t{index}",
                "csrf": secrets.token_hex(16),
                "page": "dashboard",
                "filter": "all",
                "top": True,
                "newest": newest,
                "shown": shown,
                "dropdown": False,
            }
            await ws.send(json.dumps(hello))
            first = await asyncio.wait_for(ws.recv(), 60)  # the catch-up: the badge, in one frame
            if "unread" not in first:
                raise RuntimeError(f"socket {index}: unexpected catch-up frame {first[:200]!r}")
        self.sockets[index] = ws
        self.readers.append(asyncio.create_task(self.read(index, ws)))

    async def open_all(self, indices) -> float:
        limit = asyncio.Semaphore(CONNECTING)
        started = time.monotonic()
        await asyncio.gather(*(self.open(i, limit) for i in indices))
        return time.monotonic() - started

    async def read(self, index: int, ws) -> None:
        try:
            async for frame in ws:
                self.frames += 1
                watch = self.watch
                if watch is not None and watch.marker in frame:
                    watch.hit(index, time.monotonic())
        except ConnectionClosed:
            pass
        if not self.closing:
            self.lost += 1

    async def close_all(self) -> None:
        self.closing = True
        limit = asyncio.Semaphore(500)

        async def close(ws):
            async with limit:
                await ws.close()

        await asyncio.gather(*(close(ws) for ws in self.sockets.values()), return_exceptions=True)
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        self.sockets.clear()
        self.readers.clear()


class Sender:
    """bench/sockets_send.py serve: notify() in its own process."""

    def __init__(self, redis: bool, env: dict):
        self.redis, self.env = redis, env

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            PYTHON,
            "-m",
            "bench.sockets_send",
            "serve",
            cwd=ROOT,
            env=self.env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        line = await asyncio.wait_for(self.process.stdout.readline(), 60)
        if line.strip() != b"ready":
            raise RuntimeError(f"the sender did not start: {line!r}")

    async def send(self, command: str) -> tuple[float, float, int]:
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()
        answer = (await asyncio.wait_for(self.process.stdout.readline(), 120)).decode().split()
        if len(answer) != 3:
            raise RuntimeError(f"the sender failed: {answer}")
        return float(answer[0]), float(answer[1]), int(answer[2])

    async def stop(self) -> None:
        self.process.stdin.close()
        await self.process.wait()


def load_users() -> list[tuple]:
    users = []
    for line in USERS_FILE.read_text().splitlines():
        user_id, key, newest, shown = line.split("\t")
        users.append((int(user_id), key, newest, [int(pk) for pk in shown.split(",")]))
    return users


async def poll_tabs(users: list[tuple], n: int, server: Server) -> dict:
    """n tabs, each GETting the badge every POLL_EVERY s with its user's cookie, spread evenly."""
    url = f"http://127.0.0.1:{PORT}/inbox/badge/"
    connector = aiohttp.TCPConnector(force_close=True, limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0, "skipped": 0}
    in_flight: set[asyncio.Task] = set()
    measuring = False

    async def poll(key: str) -> None:
        started = time.monotonic()
        try:
            async with session.get(url, headers={"Cookie": f"sessionid={key}"}, allow_redirects=False) as r:
                body = await r.text()
            ok = r.status == 200 and "unread" in body
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        if measuring:
            counts["ok" if ok else "errors"] += 1
            if ok:
                latencies.append(time.monotonic() - started)

    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar(), timeout=timeout
    ) as session:
        rss0 = server.rss()
        start = time.monotonic() + 0.1
        end = start + POLL_WARM + IDLE_SECONDS
        meter = None
        due = (
            (start + k * POLL_EVERY + i * POLL_EVERY / n, users[i][1]) for k in range(10**6) for i in range(n)
        )
        for when, key in due:
            if when >= end:
                break
            if meter is None and when >= start + POLL_WARM:
                measuring, meter = True, Meter(server)
            delay = when - time.monotonic()
            if delay > 0.002:
                await asyncio.sleep(delay)
            if len(in_flight) >= MAX_POLLS_IN_FLIGHT:
                if measuring:
                    counts["skipped"] += 1
                continue
            task = asyncio.create_task(poll(key))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        await asyncio.sleep(max(0.0, end - time.monotonic()))
        cpu = meter.stop()
        rss = server.rss()
        measuring = False
        if in_flight:
            await asyncio.wait(in_flight, timeout=60)
    done = counts["ok"] + counts["errors"]
    return {
        "n": n,
        "target_rps": n / POLL_EVERY,
        "rps": done / cpu["wall"],
        **counts,
        "latency": spread(latencies),
        "rss_growth": rss - rss0,
        "rss": rss,
        **cpu,
    }


async def sockets_phase(users: list[tuple], n: int, redis: bool, timed: bool) -> dict:
    """Fresh server; n sockets; memory and idle CPU; with `timed`, latency and broadcasts."""
    server = Server(redis)
    await server.start()
    fleet = Fleet(users)
    result: dict = {"n": n, "transport": "layer" if redis else "database"}
    try:
        await fleet.open_all(range(20))  # warm: the hub, the thread pool, the first renders
        await fleet.close_all()
        fleet = Fleet(users)
        await asyncio.sleep(2)
        rss0 = server.rss()
        meter = Meter(server)
        if PROFILE:  # window 1: opening the sockets (handshake, session, hello and its catch-up)
            server.signal(signal.SIGUSR1)
        result["connect_seconds"] = await fleet.open_all(range(n))
        result["connect_cpu"] = meter.stop()
        # This one process stands for n browsers: its n open sockets leave its garbage collector's
        # generations, so a full collection of them never delays the frames it times.
        gc.collect()
        gc.freeze()
        if PROFILE:
            server.signal(signal.SIGUSR2)
        await asyncio.sleep(3)
        result["rss"] = server.rss()
        result["rss_growth"] = result["rss"] - rss0
        result["per_worker"] = server.sockets_per_worker()
        result["extensions"] = fleet.extensions
        frames0 = fleet.frames
        meter = Meter(server)
        await asyncio.sleep(IDLE_SECONDS)
        result["idle"] = meter.stop()
        result["idle"]["frames"] = fleet.frames - frames0
        if timed:
            sender = Sender(redis, server.env)
            await sender.start()
            try:
                result["latency"] = await latency(fleet, sender, n)
                result["broadcast"] = await broadcasts(fleet, sender, server, n)
            finally:
                await sender.stop()
        result["lost"] = fleet.lost
    finally:
        await fleet.close_all()
        gc.unfreeze()
        server.stop()
    return result


async def latency(fleet: Fleet, sender: Sender, n: int) -> dict:
    """One recipient at a time, while the other sockets stay idle."""
    run = secrets.token_hex(3)
    times, notify_times, missed = [], [], 0
    for k in range(LATENCY_SENDS):
        index = random.randrange(n)
        marker = f"probe-{run}-{k}"
        fleet.watch = Watch(marker, 1)
        t0, t1, _ = await sender.send(f"one {fleet.users[index][0]} Latency {marker}")
        try:
            await asyncio.wait_for(fleet.watch.done.wait(), 5)
            times.append(fleet.watch.times[index] - t0)
        except TimeoutError:
            missed += 1
        notify_times.append(t1 - t0)
        await asyncio.sleep(random.uniform(0.05, 0.3))  # no lock-step with the database's poll
    fleet.watch = None
    return {
        "sends": LATENCY_SENDS,
        "missed": missed,
        "arrival": spread(times),
        "notify": spread(notify_times),
    }


async def broadcasts(fleet: Fleet, sender: Sender, server: Server, n: int) -> list[dict]:
    runs = []
    for k in range(BROADCASTS):
        await asyncio.sleep(3)
        marker = f"broadcast-{secrets.token_hex(3)}-{k}"
        fleet.watch = watch = Watch(marker, len(fleet.sockets))
        if PROFILE:
            server.signal(signal.SIGUSR1)
        meter = Meter(server)
        t0, t1, count = await sender.send(f"all Broadcast {marker} to every user")
        with contextlib.suppress(TimeoutError):  # the table counts what did not arrive
            await asyncio.wait_for(watch.done.wait(), 30)
        cpu = meter.stop()
        if PROFILE:
            server.signal(signal.SIGUSR2)
        arrivals = [t - t0 for t in watch.times.values()]
        runs.append(
            {
                "recipients": count,
                "sockets": len(fleet.sockets),
                "received": len(arrivals),
                "notify": t1 - t0,
                "arrival": spread(arrivals),
                **cpu,
            }
        )
    fleet.watch = None
    return runs


def redis_reachable() -> bool:
    host_port = REDIS_URL.split("//", 1)[1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port or 6379)), 2).close()
        return True
    except OSError:
        return False


def seed(count: int) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.sockets_settings", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("REDIS_URL", None)
    database = Path(env.get("BENCH_DB", SOCKETS_RESULTS / "sockets.sqlite3"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([PYTHON, "-m", "bench.sockets_send", "seed", str(count)], cwd=ROOT, env=env, check=True)


async def main() -> dict:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = max(SIZES) + 1000
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(need, soft)), hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < need:
        sys.exit(f"ulimit -n is {hard}: {need} file descriptors are needed for {max(SIZES):,} sockets")
    SOCKETS_RESULTS.mkdir(parents=True, exist_ok=True)
    (SOCKETS_RESULTS / "server.log").unlink(missing_ok=True)
    seed(max(SIZES))
    users = load_users()
    has_redis = redis_reachable()
    results: dict = {
        "workers": WORKERS,
        "idle_seconds": IDLE_SECONDS,
        "poll_every": POLL_EVERY,
        "sizes": SIZES,
        "redis": REDIS_URL if has_redis else None,
        "goals": GOALS,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "polling": [],
        "sockets": [],
        "load_before": Path("/proc/loadavg").read_text().split()[:3],
    }
    if QUICK_TRANSPORT not in ("", "database", "layer"):
        sys.exit(f"BENCH_SOCKETS_TRANSPORT must be database or layer, not {QUICK_TRANSPORT!r}")
    for n in SIZES:
        timed = n == max(SIZES)
        if QUICK:  # only the latency and broadcasts, e.g. while profiling
            redis = has_redis if not QUICK_TRANSPORT else QUICK_TRANSPORT == "layer"
            if redis and not has_redis:
                sys.exit(f"BENCH_SOCKETS_TRANSPORT=layer, but Redis is not reachable at {REDIS_URL}")
            results["sockets"].append(await sockets_phase(users, n, redis=redis, timed=timed))
            continue
        server = Server(redis=False, http=True)
        await server.start()
        try:
            print(f"  {n:,} tabs polling the badge every {POLL_EVERY:.0f} s (gunicorn) ...", flush=True)
            results["polling"].append(await poll_tabs(users, n, server))
        finally:
            server.stop()
        print(f"  {n:,} sockets, embedded (database transport) ...", flush=True)
        results["sockets"].append(await sockets_phase(users, n, redis=False, timed=timed))
        if timed and has_redis:
            print(f"  {n:,} sockets, Redis (layer transport, {REDIS_URL}) ...", flush=True)
            results["sockets"].append(await sockets_phase(users, n, redis=True, timed=True))
    results["wall"] = time.monotonic()
    return results


if __name__ == "__main__":
    started = time.monotonic()
    data = uvloop.run(main())
    data["wall"] = time.monotonic() - started
    (SOCKETS_RESULTS / "sockets.json").write_text(json.dumps(data, indent=2))
    from .sockets_report import table

    print("\n".join(table(data)))
