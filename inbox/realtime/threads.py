"""The one way a socket reaches the database: a worker thread, in a throwaway context."""

from __future__ import annotations

import asyncio

from channels.db import database_sync_to_async

__all__ = ["in_thread"]


async def in_thread(func, *args):
    """database_sync_to_async(func)(*args) in a copy of the caller's context. After each call
    asgiref sets every context variable again (a new object for each of Django's Locals); in a
    long-lived socket's own context those copies would stay for the socket's life, objects for
    every full garbage collection to walk."""
    return await asyncio.create_task(database_sync_to_async(func)(*args))
