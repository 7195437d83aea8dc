"""What the push channel stores besides django-webpush's subscriptions."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from inbox.models import Message


class PushReceipt(models.Model):
    """A push that went out: this message reached this subscription. Written in bulk after each
    wave of sends, so a delivery run again after its worker died skips what was already sent."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+", db_index=False)
    # django-webpush's SubscriptionInfo id; no foreign key, so a subscription removed while its
    # push was in flight never makes the receipt fail to save (a stale receipt is harmless).
    subscription_id = models.BigIntegerField()
    # When it went out: `purge_notifications` deletes receipts older than INBOX_PUSH_RECEIPT_DAYS.
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Also the index behind "what did this message already reach?" (so db_index=False).
            models.UniqueConstraint(fields=["message", "subscription_id"], name="inbox_one_receipt_per_push"),
        ]

    def __str__(self) -> str:
        return f"message {self.message_id} → subscription {self.subscription_id}"
