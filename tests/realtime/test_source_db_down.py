"""The "database" transport when the database fails at the hub's first read of the events table
(its start): the hub keeps trying with backoff, says so once, says once that it is back, and
then delivers."""

from __future__ import annotations

import logging

import pytest
from django.db import OperationalError, connection

from inbox.api import notify
from inbox.realtime import source_db
from inbox.realtime.models import RealtimeEvent
from inbox.realtime.outage import Outage

from .conftest import db, login_cookie, open_page, run

pytestmark = pytest.mark.django_db(transaction=True)
TABLE = RealtimeEvent._meta.db_table


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def log(monkeypatch):
    """The source's warnings (a handler of its own: the first import of config.asgi replaces the
    root logger's, pytest's caplog among them), from an outage record of this test's own."""
    logger = logging.getLogger("inbox.realtime.source_db")
    monkeypatch.setattr(source_db, "outage", Outage(logger, source_db.outage.what))
    records = Records()
    logger.addHandler(records)
    yield records
    logger.removeHandler(records)


class EventsTableDown:
    """A database error for every query on the events table while `down` (Django's public hook
    around each query of a connection)."""

    def __init__(self):
        self.down = True
        self.refused = 0

    def __call__(self, execute, sql, params, many, context):
        if self.down and TABLE in sql:
            self.refused += 1
            raise OperationalError("the events table is unreachable")
        return execute(sql, params, many, context)


async def until(page, condition, failure: str) -> None:
    for _ in range(200):  # 10 s
        if condition():
            return
        await page.nothing(0.05)
    raise AssertionError(failure)


def test_the_hub_recovers_when_the_database_fails_at_its_start(users, log):
    alice = users["alice"]
    cookie = login_cookie(alice)
    failing = EventsTableDown()

    async def scenario():
        page = await open_page(cookie)  # the hub starts, and its source's start fails
        await until(page, lambda: failing.refused >= 4, "the hub did not keep trying")
        failing.down = False
        await until(page, lambda: len(log.lines) >= 2, f"no recovery in the log: {log.lines}")
        await db(notify)(alice, "Sent once the database answers")
        await page.receive_until("Sent once the database answers", timeout=5)
        await page.comm.disconnect()

    # The hub's queries run on this thread's connection (see conftest: run()).
    with connection.execute_wrapper(failing):
        run(scenario)
    down, back = log.lines
    assert down.startswith("Reading real-time events from the database is down (OperationalError"), down
    assert back.startswith("Reading real-time events from the database is back"), back
    assert not source_db.outage.down
