"""A burst of 10,000 real-time events through the database transport (issue 19, "Benchmarks"):

    python -m bench.sockets_burst        (run.sh runs it: BENCH_ONLY=burst bash bench/run.sh)

On the socket benchmark's own SQLite file and server (bench/sockets.py: uvicorn, BENCH_SOCKET_
WORKERS workers, the embedded "database" transport), BENCH_BURST_SOCKETS users (100) each have a
socket open. The sender process (bench/sockets_send.py) makes BENCH_BURST_EVENTS notifications
(10,000: one each, round robin over those users) with their real-time events held back, then
publishes the 10,000 events at once, in transactions of 1,000 (about a second: a loop of
notify() calls). Measured, BENCH_BURST_RUNS times (3), each on the same server:
  - the time from the burst's first event until the last socket has its last frame (every
    frame of the burst counted: none may be lost);
  - then the latency of the next single notify() to one socket (the hub no longer behind).
Before issue 19 the transport stopped for minutes after 1,000 events within 10 s: no figure.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import statistics
import sys
import time

import uvloop
from websockets.exceptions import ConnectionClosed

from .sockets import Fleet, Sender, Server, Watch, load_users, seed
from .sockets_common import SOCKETS_RESULTS

EVENTS = int(os.environ.get("BENCH_BURST_EVENTS", "10000"))
SOCKETS = int(os.environ.get("BENCH_BURST_SOCKETS", "100"))
RUNS = int(os.environ.get("BENCH_BURST_RUNS", "3"))
WAIT_SECONDS = 600  # a burst not delivered within this long counts as stalled


class Counter(Fleet):
    """The fleet, counting every burst frame each socket receives."""

    def __init__(self, users):
        super().__init__(users)
        self.burst_marker = None
        self.counts: dict[int, int] = {}

    async def read(self, index, ws):
        try:
            async for frame in ws:
                self.frames += 1
                if self.burst_marker is not None and self.burst_marker in frame:
                    self.counts[index] = self.counts.get(index, 0) + 1
                watch = self.watch
                if watch is not None and watch.marker in frame:
                    watch.hit(index, time.monotonic())
        except ConnectionClosed:
            pass
        if not self.closing:
            self.lost += 1


async def one_run(fleet: Counter, sender: Sender, run: int) -> dict:
    marker = f"burst-{secrets.token_hex(3)}"
    fleet.burst_marker, fleet.counts = marker, {}
    # The last notification of each socket's share carries the end marker.
    fleet.watch = Watch(f"{marker}-end", SOCKETS)
    # Sender.send() waits 120 s at most: making 10,000 notifications may take longer here.
    sender.process.stdin.write(f"burst {SOCKETS} {EVENTS} {marker}\n".encode())
    await sender.process.stdin.drain()
    answer = (await asyncio.wait_for(sender.process.stdout.readline(), WAIT_SECONDS)).split()
    t0, t1, published = float(answer[0]), float(answer[1]), int(answer[2])
    try:
        await asyncio.wait_for(fleet.watch.done.wait(), WAIT_SECONDS)
        last = max(fleet.watch.times.values()) - t0
    except TimeoutError:
        last = None
    await asyncio.sleep(0.5)  # frames still arriving would be counted as received
    received = sum(fleet.counts.values())
    probe = f"probe-{marker}"
    fleet.watch = Watch(probe, 1)
    p0, _, _ = await sender.send(f"one {fleet.users[0][0]} After the burst {probe}")
    try:
        await asyncio.wait_for(fleet.watch.done.wait(), 60)
        after = fleet.watch.times[0] - p0
    except TimeoutError:
        after = None
    fleet.watch = None
    return {
        "run": run,
        "events": published,
        "publish_seconds": t1 - t0,
        "last_frame_seconds": last,
        "frames_expected": EVENTS,
        "frames_received": received,
        "next_event_seconds": after,
    }


async def main() -> dict:
    seed(SOCKETS)
    users = load_users()[:SOCKETS]
    server = Server(redis=False)
    await server.start()
    fleet, sender = Counter(users), Sender(redis=False, env=server.env)
    results = {"events": EVENTS, "sockets": SOCKETS, "runs": [], "load_before": os.getloadavg()}
    try:
        await fleet.open_all(range(len(users)))
        await sender.start()
        for run in range(RUNS):
            print(f"  burst {run + 1} of {RUNS}: {EVENTS:,} events to {SOCKETS} sockets ...", flush=True)
            results["runs"].append(await one_run(fleet, sender, run))
            await asyncio.sleep(2)
        await sender.stop()
    finally:
        await fleet.close_all()
        server.stop()
    results["load_after"] = os.getloadavg()
    return results


def table(data: dict) -> list[str]:
    lines = [
        f"A burst of {data['events']:,} events through the database transport to {data['sockets']} sockets "
        f"(load before {data['load_before'][0]:.1f}, after {data['load_after'][0]:.1f} on this machine)",
        "run  publish s  last frame s  frames received     next event ms",
    ]
    for r in data["runs"]:
        last = "stalled" if r["last_frame_seconds"] is None else f"{r['last_frame_seconds']:.2f}"
        after = "none" if r["next_event_seconds"] is None else f"{r['next_event_seconds'] * 1000:.0f}"
        received = f"{r['frames_received']:,} / {r['frames_expected']:,}"
        lines.append(
            f"{r['run'] + 1:>3}  {r['publish_seconds']:>9.2f}  {last:>12}  {received:>15}  {after:>16}"
        )
    done = [r["last_frame_seconds"] for r in data["runs"] if r["last_frame_seconds"] is not None]
    nexts = [r["next_event_seconds"] * 1000 for r in data["runs"] if r["next_event_seconds"] is not None]
    if done:
        lines.append(
            f"last frame: median {statistics.median(done):.2f} s, {min(done):.2f} to {max(done):.2f}"
        )
    if nexts:
        lines.append(
            f"next event: median {statistics.median(nexts):.0f} ms, {min(nexts):.0f} to {max(nexts):.0f}"
        )
    return lines


if __name__ == "__main__":
    SOCKETS_RESULTS.mkdir(parents=True, exist_ok=True)
    data = uvloop.run(main())
    (SOCKETS_RESULTS / "burst.json").write_text(json.dumps(data, indent=2))
    print("\n".join(table(data)))
    if any(
        r["last_frame_seconds"] is None or r["frames_received"] < r["frames_expected"] for r in data["runs"]
    ):
        sys.exit("the burst did not reach every socket")
