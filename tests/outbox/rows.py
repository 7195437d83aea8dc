"""What delivery tasks planned in the outbox (their batches and retries), for the channels' tests."""

from __future__ import annotations

from inbox.outbox import Handover


def planned() -> list[tuple[str, list, object]]:
    """(task name, args, next_attempt_at) of the rows a task wrote: batches and retries, which
    name their targets, unlike notify()'s own hand-over (the message id alone)."""
    rows = Handover.objects.order_by("pk").values_list("task_path", "args", "next_attempt_at")
    return [(path.rsplit(".", 1)[-1], args, at) for path, args, at in rows if len(args) > 1]


def forget_planned() -> None:
    Handover.objects.filter(
        pk__in=[pk for pk, args in Handover.objects.values_list("pk", "args") if len(args) > 1]
    ).delete()
