"""config.asgi's application with a switchable profiler, for finding what a broadcast costs the
server (BENCH_SOCKETS_PROFILE=1 python -m bench.sockets serves this instead of config.asgi).

SIGUSR1 starts cProfile in the worker, SIGUSR2 stops it and writes
results/sockets/profile-<pid>-<k>.prof (k counts the windows: 1 = opening the sockets, then one
per broadcast); read them with pstats. On Python 3.12+ cProfile sees every thread of the process,
so the database reads that database_sync_to_async runs in its thread are in it too.
"""

from __future__ import annotations

import cProfile
import os
import signal

from config.asgi import application

from .sockets_common import SOCKETS_RESULTS

__all__ = ["application"]

_profiler: cProfile.Profile | None = None
_windows = 0


def _start(signum, frame) -> None:
    global _profiler
    _profiler = cProfile.Profile()
    _profiler.enable()


def _stop(signum, frame) -> None:
    global _profiler, _windows
    if _profiler is not None:
        _profiler.disable()
        _windows += 1
        _profiler.dump_stats(SOCKETS_RESULTS / f"profile-{os.getpid()}-{_windows}.prof")
        _profiler = None


signal.signal(signal.SIGUSR1, _start)
signal.signal(signal.SIGUSR2, _stop)
