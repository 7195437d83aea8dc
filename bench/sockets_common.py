"""Paths and /proc readings shared by the socket benchmark's modules (no Django here: the load
client imports it too)."""

from __future__ import annotations

import os
from pathlib import Path

# BENCH_SOCKETS_RESULTS moves it (e.g. out of the way of another section's run that clears results/).
SOCKETS_RESULTS = Path(
    os.environ.get("BENCH_SOCKETS_RESULTS", Path(__file__).resolve().parent / "results" / "sockets")
)
USERS_FILE = SOCKETS_RESULTS / "users.tsv"  # user id, session key, newest cursor, shown ids
CLK_TCK = os.sysconf("SC_CLK_TCK")


def family(pid: int) -> list[int]:
    """`pid` and its child processes (uvicorn's workers)."""
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return pids
    for child in children:
        pids += family(int(child))
    return pids


def cpu_seconds(pids) -> float:
    """User + system CPU time of the processes, in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / CLK_TCK


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def socket_fds(pid: int) -> int:
    """How many sockets the process holds open."""
    count = 0
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                    count += 1
            except OSError:
                pass
    except OSError:
        pass
    return count


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)
