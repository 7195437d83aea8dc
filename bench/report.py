"""Collect results/ into one table (printed; run.sh also saves it to results/summary.txt).

python -m bench.report
"""

from __future__ import annotations

import json
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import time
from pathlib import Path

from . import sockets_report
from .common import RESULTS, load

ROOT = Path(__file__).resolve().parent.parent
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
FANOUT_LABELS = {
    "queryset": "User queryset",
    "group": "Group",
    "list": "list of User objects",
}
TARGET_SECONDS_100K = 1.0  # queryset path, 100,000 recipients
TARGET_SPEEDUP_10K = 100.0  # against django-notifications-hq's notify.send, 10,000 recipients
TARGET_BADGE_RATIO = 0.90  # badge req/s (gunicorn, as `make run` serves) over the trivial view's
TARGET_DASHBOARD_RATIO = 0.50  # dashboard req/s (gunicorn, first page) over the trivial view's
FLOOR = "trivial"  # the trivial view served by gunicorn (2 sync workers), in the same run
ASGI = "_asgi"  # suffix of the same endpoint served by uvicorn config.asgi (HTTP through a2wsgi)
ASGI_NAMES = ("trivial", "badge", "small_all")  # the endpoints run.sh also serves that way
TARGET_ROUTING_RATIO = 2.0  # notify() with preference routing, 100,000 recipients, over the fan-out before it
ANCHOR_BADGE_RATIO = 0.60  # the anchor's published badge/trivial (gunicorn), results-2026-11-24.txt
PAGES = ("all", "unread", "deep")


def run(*args: str) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=30).stdout.strip()
    except OSError:
        return "?"


def other_cpu(text: str) -> int:
    """The share of the machine that other processes took during the run (run.sh appends it)."""
    found = re.search(r"other CPU: (\d+)%", text)
    return int(found.group(1)) if found else 0


def parse_wrk(text: str) -> tuple[float, float, float, int, float]:
    """-> requests/s, p50 ms, p99 ms, errors (non-2xx/3xx responses + socket errors), and the
    server's CPU ms per request (run.sh appends the server's CPU ticks to wrk's output)."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    ticks = re.search(r"server CPU ticks: (\d+) at (\d+)/s", text)
    cpu_ms = (
        1000 * int(ticks.group(1)) / int(ticks.group(2)) / requests if ticks and requests else float("nan")
    )
    pct = {
        p: float(v) * UNIT_MS[u]
        for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    }
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", text))
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if sockets:
        errors += sum(int(x) for x in sockets.groups())
    return rps, pct["50"], pct["99"], errors, cpu_ms


def wrk_rows() -> dict:
    rows = {}
    names = [line.split("\t")[0] for line in (RESULTS / "endpoints.tsv").read_text().splitlines()]
    for name in [*names, *(name + ASGI for name in ASGI_NAMES)]:
        files = sorted((RESULTS / "wrk").glob(f"{name}_[0-9]*.txt"))
        if not files:
            continue
        rps, p50, p99, errors, cpu_ms = zip(*(parse_wrk(f.read_text()) for f in files), strict=True)
        others = [other_cpu(f.read_text()) for f in files]
        rows[name] = {
            "rps": statistics.median(rps),
            "p50": statistics.median(p50),
            "p99": statistics.median(p99),
            "errors": sum(errors),
            "cpu_ms": statistics.median(cpu_ms),
            "other_max": max(others),
            "runs": len(files),
        }
    return rows


def runs_of(wrk: dict) -> int:
    """Timed wrk runs per endpoint (BENCH_WRK_REPS)."""
    return min((row["runs"] for row in wrk.values()), default=0)


def database_version() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return f"PostgreSQL {cursor.fetchone()[0]}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def header(lines: list[str], *, only_push: bool = False) -> None:
    from importlib.metadata import version

    import django
    import uvicorn
    from django.conf import settings

    with open("/proc/cpuinfo") as cpuinfo:
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    revision = run("git", "rev-parse", "--short", "HEAD")
    if run("git", "status", "--porcelain", "--untracked-files=no"):
        revision += " + uncommitted changes"
    db = settings.DATABASES["default"]
    name = Path(db["NAME"])
    name = name.relative_to(ROOT) if name.is_relative_to(ROOT) else name
    options = db.get("OPTIONS", {})
    sessions = settings.SESSION_ENGINE.rsplit(".", 1)[-1]
    push = bool(getattr(settings, "WEBPUSH_SETTINGS", {}).get("VAPID_PRIVATE_KEY"))
    wrk = run("wrk", "-v").split("\n")[0].split(" Copyright")[0]
    load_end = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    lines += [
        "=== Inbox benchmark ===",
        f"Inbox {revision} | Django {django.get_version()} | {database_version()} | "
        f"Python {platform.python_version()} | uvicorn {uvicorn.__version__} | a2wsgi {version('a2wsgi')} | "
        f"gunicorn {version('gunicorn')} | {wrk}",
        f"machine: nproc {run('nproc')} ({cpu}), kernel {platform.release()}; "
        f"load average at start {os.environ.get('BENCH_LOAD_START', '?')}, at the end {load_end}",
        (
            f"DB: SQLite file {name}, the site's settings: {options.get('init_command', '').strip()} "
            f"transaction_mode={options.get('transaction_mode', 'DEFERRED')}, "
            if db["ENGINE"].endswith("sqlite3")
            else f"DB: PostgreSQL database {name} on {db.get('HOST') or 'localhost'}, "
        )
        + f"CONN_MAX_AGE={db['CONN_MAX_AGE']}, {sessions} sessions",
        f"push delivery queued on commit by notify(): {'yes' if push else 'no (no VAPID keys)'}",
    ]
    if only_push:  # BENCH_ONLY=push: the DB and queueing lines are about sections 1 to 3
        lines[-2:] = []
    busy_file = RESULTS / "push" / "busy.txt" if only_push else RESULTS / "busy.txt"
    if busy_file.exists():
        busy = [line.split() for line in busy_file.read_text().splitlines() if line.strip()]
        lines.append(
            "CPU busy with other work before each phase (2 s sample; run.sh waits up to 30 s for <=20%): "
            + ", ".join(f"{phase} {pct}%" for phase, pct in busy)
        )
        if any(int(pct) > 20 for _, pct in busy):
            lines.append(
                "WARNING: the machine was busy with other work: the figures below are slower than it can do"
            )


def fanout_section(lines: list[str]) -> None:
    fan = load("fanout")
    anchor = load("anchor_fanout") if (RESULTS / "anchor_fanout.json").exists() else {}
    anchor_versions = (RESULTS / "anchor_versions.txt").read_text().strip() if anchor else ""
    base = {n: anchor[f"autocommit_{n}"]["median_s"] for n in (1_000, 10_000) if f"autocommit_{n}" in anchor}
    lines += [
        "",
        "1. Fan-out write: inbox.api.notify(recipients, text), one call, on the bench SQLite file  "
        "[median of 3, rows deleted between runs]",
        f"   {'path':<33}{'N':>8}{'wall s':>9}{'us/row':>8}{'vs anchor':>11}  {'target':<22}queries",
    ]
    for row in fan.values():
        n, seconds = row["n"], row["median_s"]
        speedup = f"{base[n] / seconds:>10.0f}x" if n in base else f"{'':>11}"
        target = ""
        if row["path"] == "queryset" and n == 100_000:
            target = f"<{TARGET_SECONDS_100K:g} s: {verdict(seconds < TARGET_SECONDS_100K)}"
        elif n == 10_000 and n in base:
            target = f">={TARGET_SPEEDUP_10K:g}x: {verdict(base[n] / seconds >= TARGET_SPEEDUP_10K)}"
        verbs = ", ".join(f"{v} {c}" for v, c in sorted(row["by_verb"].items()))
        lines.append(
            f"   {FANOUT_LABELS[row['path']]:<33}{n:>8,}{seconds:>9.3f}{1e6 * seconds / n:>8.1f}{speedup}  "
            f"{target:<22}{row['queries']} ({verbs})"
        )
    if anchor:
        lines.append(f"   anchor, measured in this run ({anchor_versions}), recipient=<queryset of N users>:")
        for key, label in (
            ("autocommit", "notify.send (default autocommit)"),
            ("atomic", "notify.send in atomic()"),
        ):
            for n in (1_000, 10_000):
                row = anchor.get(f"{key}_{n}")
                if row:
                    verbs = ", ".join(f"{v} {c}" for v, c in sorted(row["by_verb"].items()))
                    lines.append(
                        f"   {label:<33}{n:>8,}{row['median_s']:>9.3f}{1e6 * row['median_s'] / n:>8.1f}"
                        f"{'':>11}  {'':<22}{row['queries']} ({verbs})"
                    )
    else:
        lines.append(
            "   anchor: not measured in this run (BENCH_SKIP_ANCHOR set or it failed): no speed-up targets"
        )


def routing_section(lines: list[str]) -> None:
    if not (RESULTS / "routing.json").exists():
        return
    routing = load("routing")
    base = routing["before_kinds"]["median_s"]
    lines += [
        "",
        "1b. Preference routing inside notify(), 100,000 recipients, kind 'build.finished' [median of 3]",
        f"   {'variant':<44}{'rows':>8}{'wall s':>9}{'vs before':>11}  queries",
    ]
    labels = {
        "before_kinds": "fan-out statement before kinds, alone",
        "no_clause": "notify(kind=), inbox locked: no clause",
        "no_overrides": "notify(kind=), no preference rows",
        "routed": f"notify(kind=), {routing['routed']['preference_rows']:,} preference rows",
    }
    for key, label in labels.items():
        row = routing[key]
        verbs = ", ".join(f"{v} {c}" for v, c in sorted(row["by_verb"].items()))
        lines.append(
            f"   {label:<44}{row['written']:>8,}{row['median_s']:>9.3f}{row['median_s'] / base:>10.2f}x  "
            f"{row['queries']} ({verbs})"
        )
    ratio = routing["routed"]["median_s"] / base
    clause = routing["routed"]["median_s"] / routing["no_clause"]["median_s"]
    push = routing["push_select"]
    lines += [
        f"   push/email select: recipients_for(message, 'push') over {push['n']:,} rows: "
        f"{push['median_s']:.3f} s, {push['queries']} query",
        f"   target routed <= {TARGET_ROUTING_RATIO:g}x the fan-out before kinds: {ratio:.2f}x "
        f"{verdict(ratio <= TARGET_ROUTING_RATIO)}; over notify() without the clause: {clause:.2f}x",
    ]


def badge_section(lines: list[str], wrk: dict, inproc: dict, wrk_flags: str) -> None:
    lines += [
        "",
        "2. Unread badge under load, served as `make run` serves it: gunicorn config.wsgi:application",
        "   -w 2 (sync workers; the sockets are uvicorn's, on another port); *_asgi: the same views served",
        "   by uvicorn config.asgi:application --workers 2 (one ASGI server for HTTP and sockets, HTTP",
        "   through a2wsgi to Django's WSGI handler), the alternative; same settings and database, same run;",
        f"   {wrk_flags}, Cookie: sessionid and csrftoken (a browser's after its first page)",
        f"   [median of {runs_of(wrk)} runs]",
        "   user reader: 10,000 notifications, 5,000 unread (the badge shows 99+); trivial = same middleware",
        "   and login (reads request.user: session + user queries), returns 'ok'",
    ]
    lines += table_head()
    names = ("badge", "trivial", "badge" + ASGI, "trivial" + ASGI)
    for name in names:
        lines.append(table_row(name, wrk, inproc))
    lines.append(other_line(wrk, names))
    if "badge" in wrk and FLOOR in wrk:
        ratio = wrk["badge"]["rps"] / wrk[FLOOR]["rps"]
        cpu_ratio = wrk[FLOOR]["cpu_ms"] / wrk["badge"]["cpu_ms"]
        ok = verdict(ratio >= TARGET_BADGE_RATIO)
        lines += [
            f"   goal: badge / trivial (gunicorn, as served) req/s >= {TARGET_BADGE_RATIO:.2f}: "
            f"{ratio:.2f} {ok}   (anchor, django-notifications-hq's badge on gunicorn, published: "
            f"{ANCHOR_BADGE_RATIO:.2f})",
            f"   cross-check, the same by server CPU per request: {cpu_ratio:.2f}",
        ]
    if "badge" + ASGI in wrk and FLOOR in wrk:
        floor, badge_asgi, trivial_asgi = wrk[FLOOR], wrk["badge" + ASGI], wrk["trivial" + ASGI]
        lines.append(
            f"   one ASGI server instead: badge_asgi / trivial {badge_asgi['rps'] / floor['rps']:.2f}; "
            f"the servers alone, trivial_asgi / trivial: req/s {trivial_asgi['rps'] / floor['rps']:.2f}, "
            f"server CPU per request {floor['cpu_ms'] / trivial_asgi['cpu_ms']:.2f}"
        )
    b = inproc.get("badge_breakdown")
    if b:
        lines += [
            "   where the time goes, in-process ms [median of 5]: "
            f"trivial request {b['trivial_request']:.2f}, badge request {b['badge_request']:.2f};",
            f"     badge_for() {b['badge_for']:.2f}, of which its COUNT's SQL {b['count_raw_sql']:.2f}; "
            f"rendering bell.html#badge {b['render_partial']:.2f};",
            f"     through Django's ASGI handler (AsyncClient: the sync/async hops the server pays too): "
            f"trivial {b['trivial_asgi']:.2f}, badge {b['badge_asgi']:.2f}",
        ]


def table_head() -> list[str]:
    return [
        f"   {'endpoint':<17}{'req/s':>7}{'p50 ms':>8}{'p99 ms':>8}{'/trivial':>9}"
        f"{'CPU ms':>7}{'SQL/req':>8}{'in-proc ms':>11}{'errors':>7}  path"
    ]


def table_row(name: str, wrk: dict, inproc: dict) -> str:
    """One endpoint's figures; /trivial = req/s over the trivial view's on gunicorn (the goals')."""
    ip = inproc["endpoints"][name.removesuffix(ASGI)]
    w, floor = wrk.get(name), wrk.get(FLOOR)
    if w is None:
        http, errors = f"{'-':>7}{'-':>8}{'-':>8}{'-':>9}{'-':>7}", f"{'-':>7}"
    else:
        ratio = f"{w['rps'] / floor['rps']:>9.2f}" if floor else f"{'-':>9}"
        http = f"{w['rps']:>7.0f}{w['p50']:>8.1f}{w['p99']:>8.1f}{ratio}{w['cpu_ms']:>7.2f}"
        errors = f"{w['errors']:>7}"
    path = ip["path"] if len(ip["path"]) < 40 else ip["path"][:37] + "..."
    return f"   {name:<17}{http}{ip['queries']:>8}{ip['inprocess_ms']:>11.2f}{errors}  {path}"


def other_line(wrk: dict, names) -> str:
    """How much of the machine other processes took during these endpoints' runs."""
    worst = {name: wrk[name]["other_max"] for name in names if name in wrk}
    if not worst:
        return "   (no HTTP runs)"
    peak = max(worst.values())
    warn = "  WARNING: busy machine, req/s and latency are low" if peak > 15 else ""
    return f"   other processes' CPU during these runs, worst run: {peak}% of the 2 cores{warn}"


def dashboard_section(lines: list[str], wrk: dict, inproc: dict, wrk_flags: str) -> None:
    seed = load("seed")
    sizes, deep = seed["list_sizes"], seed["deep_rows"]
    lines += [
        "",
        "3. Dashboard GET /inbox/ (the full page: 20 rows and the bell's badge), gunicorn as above,",
        f"   {wrk_flags}  [median of {runs_of(wrk)} runs]",
        f"   big: {sizes['big']:,} notifications ({sizes['big'] // 2:,} unread); small: {sizes['small']:,} "
        f"({sizes['small'] // 2:,} unread); *_deep = the 'load more' page after row {deep['big']:,} (big) or "
        f"{deep['small']:,} (small)",
    ]
    lines += table_head()
    names = [f"{user}_{page}" for user in ("big", "small") for page in PAGES] + ["small_all" + ASGI]
    for name in names:
        lines.append(table_row(name, wrk, inproc))
    lines.append(other_line(wrk, names))
    if "small_all" in wrk and FLOOR in wrk:
        ratio = wrk["small_all"]["rps"] / wrk[FLOOR]["rps"]
        cpu_ratio = wrk[FLOOR]["cpu_ms"] / wrk["small_all"]["cpu_ms"]
        lines += [
            "   goal: dashboard (small_all) / trivial (gunicorn, as served) req/s >= "
            f"{TARGET_DASHBOARD_RATIO:.2f}: {ratio:.2f} {verdict(ratio >= TARGET_DASHBOARD_RATIO)}; "
            f"by server CPU per request {cpu_ratio:.2f}",
        ]
    items = inproc.get("item_render")
    if items:
        lines.append(
            f"   one item, in-process: rendered through its partial {items['render_ms']:.3f} ms; "
            f"from the cache (inbox.web.items, a page of {items['page']}) "
            f"{1000 * items['cached_ms']:.1f} us each"
        )
    ep = inproc["endpoints"]
    flat = {page: ep[f"big_{page}"]["inprocess_ms"] / ep[f"small_{page}"]["inprocess_ms"] for page in PAGES}
    lines.append(
        "   flat? in-proc ms big / small: "
        + ", ".join(f"{page} {ratio:.2f}" for page, ratio in flat.items())
        + "  (1.00 = the list's length costs nothing)"
    )

    paging = inproc["paging"]
    big, small = paging["big"], paging["small"]
    lines += [
        "",
        "   The page query alone, in-process ms [median of 5]: what the view runs, and what a user",
        "   would pick instead (Django's Paginator: COUNT + OFFSET) for the same rows:",
        f"   {'query':<56}{f'big {big["rows"]:,}':>14}{f'small {small["rows"]}':>12}  queries",
    ]
    cases = (
        ("keyset_top", "keyset (the app): first page"),
        ("keyset_deep", f"keyset (the app): after row {big['depth']:,} / {small['depth']}"),
        ("paginator_top", "Django Paginator.page(1): COUNT + LIMIT"),
        (
            "paginator_deep",
            f"Django Paginator.page({big['deep_page']} / {small['deep_page']}): COUNT + OFFSET",
        ),
        ("offset_deep", f"OFFSET {big['depth']:,} / {small['depth']} alone (no COUNT)"),
    )
    for key, label in cases:
        lines.append(f"   {label:<56}{big[key]['ms']:>14.2f}{small[key]['ms']:>12.2f}  {big[key]['queries']}")


PUSH_LABELS = {
    "django-webpush": "django-webpush send_user_notification",
    "send_pushes c1": "Inbox send_pushes, concurrency 1",
    "send_pushes": "Inbox send_pushes, default concurrency",
    "deliver_push": "Inbox deliver_push task body",
}


def push_section(lines: list[str]) -> None:
    from importlib.metadata import version

    data = json.loads((RESULTS / "push" / "push.json").read_text())
    n, reps, slow_reps = data["n"], data["reps"], data["slow_reps"]
    versions = ", ".join(f"{p} {version(p)}" for p in ("django-webpush", "pywebpush", "aiohttp"))
    cols = ("path", "pushes", "wall s", "pushes/s", "vs django-webpush", "CPU ms/push", "sender", "service")
    under = ("", "", "", "", "", "send+serv", "core %", "ok/rejected")
    lines += [
        "",
        f"4. Web Push delivery: {n:,} pushes to {n:,} subscriptions on a local push service, beside "
        f"django-webpush  [median of {reps}, in rounds]",
        "   the service: its own process on 127.0.0.1 (ThreadingHTTPServer, HTTP/1.1 keep-alive, backlog",
        "   256) that, like a real one, verifies each VAPID JWT (ES256 signature, aud, exp, sub, the site's",
        "   key) and decrypts the aes128gcm body, then answers 201. Subscriptions: real P-256 keys, 16-byte",
        f"   auth secrets. {versions}; own SQLite file",
        "   results/push/push.sqlite3 (the site's options). django-webpush: one user holding all",
        f"   {n:,} subscriptions (one query: its fastest form). deliver_push: notify() to {n:,} users "
        "with one",
        "   subscription each (untimed), then the task's body: the query, payloads with signed read tokens,",
        f"   the pushes streamed at the default concurrency {data.get('concurrency', '?')}, receipts "
        f"written every half wave of {data.get('wave_size', '?')} answers, settling.",
        "   2 cores: the sender and the service are a process each.",
        push_row(cols),
        push_row(under),
    ]
    for latency, rows in data["variants"].items():
        base = rows.get("django-webpush")
        where = "a push service across the internet" if int(latency) else "loopback"
        lines.append(f"   added latency {latency} ms per request ({where}):")
        for path, row in rows.items():
            runs, wall = row["runs"], row["wall_s"]
            speedup = f"{base['wall_s'] / wall:.2f}x" if base and not base["failed_runs"] else "-"
            cpu = f"{1000 * row['sender_cpu_s'] / n:.2f}+{1000 * row['receiver_cpu_s'] / n:.2f}"
            counts = [(r["receiver"]["ok"], r["receiver"]["rejected"]) for r in runs]
            if len(set(counts)) == 1:
                service = f"{counts[0][0]:,}/{counts[0][1]} x{len(runs)}"
            else:
                service = ", ".join(f"{ok}/{rejected}" for ok, rejected in counts)
            note = f"FAILED ({row['failed_runs']} of {len(runs)} runs)" if row["failed_runs"] else ""
            rate = "-" if row["failed_runs"] else f"{n / wall:.0f}"
            cells = (PUSH_LABELS[path], f"{n:,}", f"{wall:.2f}", rate, speedup if rate != "-" else "-", cpu)
            core = f"{100 * row['sender_cpu_s'] / wall:.0f}"
            lines.append(f"{push_row((*cells, core, service))}  {note}".rstrip())
        c1, many, task = rows.get("send_pushes c1"), rows.get("send_pushes"), rows.get("deliver_push")
        if base and c1 and many and task and not any(row["failed_runs"] for row in rows.values()):
            lines += [
                "   where the win comes from: django-webpush -> send_pushes c1 "
                f"{base['wall_s'] / c1['wall_s']:.2f}x (kept-alive connections, one VAPID token per origin);",
                f"     c1 -> default {c1['wall_s'] / many['wall_s']:.2f}x (pushes in flight); deliver_push "
                "over send_pushes (query, payloads, receipts, settling): "
                f"{task['wall_s'] / many['wall_s']:.2f}x the wall time",
            ]
        if (floors := data.get("floor_runs")) and task and not task["failed_runs"]:
            floor = statistics.median(floors)
            lines.append(
                f"   the floor, the pushes' cryptography alone (ephemeral key, ECDH, HKDF, AES-GCM): "
                f"{1000 * floor / n:.3f} ms/push ({n / floor:,.0f}/s; runs {1000 * min(floors) / n:.3f}-"
                f"{1000 * max(floors) / n:.3f}); deliver_push: {task['wall_s'] / floor:.1f}x it in wall "
                f"time, {task['sender_cpu_s'] / floor:.1f}x in CPU"
            )
        worst = max(row["other_cpu_max"] for row in rows.values())
        warn = "  WARNING: busy machine, pushes/s are low" if worst > 15 else ""
        lines.append(
            f"   other processes' CPU during these runs, worst run: {worst:.0f}% of the 2 cores{warn}"
        )
    if slow_reps < reps and any(int(latency) for latency in data["variants"]):
        lines.append(
            f"   (with added latency the two sequential paths run {slow_reps} time(s), BENCH_PUSH_SLOW_REPS:"
            f" {n:,} x the latency is their floor)"
        )
    load = f"{' '.join(data['load_start'])} -> {' '.join(data['load_end'])}"
    lines += [
        "   (CPU ms/push: the sender process's CPU + the service's, per push; sender core %: the sender's",
        f"   CPU over wall time, 100 = one core busy; load average during the section {load})",
    ]


def mail_section(lines: list[str]) -> None:
    """Section 6, email: bench/mail.py writes its own table (results/mail/summary.txt)."""
    summary = RESULTS / "mail" / "summary.txt"
    if summary.exists():
        lines += ["", "6. Email and digests (bench/mail.py; python -m bench.mail runs it alone)"]
        lines += ["   " + line if line else "" for line in summary.read_text().strip("\n").splitlines()]


def push_row(cells) -> str:
    path, pushes, wall, rate, speedup, cpu, core, service = cells
    return (
        f"   {path:<38}  {pushes:>6}  {wall:>6}  {rate:>8}  {speedup:>17}  {cpu:>11}  {core:>6}"
        f"  {service:<11}"
    ).rstrip()


def main() -> None:
    from .common import setup_django

    setup_django()
    lines: list[str] = []
    only = os.environ.get("BENCH_ONLY", "")
    if only == "push":
        header(lines, only_push=True)
        push_section(lines)
        lines += ["", "raw: bench/results/push/push.json (every run), push/summary.txt (this table)"]
        print("\n".join(lines))
        return
    header(lines)
    wrk = wrk_rows()
    inproc = load("inproc")
    wrk_flags = os.environ.get("BENCH_WRK_FLAGS", "wrk -t2 -c16 -d10s --latency, 2 s warm-up discarded")
    if only != "http":
        fanout_section(lines)
        routing_section(lines)
    badge_section(lines, wrk, inproc, wrk_flags)
    dashboard_section(lines, wrk, inproc, wrk_flags)
    lines += [
        "   (/trivial: req/s over the trivial view's on gunicorn, the goals' measure; CPU ms: the server",
        "   processes' CPU time per request,",
        "   which other work on the machine moves less than req/s; in-proc ms: the same GET through",
        "   django.test.Client in one process, no HTTP, median of 5 x 20)",
    ]
    redos = int((RESULTS / "redos.txt").read_text() or 0) if (RESULTS / "redos.txt").exists() else 0
    if redos:
        lines.append(f"   HTTP runs redone because the server died during them: {redos} (raw: wrk/redo*.log)")
    log = RESULTS / "server.log"
    text = log.read_text() if log.exists() else ""
    failures, known = text.count("Traceback"), text.count("RuntimeError: CurrentThreadExecutor already quit")
    if failures:
        lines.append(
            f"   server.log: {failures} tracebacks"
            + (
                ", all asgiref's 'CurrentThreadExecutor already quit' (requests cut off by wrk)"
                if known == failures
                else ""
            )
        )
    if (RESULTS / "push" / "push.json").exists():
        push_section(lines)
    sockets = sockets_report.load()  # section 5 (bench/sockets.py), when it ran
    if sockets is not None:
        lines += ["", *sockets_report.table(sockets)]
    mail_section(lines)  # section 6 (bench/mail.py), when it ran
    start = os.environ.get("BENCH_START")
    lines.append("")
    if start:
        lines.append(f"total bench/run.sh wall time: {time.time() - int(start):.0f} s")
    lines.append(
        "raw: bench/results/wrk/*.txt, queries.sql.txt (SQL per endpoint), explain.txt (query plans),"
        " *.json, anchor.log, push/push.json, sockets/sockets.json, mail/mail.json"
    )
    print("\n".join(lines))
    (RESULTS / "summary.json").write_text(json.dumps({"wrk": wrk}, indent=2))


if __name__ == "__main__":
    main()
