"""The email app's system checks, imported by its ready()."""

from __future__ import annotations

from django.apps import apps
from django.core import checks

from inbox.conf import inbox_setting

__all__ = ["check_site_url"]


@checks.register(deploy=True)
def check_site_url(app_configs, **kwargs):
    """Emails link to the site through INBOX_SITE_URL; RFC 8058 wants the unsubscribe URL in HTTPS."""
    site = inbox_setting("SITE_URL")
    if not apps.is_installed("inbox.mail") or site.startswith("https://"):
        return []
    return [
        checks.Warning(
            f"INBOX_SITE_URL is {site!r}: the links in emails (one-click unsubscribe among them) "
            "should be HTTPS URLs of this site.",
            hint="Set INBOX_SITE_URL to the site's address as users reach it, e.g. https://inbox.example.com.",
            id="inbox.W002",
        )
    ]
