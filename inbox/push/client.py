"""The push sender's HTTP client: aiohttp on one event loop thread per process, so that the
connections to each push service stay open between tasks (keep-alive), and many
pushes are in flight at once for the CPU cost of one thread.

Where a push may go is checked when a connection is opened (PinnedResolver): the host is
resolved once, every address is checked (inbox.push.endpoints), and the connection goes to a
checked address, while the Host header, TLS server name and certificate check keep the real host
name. An address written in the URL is checked before the request (aiohttp does not resolve it).
No proxy, no .netrc, no cookies, no redirects."""

from __future__ import annotations

import asyncio
import atexit
import ipaddress
import os
import queue
import socket
import ssl
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from .endpoints import BlockedAddress, UnresolvableHost, addresses_of, check_addresses
from .keys import InvalidSubscription

__all__ = ["Post", "Reply", "close_connections", "post_all", "post_stream"]

BODY_LIMIT = 4096  # of an answer: a push service says little; an endpoint is anyone's URL
FINISHED = object()  # Client.post_each's last answer


@dataclass(frozen=True)
class Post:
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int
    reason: str
    retry_after: str | None
    text: str


@cache
def tls_context() -> ssl.SSLContext:
    """The system's trust store, host names checked; one context, so pooled connections match."""
    return ssl.create_default_context()


class PinnedResolver(AbstractResolver):
    """Resolves a push host when aiohttp opens a connection, and gives it only checked addresses."""

    def __init__(self, scheme: str):
        self.scheme = scheme

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_UNSPEC) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        try:
            found = await loop.run_in_executor(None, addresses_of, host, port)
        except (OSError, ValueError) as error:  # socket.gaierror is an OSError; UnicodeError a ValueError
            raise UnresolvableHost(f"{host} did not resolve: {error}") from None
        try:
            check_addresses(self.scheme, found, port)
        except InvalidSubscription as error:
            raise BlockedAddress(str(error)) from None
        return [
            {
                "hostname": host,
                "host": str(address),
                "port": port,
                "family": socket.AF_INET6 if address.version == 6 else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in found
        ]

    async def close(self) -> None:
        pass


def check_literal_address(url: URL, checked: dict | None = None) -> None:
    """An endpoint whose host is an IP address: aiohttp connects to it without asking the
    resolver, so it is checked here, on the very URL object aiohttp is given (a literal cannot
    change between check and connection). `checked` keeps one sending call's verdicts by
    (scheme, host, port), all that the check reads besides the settings, which hold still during
    a call: the endpoints of one push service are checked once per call, each as strictly."""
    origin = (url.scheme, url.raw_host, url.port)
    if checked is not None and origin in checked:
        if (refused := checked[origin]) is not None:
            raise BlockedAddress(refused)
        return
    refused = None
    try:
        address = ipaddress.ip_address(url.raw_host or "")
    except ValueError:
        address = None  # a name: PinnedResolver checks it when a connection is opened
    if address is not None:
        try:
            check_addresses(url.scheme, [address], url.port or 0)
        except InvalidSubscription as error:
            refused = str(error)
    if checked is not None:
        checked[origin] = refused
    if refused is not None:
        raise BlockedAddress(refused)


class Client:
    """An event loop on a thread of its own, and an aiohttp session per URL scheme (each with its
    resolver: http:// is allowed only to loopback, for tests)."""

    def __init__(self):
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.sessions: dict[str, aiohttp.ClientSession] = {}
        threading.Thread(target=self.loop.run_forever, name="inbox-push-client", daemon=True).start()

    def run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def session(self, scheme: str) -> aiohttp.ClientSession:
        """(On the loop.) The scheme's session, made on first use."""
        if (session := self.sessions.get(scheme)) is None or session.closed:
            connector = aiohttp.TCPConnector(
                resolver=PinnedResolver(scheme),
                use_dns_cache=False,  # resolved and checked at every new connection
                limit=0,  # each send_pushes call bounds its own pushes in flight
            )
            session = self.sessions[scheme] = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
            )
        return session

    async def post(self, post: Post, timeout: aiohttp.ClientTimeout, checked: dict) -> Reply:
        url = URL(post.url)  # parsed once: what is checked is what aiohttp connects to
        check_literal_address(url, checked)
        async with self.session(url.scheme).post(
            url,
            data=post.body,
            headers=post.headers,
            allow_redirects=False,  # a push service answers; a redirect could lead inside the network
            ssl=tls_context(),
            timeout=timeout,
        ) as response:
            body = await response.content.read(BODY_LIMIT)
            if not response.content.at_eof():
                response.close()  # not worth reading: drop this connection instead
            return Reply(
                response.status,
                response.reason or "",
                response.headers.get("Retry-After"),
                body.decode(errors="replace"),
            )

    async def post_each(
        self,
        items: Sequence,
        prepare: Callable[[object], Post],
        concurrency: int,
        timeout: float,
        window: asyncio.Semaphore,
        chunk: int,
        hand_over: Callable[[object], None],
    ) -> None:
        """(On the loop.) `concurrency` senders take the items in order, each item once, and a
        sender takes the next one only when `window` has a place for it. The answers, (index,
        Reply or exception), go to `hand_over` in lists of `chunk` (the caller's thread wakes once
        a chunk), the rest at the end; then FINISHED, also when cancelled or failed."""
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        checked: dict = {}  # see check_literal_address
        numbered = iter(enumerate(items))
        answers: list = []

        async def sender() -> None:
            while True:
                await window.acquire()
                if (taken := next(numbered, None)) is None:
                    window.release()
                    return
                index, item = taken
                try:
                    # Prepared (encrypted) here, when its turn comes: CPU between the waits.
                    reply = await self.post(prepare(item), client_timeout, checked)
                except Exception as error:  # one push's failure is its own outcome
                    reply = error
                answers.append((index, reply))
                if len(answers) == chunk:
                    hand_over(answers[:])
                    answers.clear()

        try:
            await asyncio.gather(*(sender() for _ in range(max(1, min(concurrency, len(items))))))
        finally:
            if answers:
                hand_over(answers[:])
            hand_over(FINISHED)

    async def close(self) -> None:
        sessions, self.sessions = list(self.sessions.values()), {}
        for session in sessions:
            await session.close()


_client: Client | None = None
_lock = threading.Lock()


def client() -> Client:
    """This process's client (a forked worker makes its own: a loop does not survive fork)."""
    global _client
    with _lock:
        if _client is None or _client.pid != os.getpid():
            _client = Client()
        return _client


def post_stream(
    items: Sequence,
    prepare: Callable[[object], Post],
    *,
    concurrency: int,
    timeout: float,
    chunk: int,
    limit: int | None = None,
) -> Iterator[list[tuple[int, Reply | Exception]]]:
    """POST `prepare(item)` for every item, in order, at most `concurrency` at once, over
    kept-alive connections, and yield the answers as they come, `chunk` at a time (the last chunk
    may be shorter): (the item's index, a Reply or the exception). The pushes go on while the
    caller works on a chunk, but one starts only while fewer than `limit` (at least `chunk`;
    by default `chunk` + `concurrency`) have started and are not in a chunk the caller is done
    with (it is done with a chunk when it asks for the next). Leaving the loop early (break, an
    exception) stops the pushes not yet answered."""
    running = client()
    chunks: queue.SimpleQueue = queue.SimpleQueue()
    chunk = max(1, chunk)
    window = asyncio.Semaphore(max(chunk, limit or chunk + max(1, concurrency)))
    sending = asyncio.run_coroutine_threadsafe(
        running.post_each(items, prepare, concurrency, timeout, window, chunk, chunks.put), running.loop
    )

    def free(places: int) -> None:  # on the loop: asyncio's primitives are not thread-safe
        for _ in range(places):
            window.release()

    try:
        while (got := chunks.get()) is not FINISHED:
            yield got
            running.loop.call_soon_threadsafe(free, len(got))
        sending.result()  # raises what stopped the senders, if anything did
    finally:
        sending.cancel()


def post_all(
    items: Sequence, prepare: Callable[[object], Post], *, concurrency: int, timeout: float
) -> list[Reply | Exception]:
    """POST `prepare(item)` for every item, at most `concurrency` at once, over kept-alive
    connections: a Reply or the exception, in the items' order."""
    replies: list[Reply | Exception] = [None] * len(items)  # type: ignore[list-item]
    for got in post_stream(
        items, prepare, concurrency=concurrency, timeout=timeout, chunk=max(1, len(items))
    ):
        for index, reply in got:
            replies[index] = reply
    return replies


def close_connections() -> None:
    """Close every open connection (at exit; tests)."""
    if _client is not None and _client.pid == os.getpid() and _client.loop.is_running():
        _client.run(_client.close())


atexit.register(close_connections)
