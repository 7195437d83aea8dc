"""Settings for the Inbox site.

Everything that differs in production comes from the environment; the defaults serve a local
demo on SQLite in the project folder.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # local state that never goes into git (secret key, ...)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int | None, low: int, high: int, what: str = "") -> int | None:
    """A whole number from the environment, low to high, or `default` when unset or empty; any
    other value stops the start with its name and what it must be (int() alone would take "٣"
    and fail on 5,000 digits without saying which variable)."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    digits_ok = value.isascii() and value.isdecimal() and len(value) <= len(str(high))
    if not digits_ok or not low <= int(value) <= high:
        what = what or f"a whole number from {low} to {high}"
        raise ImproperlyConfigured(f"{name} must be {what}, not {value[:40]!r}.")
    return int(value)


def local_secret_key() -> str:
    """A per-checkout random key, made on first use and kept out of git in var/."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", False)
# HTTPS=true is the production switch (see below): there, the key must come from the
# environment, not from a file this machine made up (inbox's check inbox.E001 says the same
# under `manage.py check --deploy`).
SECRET_KEY_FROM_ENVIRONMENT = bool(os.environ.get("SECRET_KEY"))
if env_bool("HTTPS", False) and not SECRET_KEY_FROM_ENVIRONMENT:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set in the environment, and HTTPS=true says this is production: "
        "set SECRET_KEY to a long random value, the same on every server."
    )
SECRET_KEY = os.environ.get("SECRET_KEY") or local_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    # Inbox: the core, then one app per channel (leave out the ones the site does not want). The
    # channels get each message in this order: real time first, so open pages hear of it before
    # push and email queue their work.
    "inbox",
    "inbox.realtime",
    "inbox.push",
    "inbox.mail",
    "inbox.pwa",
    "inbox.web",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "webpush",
    "django_tasks_db",
    "axes",
]
# django-webpush 0.3.6's migrations lack one for its own model (a form-only change, no SQL): without
# this, every `migrate` advises running makemigrations into site-packages. See that package.
MIGRATION_MODULES = {"webpush": "inbox.push.webpush_migrations"}

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # HTML compressed, for everything whitenoise does not serve (static files come compressed
    # already, and gzipping them again, PNGs and fonts included, costs CPU for nothing). BREACH
    # needs a secret and text the attacker chose in one compressed response: the CSRF token is
    # masked anew on every response, GZipMiddleware pads each response with random bytes (Django
    # 4.2+), and the only request text a page echoes is a 400's message. A site that adds pages
    # echoing input beside private data should leave this out.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "inbox.pwa.privacy.privacy_middleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: turns a lockout into its page
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Each process keeps its connection between requests: opening one (and SQLite's PRAGMAs)
        # was about a third of a small request's time. The check replaces a connection the
        # database closed meanwhile.
        conn_max_age=env_int("CONN_MAX_AGE", 60, 0, 86400),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the badge poll read while a fan-out writes; IMMEDIATE avoids lock upgrades.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes checks every login (the site's and the admin's) before the model backend does.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox:index"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

MEDIA_URL = "media/"  # also keeps the test live server from serving the project folder at /
MEDIA_ROOT = VAR_DIR / "media"
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]  # the site's own assets; the app's come with the app
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Django's built-in Content Security Policy: no inline scripts or styles anywhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}


def socket_sources(port: int) -> list[str]:
    """connect-src entries for pages whose socket is on `port` of the host they came from: one
    per allowed host (CSP host sources cannot name an IPv6 address; such pages poll instead)."""
    hosts = ["*" if host == "*" else "*" + host if host.startswith(".") else host for host in ALLOWED_HOSTS]
    return [f"{scheme}://{host}:{port}" for host in hosts if "[" not in host for scheme in ("ws", "wss")]


# Set by `make run` (scripts/serve.sh), which serves HTTP (gunicorn) and the sockets (uvicorn) on
# two ports with no proxy to join them.
INBOX_SOCKET_PORT = env_int("INBOX_SOCKET_PORT", None, 1, 65535, "a port number (1 to 65535)")
if INBOX_SOCKET_PORT is not None:
    SECURE_CSP["connect-src"] += socket_sources(INBOX_SOCKET_PORT)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Behind TLS in production: HTTPS=true turns on the secure cookies, HSTS and the redirect.
HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0, 0, 10 * 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Brute force (policy in config/lockout.py): AXES_FAILURE_LIMIT failed logins for one username
# from one address lock that pair, and LOGIN_ADDRESS_FAILURE_LIMIT from one address, whatever the
# usernames, lock the address for the usernames that never logged in from it; locked attempts
# get a 429 page until AXES_COOLOFF_TIME has passed without one. Never a username from every
# address: that let anyone lock the admin out. A success resets its own pair only. The address
# is config.client_ip's: REMOTE_ADDR, or behind PROXY_COUNT reverse proxies the address the
# outermost one appended to X-Forwarded-For (the anonymous rate limit counts by the same
# address); for the lockout an IPv6 address counts as its /64.
PROXY_COUNT = env_int("PROXY_COUNT", 0, 0, 10)
AXES_CLIENT_IP_CALLABLE = "config.lockout.lockout_address"
RATELIMIT_IP_META_KEY = "config.client_ip.client_ip"
AXES_FAILURE_LIMIT = 10
LOGIN_ADDRESS_FAILURE_LIMIT = 30  # at least AXES_FAILURE_LIMIT: reaching it is a lockout
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = "config.lockout.lockout_parameters"
AXES_RESET_ON_SUCCESS = True  # what the success's parameters select: its pair (config/lockout.py)
AXES_DISABLE_ACCESS_LOG = False  # its log of successes says who is known at a locked address
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_CALLABLE = "config.lockout.lockout_response"
AXES_USERNAME_CALLABLE = "config.lockout.login_username"  # bounded to django-axes's column

# A cache every process shares (rate limits of the anonymous push endpoints count in it): a
# table in the database (`manage.py createcachetable`), so the default setup needs no server.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "inbox_cache",
        # DatabaseCache counts the whole table (SELECT COUNT(*)) on every set, so every anonymous
        # push request pays for its size. The entries are per-address counters that expire each
        # minute: 5,000 is plenty (past it, expired ones go first, then a third: a counter may restart).
        "OPTIONS": {"MAX_ENTRIES": 5_000},
    }
}

# Real time (inbox.realtime): with REDIS_URL, web processes and senders (commands, the task
# worker) share events through Redis pub/sub at once; without it, through a small table each web
# process polls (INBOX_REALTIME_TRANSPORT in docs/configuration.md). The in-memory layer only
# serves one process, which is why it is not used to carry events.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Work after the response (push, email, digests) runs as tasks. TASKS_BACKEND: "db" (the default)
# keeps the queue in the database, worked by `manage.py inbox_worker`; "rq" keeps it in Redis
# (TASKS_REDIS_URL, else REDIS_URL), worked by RQ workers on any number of machines (the [rq]
# extra; docs/deployment.md, "Past one machine"); any other value is a django.tasks backend's path.
TASK_BACKENDS = {"db": "django_tasks_db.DatabaseBackend", "rq": "django_tasks_rq.RQBackend"}
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "").strip() or "db"
TASKS = {"default": {"BACKEND": TASK_BACKENDS.get(TASKS_BACKEND, TASKS_BACKEND)}}
if TASKS["default"]["BACKEND"] == TASK_BACKENDS["rq"]:
    TASKS_REDIS_URL = os.environ.get("TASKS_REDIS_URL", "").strip() or REDIS_URL
    if not TASKS_REDIS_URL:
        raise ImproperlyConfigured(
            "TASKS_BACKEND=rq keeps the task queue in Redis: set REDIS_URL (or TASKS_REDIS_URL) to "
            "redis://host:6379/0."
        )
    INSTALLED_APPS.append("django_rq")  # django-tasks-rq's queues are django-rq's
    # RQ runs each job once: a delivery that raised, or whose worker died, is retried by the
    # outbox (inbox.outbox; its hand-over row goes back to PENDING and the relay enqueues a new
    # job), as under the database backend; see inbox/workers.py.
    RQ_QUEUES = {
        "default": {
            "URL": TASKS_REDIS_URL,
            # A job running longer is stopped as failed (a delivery: retried by the outbox with
            # backoff; a digest run: its batch's lease lets the next run take it). It bounds a
            # whole batch, which the heartbeats keep from the lease: above a batch's worst time.
            "DEFAULT_TIMEOUT": 900,
        }
    }
    RQ = {
        "JOB_CLASS": "django_tasks_rq.Job",  # runs django.tasks tasks: `rqworker` needs no --job-class
        # Marks dead workers' jobs failed every 30 s, not every 10 minutes (RQ's own records only).
        "WORKER_CLASS": "inbox.workers.Worker",
    }


def vapid_keys() -> dict:
    """VAPID keys from the environment, else from var/vapid.json (made by generate_vapid_keys)."""
    keys = {
        "VAPID_PUBLIC_KEY": os.environ.get("VAPID_PUBLIC_KEY", ""),
        "VAPID_PRIVATE_KEY": os.environ.get("VAPID_PRIVATE_KEY", ""),
    }
    path = VAR_DIR / "vapid.json"
    if not keys["VAPID_PRIVATE_KEY"] and path.exists():
        keys.update(json.loads(path.read_text()))
    keys["VAPID_ADMIN_EMAIL"] = os.environ.get("VAPID_ADMIN_EMAIL", "admin@localhost")
    return keys


WEBPUSH_SETTINGS = vapid_keys()

# The inbox app's own settings (read through inbox.conf).
INBOX_BADGE_POLL_SECONDS = env_int("INBOX_BADGE_POLL_SECONDS", 15, 1, 86400)
# The page registers the site's own worker (config/urls.py), which imports the app's handlers.
INBOX_SERVICE_WORKER = "service_worker"
INBOX_OFFLINE_ASSETS = ["site.css"]  # the offline inbox keeps the site's look
INBOX_KINDS_MODULE = "config.kinds"  # the demo's kinds of notification (mentions, builds, ...)


# ---------------------------------------------------------------- email
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_SCHEMES = {  # EMAIL_URL's scheme -> (backend, TLS mode)
    "smtp": (SMTP_BACKEND, ""),
    "smtp+tls": (SMTP_BACKEND, "starttls"),  # port 587, STARTTLS
    "smtps": (SMTP_BACKEND, "ssl"),  # port 465, TLS from the start
    "console": ("django.core.mail.backends.console.EmailBackend", ""),
    "file": ("django.core.mail.backends.filebased.EmailBackend", ""),
    "memory": ("django.core.mail.backends.locmem.EmailBackend", ""),
    "dummy": ("django.core.mail.backends.dummy.EmailBackend", ""),
}
EMAIL_TIMEOUT_SECONDS = 30  # each SMTP operation: a stuck server must not hold a worker forever


def email_config(url: str) -> dict:
    """Django 6.1's MAILERS["default"] from one URL: smtp+tls://user:password@smtp.example.com:587
    (user and password percent-encoded), smtps://...:465, smtp://127.0.0.1:1025, console:,
    file:///var/mail/inbox; `?timeout=10` sets the SMTP timeout. A URL it cannot read stops the start."""
    parts = urlsplit(url.strip())
    if parts.scheme not in EMAIL_SCHEMES:
        raise ImproperlyConfigured(
            f"EMAIL_URL must start with one of {', '.join(s + ':' for s in EMAIL_SCHEMES)}, "
            f"not {url.split(':', 1)[0][:20]!r}."
        )
    backend, tls = EMAIL_SCHEMES[parts.scheme]
    if parts.scheme == "file":
        if not parts.path:
            raise ImproperlyConfigured("EMAIL_URL file:///folder needs a folder.")
        return {"BACKEND": backend, "OPTIONS": {"file_path": unquote(parts.path)}}
    if backend != SMTP_BACKEND:
        return {"BACKEND": backend}
    timeout = parse_qs(parts.query).get("timeout", [str(EMAIL_TIMEOUT_SECONDS)])[-1]
    if not timeout.isascii() or not timeout.isdigit() or not 0 < int(timeout) <= 3600:
        raise ImproperlyConfigured("EMAIL_URL's timeout must be a number of seconds, 1 to 3600.")
    try:
        port = parts.port
    except ValueError:  # not a number, or past 65535
        raise ImproperlyConfigured("EMAIL_URL's port must be a number from 1 to 65535.") from None
    if not parts.hostname:
        raise ImproperlyConfigured(
            "EMAIL_URL needs a host, e.g. smtp+tls://user:password@smtp.example.com:587."
        )
    return smtp_mailer(
        host=parts.hostname,
        port=port or {"starttls": 587, "ssl": 465}.get(tls, 25),
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_tls=tls == "starttls",
        use_ssl=tls == "ssl",
        timeout=int(timeout),
    )


def smtp_mailer(**options) -> dict:
    return {"BACKEND": SMTP_BACKEND, "OPTIONS": {"timeout": EMAIL_TIMEOUT_SECONDS} | options}


# EMAIL_URL, else the standard EMAIL_* variables, else (a local demo) one file per sending
# connection in var/mail/, which a newcomer can open: no mail server needed. Django 6.1 reads
# them as MAILERS (its EMAIL_* settings are deprecated).
if os.environ.get("EMAIL_URL"):
    MAILERS = {"default": email_config(os.environ["EMAIL_URL"])}
elif os.environ.get("EMAIL_HOST"):
    MAILERS = {
        "default": smtp_mailer(
            host=os.environ["EMAIL_HOST"],
            port=env_int("EMAIL_PORT", 25, 1, 65535),
            username=os.environ.get("EMAIL_HOST_USER", ""),
            password=os.environ.get("EMAIL_HOST_PASSWORD", ""),
            use_tls=env_bool("EMAIL_USE_TLS", False),
            use_ssl=env_bool("EMAIL_USE_SSL", False),
        )
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(VAR_DIR / "mail")},
        }
    }
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Inbox <inbox@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Emails link back to the site with absolute URLs: its address as users reach it.
INBOX_SITE_URL = os.environ.get("INBOX_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
