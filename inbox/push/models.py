"""What the push channel stores besides django-webpush's subscriptions."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from inbox.conf import inbox_setting
from inbox.models import Message


class PushReceipt(models.Model):
    """A push that went out: this message reached this subscription. Written in bulk after each
    wave of answers, so a delivery run again after its worker died skips what was already sent."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+", db_index=False)
    # django-webpush's SubscriptionInfo id; no foreign key, so a subscription removed while its
    # push was in flight never makes the receipt fail to save (a stale receipt is harmless).
    subscription_id = models.BigIntegerField()
    # When it went out: `purge_notifications` deletes receipts older than INBOX_PUSH_RECEIPT_DAYS.
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "inbox_pushreceipt"  # its name from when it was the core app's
        constraints = [
            # Also the index behind "what did this message already reach?" (so db_index=False).
            models.UniqueConstraint(fields=["message", "subscription_id"], name="inbox_one_receipt_per_push"),
        ]

    def __str__(self) -> str:
        return f"message {self.message_id} → subscription {self.subscription_id}"


def old_receipts(now: datetime) -> models.QuerySet:
    """A receipt only stops a delivery run again from repeating a push; past the lease and the
    retries it is dead weight (purge_notifications deletes these)."""
    return PushReceipt.objects.filter(sent_at__lt=now - timedelta(days=inbox_setting("PUSH_RECEIPT_DAYS")))


class PushSession(models.Model):
    """The login session a push subscription was saved or last confirmed in: push to a browser
    lasts only as long as the session that turned it on. Logging out, another user logging in
    over it, a password change, deactivation and the session's expiry or deletion each end it
    (inbox.push.session and the sweep in inbox.push.sweep)."""

    subscription = models.OneToOneField(
        "webpush.SubscriptionInfo", on_delete=models.CASCADE, primary_key=True, related_name="inbox_session"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The session's key, to look the session up (as long as Django's own; empty for an engine
    # that keeps no session on the server, such as signed cookies).
    session_key = models.CharField(max_length=40, db_index=True)
    # The user's session auth hash when bound: a password changed since makes it stale, as it
    # makes Django's own session invalid.
    auth_hash = models.CharField(max_length=128)

    class Meta:
        db_table = "inbox_pushsession"  # its name from when it was the core app's

    def __str__(self) -> str:
        return f"subscription {self.subscription_id} of user {self.user_id}"
