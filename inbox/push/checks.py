"""The push channel's system checks, registered when inbox.push is installed (its ready())."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

from inbox.checks import missing_extra
from inbox.conf import inbox_setting

__all__ = ["check_loopback_push", "check_push_libraries", "check_vapid_keys", "libraries_installed"]

# What inbox.push imports: the [push] extra.
LIBRARIES = ("webpush", "pywebpush", "http_ece", "py_vapid", "cryptography", "aiohttp")


def libraries_installed() -> bool:
    return not missing_extra("inbox.push", "push", LIBRARIES)


@checks.register()
def check_push_libraries(app_configs, **kwargs):
    return missing_extra("inbox.push", "push", LIBRARIES)


@checks.register(deploy=True)
def check_vapid_keys(app_configs, **kwargs):
    from .keys import push_configured  # cryptography: the [push] extra

    if not libraries_installed() or push_configured():
        return []
    return [
        checks.Warning(
            "Web Push is off: WEBPUSH_SETTINGS has no VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY.",
            hint="Set VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY in the environment "
            "(manage.py generate_vapid_keys makes a pair).",
            id="inbox.W001",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def check_loopback_push(app_configs, **kwargs):
    if not inbox_setting("PUSH_ALLOW_LOOPBACK") or settings.DEBUG:
        return []
    return [
        checks.Error(
            "INBOX_PUSH_ALLOW_LOOPBACK is on: pushes may be sent to this machine's own addresses.",
            hint="It is for tests only; remove it from production settings.",
            id="inbox.E002",
        )
    ]
