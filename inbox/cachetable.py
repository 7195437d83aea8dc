"""The database cache tables exist after `migrate`: the rate limits of the pages that need no login
(push read/renew, the email links) count in the configured cache, and a DatabaseCache without its
table made each of them a 500. `createcachetable` was one more step an integrator could miss, so
`migrate` runs it (it creates only what is missing, on the databases the routers allow)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import BaseDatabaseCache
from django.core.management import call_command
from django.db import connections, router

__all__ = ["create_cache_tables", "missing_cache_tables"]


def database_caches() -> list[tuple[str, BaseDatabaseCache]]:
    """(table, cache) for each cache in CACHES that keeps its entries in a database table."""
    found = []
    for alias in settings.CACHES:
        cache = caches[alias]
        if isinstance(cache, BaseDatabaseCache):
            # A DatabaseCache's LOCATION is its table's name.
            found.append((settings.CACHES[alias]["LOCATION"], cache))
    return found


def create_cache_tables(sender, using, verbosity=1, **kwargs) -> None:
    """post_migrate (sent once per app; connected for Inbox's only): createcachetable on the
    database just migrated. It does nothing when no cache is a DatabaseCache."""
    if database_caches():
        call_command("createcachetable", database=using, verbosity=max(0, verbosity - 1))


def missing_cache_tables(using: str) -> list[str]:
    """The database caches' tables that database `using` should hold (the cache reads from it)
    and does not."""
    tables = None
    missing = []
    for table, cache in database_caches():
        if router.db_for_read(cache.cache_model_class) != using:
            continue
        if tables is None:
            tables = set(connections[using].introspection.table_names())
        if table not in tables:
            missing.append(table)
    return missing
