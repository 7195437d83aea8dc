"""The tests' RQ worker: inbox's, with a 2 s heartbeat and maintenance, so that the job of a
killed worker is marked failed (abandoned) 62 s after it died (RQ adds 60 s to the heartbeat)
rather than 90 + 30 s: the same code path, a shorter wait. Its delivery is the outbox's to run
again, sooner (the test's short lease)."""

from __future__ import annotations

from inbox.workers import Worker


class FastWorker(Worker):
    MAINTENANCE_SECONDS = 2
    JOB_MONITORING_SECONDS = 2
