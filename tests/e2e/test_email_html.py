"""The HTML emails (one notification, a digest) as a phone's mail app shows them: laid out at the
phone's width (a viewport meta), a long unbroken word wrapped instead of widening the page, and
no axe finding, best practices included (landmarks, a level-one heading)."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta

from django.utils import timezone

from inbox.api import notify
from inbox.mail.digests import run_digests
from inbox.mail.tasks import deliver_email
from inbox.preferences import DigestSetting

from .test_a11y import axe_source

PHONE = {"width": 375, "height": 700}
LONG_WORD = "deployment-" + "x" * 150  # a branch name, a hash: no place to break


def html_parts(folder) -> list[str]:
    parts = []
    for path in sorted(folder.iterdir()):
        for chunk in path.read_text().split("\n" + "-" * 79 + "\n"):  # the file backend's separator
            if chunk.strip():
                message = email.message_from_string(chunk.strip(), policy=email.policy.default)
                parts.append(message.get_body(("html",)).get_content())
    return parts


def test_emails_fit_a_phone_and_pass_axe(page, settings, tmp_path, alice):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(tmp_path)},
        }
    }
    settings.INBOX_DIGEST_SETTLE_SECONDS = 0
    alice.email = "alice@example.com"
    alice.save()
    deliver_email.call(notify(alice, f"Sign-in on {LONG_WORD}", kind="security").message.pk)
    notify(alice, f"Build of {LONG_WORD} failed", kind="build.finished")
    DigestSetting.objects.create(
        user=alice,
        frequency="daily",
        hour=8,
        timezone="UTC",
        next_due_at=timezone.now() - timedelta(minutes=1),
    )
    run_digests()
    parts = html_parts(tmp_path)
    assert len(parts) == 2, parts

    page.set_viewport_size(PHONE)
    for html in parts:
        page.set_content(html)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.evaluate(axe_source())
        violations = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map((v) => v.id)"
        )
        assert violations == [], violations
