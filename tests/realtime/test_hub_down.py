"""Real time through Redis when Redis is down or hung: the hub notices (channels-redis does not
tell it), closes its sockets with 4503 so that their pages poll, says so once in the log, and
says once that it is back; the pages' sockets then deliver again."""

from __future__ import annotations

import asyncio
import logging
import os

import pytest

from inbox.api import notify
from inbox.realtime import source_layer
from inbox.realtime.hub import REALTIME_DOWN

from .conftest import close_code, communicator, db, login_cookie, open_page, run
from .fake_redis import REDIS_URL, HungRedis, closed_port_url, layer_settings, redis_or_skip


@pytest.fixture(autouse=True)
def layer_transport(settings, monkeypatch):
    settings.INBOX_REALTIME_TRANSPORT = "layer"
    monkeypatch.setattr(source_layer, "TIMEOUT_SECONDS", 0.5)
    monkeypatch.setattr(source_layer, "RETRY_SECONDS", 0.05)


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def caplog():
    """The warnings of real time and of channels-redis. (pytest's caplog hangs on the root
    logger, whose handlers the first import of config.asgi replaces: its django.setup().)"""
    records = Records()
    loggers = [logging.getLogger(name) for name in ("inbox.realtime", "channels_redis")]
    for logger in loggers:
        logger.addHandler(records)
    yield records
    for logger in loggers:
        logger.removeHandler(records)


def lines(caplog, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == name]


async def closed_with(cookie: str) -> int | None:
    comm = communicator(cookie)
    connected, _ = await comm.connect()
    assert connected
    code = await close_code(comm, timeout=5)
    await comm.wait()
    return code


def test_sockets_close_while_redis_refuses_connections(users, settings, caplog):
    settings.CHANNEL_LAYERS = layer_settings(closed_port_url(), f"inbox-test-{os.getpid()}")
    cookie = login_cookie(users["alice"])

    async def scenario():
        return [await closed_with(cookie) for _ in range(3)]

    assert run(scenario) == [REALTIME_DOWN] * 3  # a new socket too: it would stay silent
    down = lines(caplog, "inbox.realtime.hub")
    assert len(down) == 1 and "is down (ConnectionError" in down[0], down
    assert lines(caplog, "channels_redis.pubsub") == []  # no traceback per retry


def test_sockets_close_when_redis_hangs(users, settings, caplog):
    hung = HungRedis()
    settings.CHANNEL_LAYERS = layer_settings(hung.url, f"inbox-test-{os.getpid()}")
    cookie = login_cookie(users["alice"])
    try:
        assert run(closed_with, cookie) == REALTIME_DOWN
    finally:
        hung.close()
    assert hung.connections >= 1
    down = lines(caplog, "inbox.realtime.hub")
    assert len(down) == 1 and "is down (TimeoutError" in down[0], down


def test_when_redis_is_back_the_first_socket_delivers(users, settings, caplog):
    """The hub stopped with its last socket during the outage; the next socket starts it again
    and must not be closed for the outage the stopped source saw (with
    INBOX_REALTIME_IDLE_SECONDS=0 every socket would be that first one: real time down for good)."""
    redis_or_skip()
    settings.CHANNEL_LAYERS = layer_settings(closed_port_url(), f"inbox-test-{os.getpid()}")
    alice = users["alice"]
    cookie = login_cookie(alice)

    async def scenario():
        assert await closed_with(cookie) == REALTIME_DOWN
        settings.CHANNEL_LAYERS = layer_settings(REDIS_URL, f"inbox-test-{os.getpid()}")
        page = await open_page(cookie)  # not closed on connect
        for _ in range(100):  # its hub subscribes (it says so in the log)
            if len(lines(caplog, "inbox.realtime.hub")) == 2:
                break
            await asyncio.sleep(0.05)
        await db(notify)(alice, "Sent to the first socket since")
        await page.receive_until("Sent to the first socket since", timeout=5)
        await page.comm.disconnect()

    run(scenario)
    down, back = lines(caplog, "inbox.realtime.hub")
    assert "is down" in down and "is back" in back
