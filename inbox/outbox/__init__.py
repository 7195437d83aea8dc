"""The outbox: deliveries are recorded in the transaction that makes them due, then handed to the
task backend, retried with backoff and, past INBOX_DELIVERY_MAX_ATTEMPTS, recorded as failed.

    with transaction.atomic():
        ...                                              # the notification's rows
        pks = hand_over(deliver_push, message.pk, channel="push", message_id=message.pk)
    kick(pks)   # or inside the block: it waits for the commit

A row (Handover) is written with the notification, so a rollback sends nothing and a crash after
COMMIT loses nothing: `kick()` enqueues the rows as soon as the transaction commits (a prompt
optimisation only), and `relay()`, which `manage.py inbox_worker` runs every
INBOX_RELAY_INTERVAL seconds, enqueues whatever is due and was not (an enqueue that raised, a
process killed between COMMIT and the enqueue, a retry whose time came). Only the public
django.tasks API is used (`Task.enqueue`), so any task backend works; with django-tasks-db the
row's claim and the task's own row are written in one transaction.

A task's function is wrapped by `@durable` (under `@task`). The relay adds the keyword
`handover=<row id>`: the run starts only if its row is QUEUED (a task enqueued twice runs once;
read under a row lock, so a worker faster than the relay's commit waits for its claim), and owns
the row by a token of its own from then on: every write the run makes to it (done, failed,
interrupted, a plan, a heartbeat) lands only while the row is RUNNING with that token, so a run
that was taken for dead and taken over changes nothing of its successor's. It deletes the row when
it returns, puts it back due at once when the worker is stopped mid-run
(SystemExit, KeyboardInterrupt; not counted as an attempt), and when it raises records the
reason and schedules the next attempt (INBOX_DELIVERY_RETRY_BASE_SECONDS x 2^(attempt-1)), or
FAILED after the last one.
An enqueue that raises counts as an attempt too, with the same backoff and cap.
A long run calls `heartbeat()` between its waves; `recover()` puts back a row RUNNING with no
sign of life (start or heartbeat) for INBOX_TASK_LEASE_SECONDS (its worker died), and a row QUEUED
that long whose task the backend no longer holds. The deliveries' receipts make any run again
skip what already went out.
"""

from __future__ import annotations

import logging
import time
import uuid
from contextlib import suppress
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial, wraps
from traceback import format_exception

from django.db import router, transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.tasks import TaskResultStatus
from django.tasks.exceptions import TaskException
from django.utils import timezone
from django.utils.module_loading import import_string

from inbox.conf import inbox_setting

from .models import Handover

__all__ = [
    "Handover",
    "LeaseLost",
    "durable",
    "hand_over",
    "heartbeat",
    "kick",
    "plan",
    "recover",
    "relay",
    "relay_all",
]

logger = logging.getLogger(__name__)
State = Handover.State
RELAY_BATCH = 500


class LeaseLost(Exception):
    """This run's row is no longer its own: it was taken for dead (no heartbeat for a lease) and
    another run has it now, or it was deleted with its message. The run stops; nothing it would
    write lands."""


@dataclass
class Run:
    """The run of a hand-over in this context (set by @durable): its row, its token, its attempt."""

    pk: int
    token: uuid.UUID
    attempt: int
    beat: float = 0.0  # clock() at the last heartbeat written
    ended: bool = False  # by plan(), in its transaction

    def row(self) -> QuerySet[Handover]:
        """The row, only while it is still this run's (a token, not the attempt number, which the
        admin's retry and an interruption lower)."""
        return Handover.objects.filter(pk=self.pk, state=State.RUNNING, run_token=self.token)


_running: ContextVar[Run | None] = ContextVar("inbox_handover", default=None)
clock = time.monotonic  # the heartbeats' pace (tests move it on)


def _db() -> str:
    return router.db_for_write(Handover)


def hand_over(task, *args, channel: str, message_id: int | None = None, **kwargs) -> list[int]:
    """Record `task.enqueue(*args, **kwargs)` in the current transaction; returns the row's id
    in a list, for kick(). Nothing is enqueued until the transaction commits."""
    return _write(task, [list(args)], channel, message_id, kwargs=kwargs)


def plan(
    task, calls: list[list], *, channel: str, message_id: int | None = None, run_after: datetime | None = None
) -> list[int]:
    """Record one task per args list of `calls`, all in one transaction, and kick them (or leave
    them to the relay at `run_after`, if given). Called from a task run for a hand-over, the same
    transaction ends that task's row: a worker dying before or after it leaves either the
    planning task to run again or every batch it planned, never both and never neither. (Called
    by a run, not inside a transaction of the caller's: that one's rollback would undo the end of
    the row while the run takes it as ended.)"""
    with transaction.atomic(using=_db()):
        pks = _write(task, calls, channel, message_id, run_after=run_after)
        if (running := _running.get()) is not None and not running.ended:
            if not running.row().delete()[0]:
                raise LeaseLost(f"hand-over {running.pk} was taken over: its successor plans instead")
            running.ended = True
        if run_after is None:
            kick(pks)
    return pks


def _write(task, calls, channel, message_id, *, kwargs=None, run_after=None) -> list[int]:
    now = timezone.now()
    rows = Handover.objects.bulk_create(
        Handover(
            channel=channel,
            message_id=message_id,
            task_path=task.module_path,
            args=list(args),
            kwargs=kwargs or {},
            next_attempt_at=max(run_after or now, now),
            created=now,
        )
        for args in calls
    )
    return [row.pk for row in rows]


def kick(pks: list[int]) -> None:
    """Enqueue these rows as soon as the current transaction commits (at once outside one). An
    optimisation: if it fails, or the process dies first, the periodic relay enqueues them."""
    if pks:
        transaction.on_commit(partial(relay, list(pks)), using=_db(), robust=True)


def relay(pks: list[int] | None = None, *, limit: int = RELAY_BATCH) -> int:
    """Enqueue the due PENDING rows (or those of `pks` that are), each through the task backend's
    public API, marking it QUEUED in the same transaction (with a task backend in the same
    database, its task row and the claim commit together). Safe to run from several processes at
    once: a row is enqueued by the one whose claim changed it. Returns how many were enqueued."""
    due = Handover.objects.filter(state=State.PENDING, next_attempt_at__lte=timezone.now())
    if pks is not None:
        due = due.filter(pk__in=pks)
    rows = due.order_by("next_attempt_at", "pk").values_list("pk", "task_path", "args", "kwargs")[:limit]
    enqueued, failures = 0, []
    for pk, path, args, kwargs in rows:
        try:
            with transaction.atomic(using=_db()):
                claimed = Handover.objects.filter(pk=pk, state=State.PENDING).update(
                    state=State.QUEUED, queued_at=timezone.now()
                )
                if not claimed:  # another relay took it
                    continue
                result = import_string(path).enqueue(*args, **kwargs, handover=pk)
                # This enqueue's id, which recover() asks the backend about (a retry's, not the first's).
                Handover.objects.filter(pk=pk).update(task_id=str(result.id)[:64])
        except Exception as error:  # the claim rolled back: PENDING, retried with backoff
            failures.append((pk, error))
            _enqueue_failed(pk, error)
            continue
        enqueued += 1
    if failures:
        pk, error = failures[0]
        logger.warning(
            "%d delivery hand-over(s) could not be enqueued, retried with backoff; first, %s: %r",
            len(failures),
            pk,
            error,
        )
    return enqueued


def relay_all() -> int:
    """relay() until nothing due is left (what the worker runs every INBOX_RELAY_INTERVAL)."""
    total = 0
    while (enqueued := relay()) == RELAY_BATCH:
        total += enqueued
    return total + enqueued


def recover(now: datetime | None = None) -> int:
    """Put back what a dead worker or a lost task left, INBOX_TASK_LEASE_SECONDS on: a row still
    RUNNING with no sign of life (its start, or its last heartbeat) for that long (PENDING at once,
    or FAILED if that was its last attempt), and a row QUEUED that long ago whose task never
    started (see requeue_lost). Returns how many rows were put back."""
    now = now or timezone.now()
    lease = inbox_setting("TASK_LEASE_SECONDS")
    since = now - timedelta(seconds=lease)
    stale = Handover.objects.alias(alive=Coalesce("beat_at", "started_at")).filter(
        state=State.RUNNING, alive__lt=since
    )
    reason = f"Abandoned: no sign of life for {lease} s while running; its worker presumably died."
    last = inbox_setting("DELIVERY_MAX_ATTEMPTS")
    failed = stale.filter(attempts__gte=last).update(state=State.FAILED, finished_at=now, last_error=reason)
    again = stale.update(state=State.PENDING, next_attempt_at=now, last_error=reason)
    lost, never = requeue_lost(now, since)
    if failed or again or lost or never:
        logger.warning(
            "Deliveries of dead workers: %d queued again, %d failed for good; never started: %d "
            "queued again, %d failed for good",
            again,
            failed,
            lost,
            never,
        )
    return failed + again + lost + never


def requeue_lost(now: datetime, since: datetime) -> tuple[int, int]:
    """The rows QUEUED before `since` whose task has not started. A task the backend says is still
    waiting its turn (a long queue) is left alone, its row's clock restarted. Any other (the
    backend lost it, cannot say, or its worker died between taking it and starting the run) is
    enqueued again, which counts as an attempt: a task that never starts ends FAILED after
    INBOX_DELIVERY_MAX_ATTEMPTS, instead of being enqueued once more every lease, forever.
    Returns how many were put back to be enqueued, and how many FAILED."""
    stale = Handover.objects.filter(state=State.QUEUED, queued_at__lt=since).order_by("queued_at", "pk")
    rows = stale.values_list("pk", "task_path", "task_id", "attempts")[:RELAY_BATCH]
    last, lease = inbox_setting("DELIVERY_MAX_ATTEMPTS"), inbox_setting("TASK_LEASE_SECONDS")
    lost = never = 0
    for pk, path, task_id, attempts in rows:
        row = Handover.objects.filter(pk=pk, state=State.QUEUED, attempts=attempts)
        if _waiting(path, task_id):
            row.update(queued_at=now)
            logger.warning(
                "Delivery hand-over %s has waited in the task backend's queue for over %d s: "
                "is a worker running for its queue?",
                pk,
                lease,
            )
            continue
        attempt = attempts + 1
        reason = f"Not started {lease} s after it was enqueued (attempt {attempt})"
        if attempt >= last:
            never += row.update(
                state=State.FAILED, attempts=attempt, finished_at=now, last_error=f"{reason}."
            )
        else:
            lost += row.update(
                state=State.PENDING, attempts=attempt, next_attempt_at=now, last_error=f"{reason}; again."
            )
    return lost, never


def _waiting(path: str, task_id: str) -> bool:
    """Whether the task backend still holds this task, not yet started (READY). False when it
    cannot say (a backend without get_result, an unknown id, an error asking)."""
    if not task_id:
        return False
    try:
        task = import_string(path)
        if not task.get_backend().supports_get_result:
            return False
        return task.get_result(task_id).status == TaskResultStatus.READY
    except (TaskException, ImportError):  # an unknown id, or a task renamed away
        return False
    except Exception:  # the backend's store is down: enqueue again, the run skips a duplicate
        logger.warning("Could not ask the task backend about task %s", task_id, exc_info=True)
        return False


def durable(func):
    """Wrap a task's function (under @task) to run for the hand-over row named by the keyword
    `handover`, which the relay adds; called without it (tests, a shell) it is the plain function."""

    @wraps(func)
    def run(*args, handover: int | None = None, **kwargs):
        if handover is None:
            return func(*args, **kwargs)
        if (this := _start(handover)) is None:  # done, running elsewhere, failed, or deleted
            return {"skipped": f"hand-over {handover} is no longer queued"}
        token = _running.set(this)
        try:
            result = func(*args, **kwargs)
        except LeaseLost as lost:
            logger.warning("Delivery hand-over %s stopped: %s", handover, lost)
            return {"skipped": str(lost)}
        except Exception as error:
            _failed(this, error)
            raise  # the task backend records its own failure too
        except BaseException as stop:  # the worker is stopping (SystemExit, KeyboardInterrupt)
            _interrupted(this, stop)
            raise
        finally:
            _running.reset(token)
        if not this.ended and not this.row().delete()[0]:
            logger.warning("Delivery hand-over %s ended after another run had taken it over", handover)
        return result

    return run


def heartbeat() -> None:
    """Called by a long run between its waves: the row's sign of life, written at most every
    tenth of a lease, so recover() does not take a run that is slow but alive for a dead one.
    Raises LeaseLost if the row is no longer this run's (it was taken over, or its message was
    deleted): the run stops before it sends more. Outside a hand-over's run it does nothing.
    Call it outside any transaction: inside one, the beat is not seen until the commit."""
    run = _running.get()
    if run is None or run.ended or clock() - run.beat < inbox_setting("TASK_LEASE_SECONDS") / 10:
        return
    if not run.row().update(beat_at=timezone.now()):
        raise LeaseLost(f"hand-over {run.pk} is no longer this run's")
    run.beat = clock()


def _start(pk: int) -> Run | None:
    """Mark the row RUNNING with a new run token if it is QUEUED, and return the Run (else None).
    A locking read, not UPDATE ... WHERE state: with a task backend outside the database (RQ) a
    worker can start the task before the relay's claim (PENDING to QUEUED) commits; the lock waits
    for that commit and then reads QUEUED, where an UPDATE's WHERE would see the committed PENDING
    row, change nothing and skip the run."""
    with transaction.atomic(using=_db()):
        row = Handover.objects.select_for_update().filter(pk=pk).values_list("state", "attempts").first()
        if row is None or row[0] != State.QUEUED:
            return None
        run = Run(pk, uuid.uuid4(), row[1] + 1, clock())
        Handover.objects.filter(pk=pk).update(
            state=State.RUNNING,
            started_at=timezone.now(),
            beat_at=None,
            attempts=run.attempt,
            run_token=run.token,
        )
    return run


def backoff(attempt: int) -> timedelta:
    """The wait after attempt `attempt` failed: base x 2^(attempt-1), at most six hours."""
    return timedelta(seconds=min(inbox_setting("DELIVERY_RETRY_BASE_SECONDS") * 2 ** (attempt - 1), 6 * 3600))


def _failed(run: Run, error: Exception) -> None:
    """The run raised: retry later with backoff, or FAILED after the last attempt; log either.
    Only while the row is still this run's: a run taken over changes nothing."""
    reason = "".join(format_exception(error)).strip()
    try:
        row = run.row().values_list("task_path", "args").first()
        if row is None:
            return
        path, args = row
        last = inbox_setting("DELIVERY_MAX_ATTEMPTS")
        name = f"{path.rsplit('.', 1)[-1]}{tuple(args)}"
        now = timezone.now()
        if run.attempt >= last:
            run.row().update(state=State.FAILED, finished_at=now, last_error=reason)
            logger.error("Delivery %s failed for good after %d attempts: %r", name, run.attempt, error)
        else:
            wait = backoff(run.attempt)
            run.row().update(state=State.PENDING, next_attempt_at=now + wait, last_error=reason)
            logger.warning(
                "Delivery %s failed (attempt %d of %d), retried in %d s: %r",
                name,
                run.attempt,
                last,
                wait.total_seconds(),
                error,
            )
    except Exception:  # the database itself is down: the row stays RUNNING, recover() takes it
        logger.exception("Could not record the failure of delivery hand-over %s: %r", run.pk, error)


def _interrupted(run: Run, stop: BaseException) -> None:
    """The run was stopped, not failed: due again at once, the attempt not counted (rather than
    RUNNING until recover() a lease later). Best effort: the database may be gone too."""
    with suppress(Exception):
        run.row().update(
            state=State.PENDING,
            next_attempt_at=timezone.now(),
            attempts=F("attempts") - 1,
            last_error=f"Interrupted by {type(stop).__name__} while running; due again.",
        )


def _enqueue_failed(pk: int, error: Exception) -> None:
    """An enqueue that raised counts as an attempt: the row waits its backoff (so a row that
    can never be enqueued, an ImportError after a rename or a queue that rejects it, does not
    come first in every relay pass), and is FAILED with the reason after the last attempt."""
    reason = f"Could not be enqueued: {''.join(format_exception(error)).strip()}"
    with suppress(Exception):  # the database being down is logged by the caller
        pending = Handover.objects.filter(pk=pk, state=State.PENDING)
        attempts = pending.values_list("attempts", flat=True).first()
        if attempts is None:
            return
        row, now, attempt = pending.filter(attempts=attempts), timezone.now(), attempts + 1
        if attempt < inbox_setting("DELIVERY_MAX_ATTEMPTS"):
            row.update(attempts=attempt, next_attempt_at=now + backoff(attempt), last_error=reason)
        elif row.update(state=State.FAILED, attempts=attempt, finished_at=now, last_error=reason):
            logger.error("Delivery hand-over %s failed for good after %d attempts: %r", pk, attempt, error)
