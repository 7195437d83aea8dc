"""What is still to be delivered: one row per delivery task handed to the task backend."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Handover(models.Model):
    """A delivery task, recorded in the transaction that asked for it (notify()'s, or a planner's)
    and enqueued by the relay once committed. The row is the truth: a lost enqueue, a dead worker
    or a task that raised leave it here to be enqueued again. It is deleted when its task has run
    to the end; what stays is still to do, or FAILED after INBOX_DELIVERY_MAX_ATTEMPTS."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"  # to be enqueued by the relay (at next_attempt_at)
        QUEUED = "queued", "Queued"  # handed to the task backend
        RUNNING = "running", "Running"  # a worker started it (at started_at; alive at beat_at)
        FAILED = "failed", "Failed"  # gave up after its last attempt: see last_error

    channel = models.CharField(max_length=32)
    # Deleting a message ends its deliveries: there is nothing left to send.
    message = models.ForeignKey("inbox.Message", on_delete=models.CASCADE, null=True, blank=True)
    task_path = models.CharField(max_length=255)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(
        default=0, help_text="Attempts so far: runs started, and enqueues that raised or were lost."
    )
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    run_token = models.UUIDField(null=True, blank=True, help_text="The running task's own mark on its row.")
    beat_at = models.DateTimeField(
        null=True, blank=True, help_text="The running task's last heartbeat (a long run's sign of life)."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(
        max_length=64, blank=True, help_text="The task backend's id of the last enqueue."
    )
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = "delivery hand-over"
        indexes = [
            # The relay's scan (pending and due) and the recovery's (running since).
            models.Index(fields=["state", "next_attempt_at"], name="inbox_handover_due"),
            models.Index(fields=["state", "started_at"], name="inbox_handover_started"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.task_path.rsplit('.', 1)[-1]}{tuple(self.args)} ({self.state})"
