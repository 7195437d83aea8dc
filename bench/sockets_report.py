"""The socket benchmark's table, from results/sockets/sockets.json (bench/sockets.py writes it;
bench/report.py adds this table to the full run's summary)."""

from __future__ import annotations

import json
import statistics

from .sockets_common import SOCKETS_RESULTS

__all__ = ["load", "table"]


def load() -> dict | None:
    path = SOCKETS_RESULTS / "sockets.json"
    return json.loads(path.read_text()) if path.exists() else None


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def kib(size: float) -> str:
    return f"{size / 1024:.1f} KiB"


def verdict(value: float, goal: float) -> str:
    if value < goal:
        return f"met (goal p99 < {ms(goal)})"
    return f"MISSED by {ms(value - goal)}, {value / goal:.1f}x (goal p99 < {ms(goal)})"


def table(data: dict) -> list[str]:
    idle = data["idle_seconds"]
    lines = [
        "5. WebSockets beside the badge polling they replace, served as `make run` serves them: sockets by",
        f"   uvicorn config.asgi, polling by gunicorn config.wsgi, {data['workers']} workers each, SQLite;"
        " the load client (asyncio, websockets) on the same 2 cores",
        f"   {'':<44}  {'server memory':>13}  {'server CPU, ' + str(int(idle)) + ' s':>17}"
        f"  {'client CPU':>10}  {'other':>5}",
        f"   {'':<44}  {'per tab':>13}  {'% of one core':>17}  {'% of a core':>10}  {'load':>5}",
    ]
    sockets = {(s["n"], s["transport"]): s for s in data["sockets"]}
    polls = {poll["n"]: poll for poll in data["polling"]}
    for n in sorted({n for n, _ in sockets} | set(polls)):  # a quick run has sockets only
        poll = polls.get(n)
        if poll is not None:
            lat = poll["latency"]
            lines.append(
                f"   {n:>6,} tabs polling the badge every {data['poll_every']:.0f} s     "
                f"  {kib(poll['rss_growth'] / n):>13}  {poll['server_core_pct']:>16.1f}%"
                f"  {poll['client_core_pct']:>9.1f}%  {poll['other_pct']:>4.0f}%"
            )
            lines.append(
                f"   {'':6}   {poll['rps']:.0f} req/s of {poll['target_rps']:.0f} due,"
                f" p50 {ms(lat.get('p50', 0))}, p99 {ms(lat.get('p99', 0))};"
                f" errors {poll['errors']}, skipped {poll['skipped']}"
            )
        for transport, label in (("database", "embedded"), ("layer", "Redis")):
            s = sockets.get((n, transport))
            if s is None:
                continue
            lines.append(
                f"   {n:>6,} idle sockets ({label}){'':<{23 - len(label)}}"
                f"  {kib(s['rss_growth'] / n):>13}  {s['idle']['server_core_pct']:>16.1f}%"
                f"  {s['idle']['client_core_pct']:>9.1f}%  {s['idle']['other_pct']:>4.0f}%"
            )
            lines.append(
                f"   {'':6}   opened in {s['connect_seconds']:.1f} s ({n / s['connect_seconds']:.0f}/s,"
                f" server {s['connect_cpu']['server_cpu']:.1f} CPU s); per worker {s['per_worker']};"
                f" lost {s.get('lost', 0)}"
            )
    largest = max(data["sizes"])
    for transport, label in (("database", "embedded (database)"), ("layer", "Redis (layer)")):
        s = sockets.get((largest, transport))
        if s is None or "latency" not in s:
            if transport == "layer" and not data.get("redis"):
                lines.append("   Redis: not reachable, its rows are left out")
            continue
        lat, goal = s["latency"], data["goals"][transport]
        a = lat["arrival"]
        lines.append(
            f"   notify() -> frame, 1 recipient, {largest:,} sockets open, {label}, {lat['sends']} sends:"
        )
        if a["n"]:
            lines.append(
                f"      p50 {ms(a['p50'])}, p99 {ms(a['p99'])}, max {ms(a['max'])}; missed {lat['missed']};"
                f" notify() itself p50 {ms(lat['notify']['p50'])}: {verdict(a['p99'], goal)}"
            )
        else:
            lines.append(f"      no frame arrived ({lat['missed']} missed)")
        runs = s["broadcast"]
        goal = data["goals"]["broadcast"]
        p99s = [r["arrival"]["p99"] for r in runs if r["arrival"]["n"]]
        lines.append(
            f"   broadcast to all {largest:,} users, {label}, {len(runs)} runs (time after notify() began):"
        )
        for r in runs:
            arr = r["arrival"]
            lines.append(
                f"      {r['received']:>6,}/{r['sockets']:,} sockets: p50 {ms(arr.get('p50', 0))},"
                f" p99 {ms(arr.get('p99', 0))}, max {ms(arr.get('max', 0))}; notify() {ms(r['notify'])};"
                f" server {r['server_cpu']:.1f} CPU s, client {r['client_cpu']:.1f} CPU s,"
                f" other load {r['other_pct']:.0f}%"
            )
        if p99s:
            lines.append(
                f"      p99 median {ms(statistics.median(p99s))} (runs {ms(min(p99s))} to {ms(max(p99s))}):"
                f" {verdict(statistics.median(p99s), goal)}"
            )
    ext = next((s["extensions"] for s in data["sockets"] if s.get("extensions")), "")
    lines += [
        f"   (memory: RSS growth of the server and its workers / N; sockets offer compression as Chromium,"
        f" the server answered '{ext or 'none'}';",
        "   idle: uvicorn pings every socket each 20 s (its default), the pages send nothing; polling: one",
        "   new connection per poll, spread evenly, the same users and cookies; other load = CPU that other",
        f"   processes took; load average before: {' '.join(data.get('load_before', []))};"
        f" {data.get('wall', 0):.0f} s in all)",
    ]
    return lines


if __name__ == "__main__":
    result = load()
    print("\n".join(table(result)) if result else "no results/sockets/sockets.json: run bench/sockets.py")
