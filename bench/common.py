"""Helpers shared by the benchmark steps: Django setup, results files, timing, query counting."""

from __future__ import annotations

import json
import os
import statistics
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

# BENCH_RESULTS: another folder (run.sh's PostgreSQL variant of the HTTP sections: results/pg).
RESULTS = Path(os.environ.get("BENCH_RESULTS") or Path(__file__).resolve().parent / "results")


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()


def save(name: str, data) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2, default=str))


def load(name: str):
    return json.loads((RESULTS / f"{name}.json").read_text())


@contextmanager
def count_queries(using: str = "default"):
    """Count SQL statements by their first word (an execute wrapper: no debug cursor overhead)."""
    from django.db import connections

    counts: Counter[str] = Counter()

    def wrapper(execute, sql, params, many, context):
        counts[sql.split(None, 1)[0].upper()] += 1
        return execute(sql, params, many, context)

    with connections[using].execute_wrapper(wrapper):
        yield counts


class NamedParams(dict):
    """A statement's named parameters, hashable like positional ones (results key on them)."""

    def __hash__(self):
        return hash(tuple(sorted(self.items())))


@contextmanager
def capture_sql(using: str = "default"):
    """Record every statement as (sql, params), ready to re-run (e.g. under EXPLAIN QUERY PLAN)."""
    from django.db import connections

    statements: list[tuple[str, tuple | NamedParams]] = []

    def wrapper(execute, sql, params, many, context):
        named = isinstance(params, dict)
        statements.append((sql, NamedParams(params) if named else tuple(params or ())))
        return execute(sql, params, many, context)

    with connections[using].execute_wrapper(wrapper):
        yield statements


def median_ms(func, *, reps: int = 5, calls: int = 20) -> float:
    """Median over `reps` of the mean wall time of `calls` calls of func(), in milliseconds."""
    func()  # warm: templates, content types, the SQLite page cache
    per_call = []
    for _ in range(reps):
        started = time.perf_counter()
        for _ in range(calls):
            func()
        per_call.append((time.perf_counter() - started) / calls)
    return 1000 * statistics.median(per_call)
