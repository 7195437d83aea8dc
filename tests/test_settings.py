from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from inbox.checks import (
    check_channels_setting,
    check_host_setup,
    check_secret_key,
    check_service_worker,
)
from inbox.push.checks import check_loopback_push, check_vapid_keys
from inbox.push.keys import new_key_pair

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "HTTPS": "true",
    "ALLOWED_HOSTS": "inbox.example.com",
    "EMAIL_URL": "smtp+tls://inbox:secret@smtp.example.com:587",
    "INBOX_SITE_URL": "https://inbox.example.com",
    **{name: value for name, value in new_key_pair().items() if name.startswith("VAPID_")},
}


def manage(*args, **env):
    """Run manage.py in its own process with `env` on top of a clean environment."""
    base = {
        name: value
        for name, value in os.environ.items()
        if name not in {"SECRET_KEY", "DEBUG", "HTTPS", "VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY", "EMAIL_URL"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_settings_pass_the_deploy_checks():
    env = {**PRODUCTION, "SECRET_KEY": secrets.token_urlsafe(60)}
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_without_a_secret_key_does_not_start():
    result = manage("check", "--deploy", **PRODUCTION)
    assert result.returncode != 0
    assert result.stderr.rstrip().endswith(
        "ImproperlyConfigured: SECRET_KEY is not set in the environment, and HTTPS=true says this "
        "is production: set SECRET_KEY to a long random value, the same on every server."
    )


def test_the_deploy_checks_fail_on_a_generated_secret_key():
    env = {**PRODUCTION, "HTTPS": "false"}  # the start-up guard is off; the check still fails
    result = manage("check", "--deploy", **env)
    assert result.returncode != 0
    assert "(inbox.E001) SECRET_KEY is not set in the environment" in result.stderr


def test_debug_is_off_by_default():
    result = manage("shell", "--no-imports", "-c", "from django.conf import settings; print(settings.DEBUG)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def deploy_check_ids() -> set[str]:
    found = [*check_vapid_keys(None), *check_loopback_push(None), *check_secret_key(None)]
    return {message.id for message in found}


def test_missing_vapid_keys_are_a_deploy_warning(settings):
    assert "inbox.W001" not in deploy_check_ids()
    settings.WEBPUSH_SETTINGS = {"VAPID_ADMIN_EMAIL": "admin@example.com"}
    assert "inbox.W001" in deploy_check_ids()


def test_loopback_push_is_an_error_outside_debug(settings):
    settings.INBOX_PUSH_ALLOW_LOOPBACK = True
    settings.DEBUG = False
    assert "inbox.E002" in deploy_check_ids()
    settings.DEBUG = True
    assert "inbox.E002" not in deploy_check_ids()


def test_the_apps_and_middleware_inbox_needs_are_checked(settings):
    assert check_host_setup(None) == []
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "django.contrib.humanize"]
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if "privacy" not in name]
    assert [error.msg for error in check_host_setup(None)] == [
        "Inbox needs 'django.contrib.humanize' in INSTALLED_APPS.",
        "Inbox needs 'inbox.pwa.privacy.privacy_middleware' in MIDDLEWARE.",
    ]


def test_the_apps_an_app_of_inbox_needs_are_checked_only_with_that_app(settings, leave_out):
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "django_htmx"]
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if "privacy" not in name]
    assert [error.msg for error in check_host_setup(None)] == [
        "Inbox needs 'django_htmx' in INSTALLED_APPS.",
        "Inbox needs 'inbox.pwa.privacy.privacy_middleware' in MIDDLEWARE.",
    ]
    leave_out("inbox.web", "inbox.pwa")
    assert check_host_setup(None) == []


def test_webpush_is_needed_by_inbox_push_only(settings, leave_out):
    """The core and the web UI run without django-webpush; the push channel names it."""
    leave_out("webpush")
    assert [error.msg for error in check_host_setup(None)] == ["Inbox needs 'webpush' in INSTALLED_APPS."]
    leave_out("inbox.push")
    assert check_host_setup(None) == []


def test_inbox_channels_is_an_error_that_says_to_list_the_apps(settings):
    """INSTALLED_APPS is the one switch: a site still setting INBOX_CHANNELS would otherwise get
    every channel it meant to leave out."""
    assert check_channels_setting(None) == []
    settings.INBOX_CHANNELS = ("inbox.push", "inbox.mail")
    (error,) = check_channels_setting(None)
    assert error.id == "inbox.E006" and "INBOX_CHANNELS is no longer read" in error.msg
    assert "INSTALLED_APPS" in error.hint and "inbox.realtime" in error.hint and "'inbox.push'" in error.hint


@pytest.mark.parametrize(
    ("check", "missing", "extra"),
    [
        ("inbox.realtime.checks.check_realtime_libraries", "channels", "realtime"),
        ("inbox.push.checks.check_push_libraries", "http_ece", "push"),
        ("inbox.push.checks.check_push_libraries", "pywebpush", "push"),
    ],
)
def test_an_app_without_its_libraries_names_its_extra(monkeypatch, check, missing, extra):
    import importlib

    from inbox import checks as inbox_checks

    module, name = check.rsplit(".", 1)
    run = getattr(importlib.import_module(module), name)
    assert run(None) == []
    real = inbox_checks.find_spec
    monkeypatch.setattr(inbox_checks, "find_spec", lambda module: None if module == missing else real(module))
    (error,) = run(None)
    assert error.id == "inbox.E007" and f"({missing})" in error.msg
    assert f'pip install "django-notification-inbox[{extra}]"' in error.hint


def test_a_redis_layer_without_channels_redis_names_the_redis_extra(settings, monkeypatch):
    from inbox import checks as inbox_checks
    from inbox.realtime.checks import check_realtime_libraries

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer"}}
    assert check_realtime_libraries(None) == []
    real = inbox_checks.find_spec
    monkeypatch.setattr(inbox_checks, "find_spec", lambda m: None if m == "channels_redis" else real(m))
    (error,) = check_realtime_libraries(None)
    assert "[redis]" in error.hint


def test_the_rq_backend_without_its_libraries_names_the_rq_extra(settings, monkeypatch):
    from inbox import checks as inbox_checks

    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
    monkeypatch.setattr(inbox_checks, "find_spec", lambda module: None)
    (error,) = inbox_checks.check_rq_extra(None)
    assert error.id == "inbox.E007" and "[rq]" in error.hint


def test_a_wrong_service_worker_url_name_is_named_at_check(settings):
    """{% inbox_head %} reverses it on every page: a typo is an error at check, not a 500."""
    assert check_service_worker(None) == []
    settings.INBOX_SERVICE_WORKER = "no-such-worker"
    (error,) = check_service_worker(None)
    assert error.id == "inbox.E004" and "'no-such-worker'" in error.msg


def test_the_socket_port_of_make_run_is_in_the_csp():
    code = "from django.conf import settings as s; print(s.INBOX_SOCKET_PORT, *s.SECURE_CSP['connect-src'])"
    hosts = "localhost,.example.com,[::1]"  # CSP cannot name an IPv6 address: that one is left out
    result = manage("shell", "--no-imports", "-c", code, INBOX_SOCKET_PORT="8001", ALLOWED_HOSTS=hosts)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "8001",
        "'self'",
        "ws://localhost:8001",
        "wss://localhost:8001",
        "ws://*.example.com:8001",
        "wss://*.example.com:8001",
    ]
    unset = manage("shell", "--no-imports", "-c", code, INBOX_SOCKET_PORT="")
    assert unset.stdout.split() == ["None", "'self'"]


@pytest.mark.parametrize("value", ["abc", "0", "65536", "²", "٨٠٠١", "8001.5", "9" * 400])
def test_a_bad_socket_port_stops_the_start_with_the_reason(value):
    result = manage("check", INBOX_SOCKET_PORT=value)
    assert result.returncode != 0
    assert "INBOX_SOCKET_PORT must be a port number (1 to 65535)" in result.stderr


@pytest.mark.parametrize(
    "name", ["CONN_MAX_AGE", "PROXY_COUNT", "INBOX_BADGE_POLL_SECONDS", "SECURE_HSTS_SECONDS"]
)
@pytest.mark.parametrize("value", ["abc", "-1", "٣", "²", "9" * 5000, "1e3"])
def test_a_bad_number_in_the_environment_names_its_variable(name, value):
    result = manage("check", **{name: value})
    assert result.returncode != 0
    assert f"{name} must be a whole number from " in result.stderr
