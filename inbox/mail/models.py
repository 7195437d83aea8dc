"""What the email channel stores: receipts of the emails and digests sent, and the addresses that
bounced."""

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
        db_table = "inbox_emailreceipt"  # its name from when it was the core app's
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
        db_table = "inbox_emailbounce"  # its name from when it was the core app's
        constraints = [
            # Also the index behind "has this user's current address bounced?".
            models.UniqueConstraint(fields=["user", "address"], name="inbox_one_bounce_per_address"),
        ]

    def __str__(self) -> str:
        return f"{self.address}: {self.code or 'refused'} {self.message[:60]}"


class DigestReceipt(models.Model):
    """A digest that went out: this user's digest due at `due_at` (the schedule's slot the run
    claimed) was sent, and reached up to this cursor. Written right after each wave of sends, so a
    run that takes over an expired lease (or a batch run again after a crash before its
    write-back) mails nobody twice for the same slot and still moves the cursor on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    due_at = models.DateTimeField(help_text="The slot of the user's schedule this digest answered.")
    cursor_created = models.DateTimeField()
    cursor_id = models.BigIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "inbox_digestreceipt"  # its name from when it was the core app's
        constraints = [
            # Also the index behind "was this slot's digest sent?" (so db_index=False).
            models.UniqueConstraint(fields=["user", "due_at"], name="inbox_one_digest_per_slot"),
        ]

    def __str__(self) -> str:
        return f"digest of {self.due_at:%Y-%m-%d %H:%M} → user {self.user_id}"
