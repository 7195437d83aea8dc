"""What the email channel stores: receipts of the emails sent, and the addresses that bounced."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from inbox.models import Message

ADDRESS_MAX_LENGTH = 254  # RFC 5321's path limit, Django's EmailField default
BOUNCE_TEXT_MAX_LENGTH = 500


class EmailReceipt(models.Model):
    """An email that went out: this message reached this user. Written in bulk after each wave of
    sends, so a delivery run again (a retry, or after its worker died) never mails a user twice;
    a digest also leaves out what was already emailed."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Also the index behind "did this message already reach this user?" (so db_index=False).
            models.UniqueConstraint(fields=["message", "user"], name="inbox_one_email_per_recipient"),
        ]

    def __str__(self) -> str:
        return f"message {self.message_id} → user {self.user_id} by email"


class EmailBounce(models.Model):
    """An SMTP server refused this address for good (a 5xx), or the site's ESP rejected it (its
    suppression list, an invalid address). No email goes to it again; once the user's address is
    another one, email starts again (the address is compared at send time)."""

    # The unique (user, address) index below serves the user's lookups too.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    address = models.CharField(max_length=ADDRESS_MAX_LENGTH)
    code = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The SMTP reply code, 500 to 599; empty when an ESP refused it."
    )
    message = models.CharField(max_length=BOUNCE_TEXT_MAX_LENGTH, blank=True, help_text="The server's reply.")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Also the index behind "has this user's current address bounced?".
            models.UniqueConstraint(fields=["user", "address"], name="inbox_one_bounce_per_address"),
        ]

    def __str__(self) -> str:
        return f"{self.address}: {self.code or 'refused'} {self.message[:60]}"
