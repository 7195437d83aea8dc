"""config.asgi's application with a switchable profiler, for finding what a broadcast costs the
server (BENCH_SOCKETS_PROFILE=1 python -m bench.sockets serves this instead of config.asgi).

SIGUSR1 starts cProfile on the worker's event-loop thread (where the hub fans out), SIGUSR2 stops
it and writes results/sockets/profile-<pid>.prof (python -m pstats, or bench/sockets.py prints
the top entries). The database reads run in a worker thread and are not in it.
"""

from __future__ import annotations

import cProfile
import os
import signal

from config.asgi import application

from .sockets_common import SOCKETS_RESULTS

__all__ = ["application"]

_profiler: cProfile.Profile | None = None


def _start(signum, frame) -> None:
    global _profiler
    _profiler = cProfile.Profile()
    _profiler.enable()


def _stop(signum, frame) -> None:
    global _profiler
    if _profiler is not None:
        _profiler.disable()
        _profiler.dump_stats(SOCKETS_RESULTS / f"profile-{os.getpid()}.prof")
        _profiler = None


signal.signal(signal.SIGUSR1, _start)
signal.signal(signal.SIGUSR2, _stop)
