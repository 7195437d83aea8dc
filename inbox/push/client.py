"""The push sender's HTTP client: aiohttp on one event loop thread per process, so that the
connections to each push service stay open between waves and tasks (keep-alive), and many
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
import socket
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from .endpoints import BlockedAddress, UnresolvableHost, addresses_of, check_addresses
from .keys import InvalidSubscription

__all__ = ["Post", "Reply", "close_connections", "post_all"]

BODY_LIMIT = 4096  # of an answer: a push service says little; an endpoint is anyone's URL


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


def check_literal_address(url: URL) -> None:
    """An endpoint whose host is an IP address: aiohttp connects to it without asking the
    resolver, so it is checked here, on the very URL object aiohttp is given (a literal cannot
    change between check and connection)."""
    try:
        address = ipaddress.ip_address(url.raw_host or "")
    except ValueError:
        return  # a name: PinnedResolver checks it when a connection is opened
    try:
        check_addresses(url.scheme, [address], url.port or 0)
    except InvalidSubscription as error:
        raise BlockedAddress(str(error)) from None


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

    async def post(self, post: Post, timeout: aiohttp.ClientTimeout) -> Reply:
        url = URL(post.url)  # parsed once: what is checked is what aiohttp connects to
        check_literal_address(url)
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

    async def post_all(
        self, items: Sequence, prepare: Callable[[object], Post], concurrency: int, timeout: float
    ) -> list[Reply | Exception]:
        limit = asyncio.Semaphore(max(1, concurrency))
        client_timeout = aiohttp.ClientTimeout(total=timeout)

        async def one(item) -> Reply | Exception:
            async with limit:
                try:
                    # Prepared (encrypted) here, under the limit: CPU between the waits.
                    return await self.post(prepare(item), client_timeout)
                except Exception as error:  # one push's failure is its own outcome
                    return error

        return await asyncio.gather(*(one(item) for item in items))

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


def post_all(
    items: Sequence, prepare: Callable[[object], Post], *, concurrency: int, timeout: float
) -> list[Reply | Exception]:
    """POST `prepare(item)` for every item, at most `concurrency` at once, over kept-alive
    connections: a Reply or the exception, in the items' order."""
    running = client()
    return running.run(running.post_all(items, prepare, concurrency, timeout))


def close_connections() -> None:
    """Close every open connection (at exit; tests)."""
    if _client is not None and _client.pid == os.getpid() and _client.loop.is_running():
        _client.run(_client.close())


atexit.register(close_connections)
