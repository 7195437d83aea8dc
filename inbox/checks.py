"""System checks: the keys the site needs are present and test-only switches are off.

`manage.py check --deploy` runs the ones tagged `deploy`; a production start-up should run it."""

from __future__ import annotations

from importlib.util import find_spec

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.db import connections
from django.db.migrations.exceptions import NodeNotFoundError
from django.db.migrations.executor import MigrationExecutor
from django.urls import NoReverseMatch, reverse

from .cachetable import missing_cache_tables
from .conf import inbox_setting
from .workers import RQ_BACKEND

__all__ = [
    "check_cache_tables",
    "check_channels_setting",
    "check_host_setup",
    "check_rq_extra",
    "check_secret_key",
    "check_service_worker",
    "missing_extra",
]

# What a project that adds Inbox must have besides the apps of Inbox it lists, app by app (the
# README's "Add Inbox to your project"). The core needs none.
REQUIRED_APPS = {"inbox.push": ["webpush"], "inbox.web": ["django.contrib.humanize", "django_htmx"]}
REQUIRED_MIDDLEWARE = {
    "inbox.web": ["django_htmx.middleware.HtmxMiddleware"],
    "inbox.pwa": ["inbox.pwa.privacy.privacy_middleware"],
}


@checks.register()
def check_host_setup(app_configs, **kwargs):
    """The apps and middleware the installed apps of Inbox need, named at `manage.py check`, not
    at a page's 500."""
    missing = [
        *(
            ("INSTALLED_APPS", name)
            for app, names in REQUIRED_APPS.items()
            if apps.is_installed(app)
            for name in names
            if name not in settings.INSTALLED_APPS
        ),
        *(
            ("MIDDLEWARE", name)
            for app, names in REQUIRED_MIDDLEWARE.items()
            if apps.is_installed(app)
            for name in names
            if name not in settings.MIDDLEWARE
        ),
    ]
    return [
        checks.Error(
            f"Inbox needs {name!r} in {setting}.",
            hint="See the README's section 'Add Inbox to your project'.",
            id="inbox.E003",
        )
        for setting, name in missing
    ]


def missing_extra(app: str, extra: str, modules: tuple[str, ...]) -> list[checks.Error]:
    """inbox.E007 when an installed app of Inbox cannot import the libraries of its extra (a
    channel's check, registered by its ready(), which then registers nothing else)."""
    missing = [name for name in modules if not importable(name)]
    if not missing:
        return []
    return [
        checks.Error(
            f"{app} is in INSTALLED_APPS, but its libraries are not installed ({', '.join(missing)}).",
            hint=f'pip install "django-notification-inbox[{extra}]", or remove "{app}" from INSTALLED_APPS.',
            id="inbox.E007",
        )
    ]


def importable(name: str) -> bool:
    """Whether the library `name` is installed (find_spec raises, rather than answering None,
    when an import hook refuses it or a parent package is missing)."""
    try:
        return find_spec(name) is not None
    except ImportError:
        return False


@checks.register()
def check_rq_extra(app_configs, **kwargs):
    """The RQ task backend in TASKS needs the [rq] extra."""
    backends = {str(task.get("BACKEND", "")) for task in getattr(settings, "TASKS", {}).values()}
    missing = [name for name in ("django_tasks_rq", "rq") if not importable(name)]
    if RQ_BACKEND not in backends or not missing:
        return []
    return [
        checks.Error(
            f"TASKS uses {RQ_BACKEND}, but its libraries are not installed ({', '.join(missing)}).",
            hint='pip install "django-notification-inbox[rq]", or use another task backend.',
            id="inbox.E007",
        )
    ]


CHANNEL_APPS = ("inbox.realtime", "inbox.push", "inbox.mail", "inbox.pwa", "inbox.web")


@checks.register()
def check_channels_setting(app_configs, **kwargs):
    """INBOX_CHANNELS is no longer read: each channel is an app, and INSTALLED_APPS is the one
    switch. A site that still sets it would otherwise get every channel it meant to leave out."""
    if not hasattr(settings, "INBOX_CHANNELS"):
        return []
    return [
        checks.Error(
            "INBOX_CHANNELS is no longer read: each channel of Inbox is a Django app, and "
            "INSTALLED_APPS says which are on.",
            hint=f'Remove INBOX_CHANNELS, and list "inbox" and the channels you want in INSTALLED_APPS '
            f"(it said {settings.INBOX_CHANNELS!r}; the apps are {', '.join(CHANNEL_APPS)}). See the "
            "README's section 'Add Inbox to your project'.",
            id="inbox.E006",
        )
    ]


@checks.register(checks.Tags.urls)
def check_service_worker(app_configs, **kwargs):
    """INBOX_SERVICE_WORKER names a URL every page's {% inbox_head %} reverses: a wrong name is
    said here, not as a 500 on every page. Without inbox.pwa the page has no worker."""
    if not apps.is_installed("inbox.pwa"):
        return []
    name = inbox_setting("SERVICE_WORKER")
    try:
        reverse(name)
    except NoReverseMatch:
        return [
            checks.Error(
                f"INBOX_SERVICE_WORKER is {name!r}, which is not a URL name of this site.",
                hint='Name the URL of your service worker, or leave the default "inbox:sw" '
                '(then include "inbox.urls" in your URLs).',
                id="inbox.E004",
            )
        ]
    return []


@checks.register(checks.Tags.database, checks.Tags.caches)
def check_cache_tables(app_configs, databases=None, **kwargs):
    """A DatabaseCache whose table is missing makes every rate-limited page a 500. `migrate` creates
    the tables (inbox.cachetable), so only a database with nothing left to migrate is judged:
    this check also runs at the start of `migrate`, which must not refuse the run that would
    create them. Tagged `database`: it runs in `migrate` and `check --database default`
    (`check --deploy` alone runs no database check: production runs
    `check --deploy --database default`)."""
    errors = []
    for alias in databases or ():
        if not (missing := missing_cache_tables(alias)) or migrations_pending(alias):
            continue
        errors.extend(
            checks.Error(
                f"The cache table {table!r} (a DatabaseCache in CACHES) is missing from database "
                f"{alias!r}: the rate-limited pages (push, email links) would fail.",
                hint=f"Run manage.py createcachetable --database {alias}.",
                id="inbox.E005",
            )
            for table in missing
        )
    return errors


def migrations_pending(alias: str) -> bool:
    """Whether `migrate` has work left on this database (the question runserver asks). A graph
    that cannot be built (an app's migrations need another app that is missing: inbox.E007 says
    which) counts as work left: nothing can be judged before it is fixed."""
    try:
        executor = MigrationExecutor(connections[alias])
    except NodeNotFoundError:
        return True
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


@checks.register(checks.Tags.security, deploy=True)
def check_secret_key(app_configs, **kwargs):
    """A key made up on this machine (the demo's var/secret_key) must not sign production
    sessions: another server, or a fresh checkout, would make another one and log everyone out.
    The site's settings say where the key came from in SECRET_KEY_FROM_ENVIRONMENT."""
    if getattr(settings, "SECRET_KEY_FROM_ENVIRONMENT", True):
        return []
    return [
        checks.Error(
            "SECRET_KEY is not set in the environment: this server is using a key it generated "
            "for local use.",
            hint="Set SECRET_KEY to a long random value, the same on every server "
            '(python -c "import secrets; print(secrets.token_urlsafe(50))").',
            id="inbox.E001",
        )
    ]
