"""Real-time tests: Channels' WebsocketCommunicator against the site's ASGI application.

Each test is a plain function that runs its async scenario with `run(...)` (asgiref's
async_to_sync): the consumer's database work (database_sync_to_async, thread-sensitive) then runs
on the test's own thread and connection, so django_assert_num_queries counts it. The tests use
transaction=True databases: the hub reads what notify() committed, as in production.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

ORIGIN = "http://testserver"


@pytest.fixture(autouse=True)
def fast_hub(settings):
    """The hub reads events every 20 ms, looks for expiries every 100 ms and stops as soon as
    its last socket closes (each test runs in an event loop of its own)."""
    settings.INBOX_REALTIME_POLL_SECONDS = 0.02
    settings.INBOX_REALTIME_EXPIRY_SECONDS = 0.1
    settings.INBOX_REALTIME_IDLE_SECONDS = 0
    settings.INBOX_REALTIME_TRANSPORT = "database"


@pytest.fixture
def users(transactional_db):
    return {name: User.objects.create_user(name, password=f"pw-{name}") for name in ("alice", "bob")}


def run(scenario, *args):
    """Run an async scenario from a sync test."""
    return async_to_sync(scenario)(*args)


def login_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def socket_path() -> str:
    return reverse("inbox:realtime")


def communicator(
    cookie: str | None = None,
    origin: str | None = ORIGIN,
    path: str | None = None,
    *,
    host: str = "testserver",
    headers=(),
):
    from config.asgi import application

    headers = [(b"host", host.encode()), *headers]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if cookie:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    return WebsocketCommunicator(application, path or socket_path(), headers=headers)


def hello(**fields) -> str:
    message = {
        "type": "hello",
        "tab": "tab-1",
        "csrf": "a" * 64,
        "page": "other",
        "filter": "all",
        "top": True,
        "newest": "",
        "shown": [],
        "dropdown": False,
    }
    message.update(fields)
    return json.dumps(message)


async def next_output(comm: WebsocketCommunicator, timeout: float) -> dict:
    """The application's next ASGI message. Unlike comm.receive_output(), a timeout here
    (asyncio.TimeoutError) leaves the application running."""
    deadline = time.monotonic() + timeout
    while True:
        if comm.future.done():
            comm.future.result()  # the consumer's exception, if it crashed
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        try:
            return await asyncio.wait_for(comm.output_queue.get(), min(left, 0.05))
        except TimeoutError:
            continue


def split_frame(text: str) -> tuple[str, dict]:
    """A frame's HTML (its "content", what hx-ws swaps) and the rest (what realtime.js reads)."""
    data = json.loads(text)
    assert isinstance(data, dict) and set(data) <= {"content", "badge", "read", "all_read"}, data
    return data.pop("content", ""), data


class Page:
    """One open page: a connected socket and what it received."""

    def __init__(self, comm: WebsocketCommunicator):
        self.comm = comm
        self.html: list[str] = []  # each frame's HTML
        self.data: list[dict] = []  # each frame's other fields (badge, read, all_read)
        self.frames = 0
        self.catch_up: list[str] = []  # the HTML that answered the hello

    async def receive(self, timeout: float = 1.0) -> str:
        """The next frame's HTML."""
        message = await next_output(self.comm, timeout)
        assert message["type"] == "websocket.send", message
        html, data = split_frame(message["text"])
        self.frames += 1
        self.html.append(html)
        self.data.append(data)
        return html

    async def receive_until(self, needle: str, timeout: float = 2.0) -> str:
        """Frames until one whose HTML contains `needle`; that HTML."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"No frame with {needle!r} within {timeout} s; got {self.html}")
            try:
                frame = await self.receive(timeout=left)
            except TimeoutError:
                continue
            if needle in frame:
                return frame

    async def data_until(self, predicate, timeout: float = 2.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for frame in self.data:
                if predicate(frame):
                    self.data.remove(frame)
                    return frame
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"No matching frame data within {timeout} s; got {self.data}")
            try:
                await self.receive(timeout=left)
            except TimeoutError:
                continue

    async def drain(self, quiet: float = 0.15) -> list[str]:
        """Everything that arrives until the socket is quiet for `quiet` seconds."""
        frames = []
        while True:
            try:
                frames.append(await self.receive(timeout=quiet))
            except TimeoutError:
                return frames

    async def nothing(self, timeout: float = 0.3) -> bool:
        return await self.comm.receive_nothing(timeout=timeout)


async def open_page(cookie: str, **hello_fields) -> Page:
    """Connect, say hello (unless hello_fields is None), and read the catch-up."""
    comm = communicator(cookie)
    connected, _ = await comm.connect()
    assert connected
    page = Page(comm)
    await comm.send_to(text_data=hello(**hello_fields))
    await page.receive_until("inbox-badge")
    await page.drain(0.05)
    page.catch_up, page.html, page.data, page.frames = page.html, [], [], 0
    return page


async def close_code(comm: WebsocketCommunicator, timeout: float = 2.0) -> int | None:
    """The close code of the next message the server sends (None if it is not a close)."""
    message = await next_output(comm, timeout)
    return message.get("code") if message["type"] == "websocket.close" else None


db = database_sync_to_async
