"""Issue 19, review findings: one bad digest batch or one bad digest does not hold up the others,
and a task backend's stop (RQ's job timeout, raised inside the running job) is never taken for
one email's failure, so the run ends when RQ says."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.utils import timezone

from inbox.api import notify
from inbox.mail import digests
from inbox.mail.compose import Digests
from inbox.mail.digests import run_digests
from inbox.mail.sender import send_batch
from inbox.preferences import DigestSetting


def rq_timeouts():
    return pytest.importorskip("rq.timeouts", reason="the [rq] extra (rq) is not installed")


@pytest.fixture(autouse=True)
def no_settling(settings):
    settings.INBOX_DIGEST_SETTLE_SECONDS = 0


def people(django_user_model, count):
    users = [django_user_model.objects.create_user(f"u{i}", email=f"u{i}@example.com") for i in range(count)]
    for user in users:
        DigestSetting.objects.create(
            user=user,
            frequency="daily",
            hour=8,
            timezone="UTC",
            next_due_at=timezone.now() - timedelta(minutes=1),
        )
    notify(users, "Something new", kind="build.finished")
    return users


def test_a_batch_that_raises_does_not_stop_the_batches_after_it(
    settings, db, smtp, monkeypatch, django_user_model, caplog
):
    """Before: the exception ended the run; every later run met the same batch first once its
    lease was over, and the users after it waited."""
    settings.INBOX_DIGEST_BATCH_SIZE = 2
    people(django_user_model, 5)
    collect, calls = digests.collect, []

    def first_batch_breaks(user_ids, now):
        calls.append(user_ids)
        if len(calls) == 1:
            raise RuntimeError("a bug in one batch's data")
        return collect(user_ids, now)

    monkeypatch.setattr(digests, "collect", first_batch_breaks)
    assert run_digests() == {"sent": 3, "batches": 2, "batches_failed": 1}
    assert len(smtp.received) == 3 and "A digest batch of 2 users failed" in caplog.text
    # The failed batch stays leased to no one but its lease: a later run takes it then.
    assert DigestSetting.objects.filter(leased_until__isnull=False).count() == 2


def test_a_digest_that_cannot_be_made_skips_that_user_alone(db, smtp, monkeypatch, django_user_model, caplog):
    users = people(django_user_model, 3)
    make = Digests.email

    def broken_for_u1(self, user_id, *args):
        if user_id == users[1].pk:
            raise ValueError("a template error on this user's data")
        return make(self, user_id, *args)

    monkeypatch.setattr(Digests, "email", broken_for_u1)
    assert run_digests() == {"sent": 2, "failed": 1, "batches": 1}
    assert sorted(m.rcpt_tos[0] for m in smtp.received) == ["u0@example.com", "u2@example.com"]
    assert f"The digest of user {users[1].pk} could not be made" in caplog.text
    skipped = DigestSetting.objects.get(user=users[1])
    assert skipped.last_cursor_id is None  # its items wait for the next digest


def job_timeout() -> Exception:
    """What RQ raises inside a job (from its signal handler) when the job's time is up."""
    return rq_timeouts().JobTimeoutException("Task exceeded maximum timeout value (900 seconds)")


class TimingOutBackend(SMTPBackend):
    """RQ's job timeout arrives while an email is being sent."""

    def send_messages(self, email_messages):
        raise job_timeout()


def test_rqs_job_timeout_ends_the_batch_instead_of_one_email(settings, smtp):
    """Before: it was sorted as this email's "retry" and the loop went on with the next email,
    past the job's end."""
    settings.MAILERS = {
        "default": {**settings.MAILERS["default"], "BACKEND": f"{__name__}.{TimingOutBackend.__qualname__}"}
    }
    from django.core.mail import EmailMessage

    emails = [(i, EmailMessage("s", "b", "a@example.com", [f"u{i}@example.com"])) for i in range(3)]
    with pytest.raises(rq_timeouts().JobTimeoutException):
        send_batch(emails)


@pytest.mark.parametrize("where", ["batch", "one digest"])
def test_rqs_job_timeout_ends_the_digest_run(db, smtp, monkeypatch, django_user_model, where):
    """Not taken for a bad batch or a bad digest (which the run goes on after)."""
    people(django_user_model, 2)
    if where == "batch":
        monkeypatch.setattr(digests, "collect", lambda user_ids, now: (_ for _ in ()).throw(job_timeout()))
    else:
        monkeypatch.setattr(Digests, "email", lambda *args: (_ for _ in ()).throw(job_timeout()))
    with pytest.raises(rq_timeouts().JobTimeoutException):
        run_digests()
    assert smtp.received == []
