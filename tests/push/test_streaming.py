"""The task's pushes are a stream (issue 19): receipts are written every half wave of answers
while the other pushes keep going, so a slow answer holds no wave's receipts, and at most a wave
(INBOX_PUSH_WAVE_SIZE) of pushes is ever out without a receipt written. And what
made a push cheaper keeps it the same: the body still decrypts as RFC 8291 says, a read token
is the one signing.dumps makes, a refused address is refused for every endpoint on it."""

from __future__ import annotations

import struct
import threading
import time

import http_ece
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.core import signing

from inbox.api import notify
from inbox.push import tasks
from inbox.push.models import PushReceipt
from inbox.push.sender import PushJob, encrypt, send_pushes, stream_pushes
from inbox.push.tasks import deliver_push
from inbox.push.tokens import ID_MAX, READ_TOKEN_SALT, notification_id, read_token

from .keys import b64url_decode, subscription_json

WAVE, CONCURRENCY = 10, 5


@pytest.fixture
def small_waves(settings):
    settings.INBOX_PUSH_WAVE_SIZE, settings.INBOX_PUSH_CONCURRENCY = WAVE, CONCURRENCY


@pytest.fixture
def recorded(monkeypatch, receiver):
    """Every record_wave call: (how many pushes the service had received, how many outcomes)."""
    calls = []
    real = tasks.record_wave

    def record_wave(message_id, outcomes):
        with receiver.lock:
            calls.append((len(receiver.received), len(outcomes)))
        real(message_id, outcomes)

    monkeypatch.setattr(tasks, "record_wave", record_wave)
    return calls


def audience(django_user_model, subscribe, n):
    users = [django_user_model.objects.create(username=f"u{i:03d}") for i in range(n)]
    for user in users:
        subscribe(user, user.username)
    return users


class FirstAfterAWaveIsRecorded:
    """A gate for the receiver, on every subscription: the first push to arrive is answered
    once a wave's receipts were written (or after 10 s, with a 503: a retry, which the test
    sees); the others at once."""

    def __init__(self, calls: list):
        self.calls, self.lock, self.taken = calls, threading.Lock(), False

    def wait(self, timeout: float) -> bool:
        with self.lock:
            first, self.taken = not self.taken, True
        deadline = time.monotonic() + timeout
        while first and time.monotonic() < deadline:
            if self.calls:
                return True
            time.sleep(0.005)
        return not first


def test_a_slow_answer_holds_no_waves_receipts(small_waves, django_user_model, receiver, subscribe, recorded):
    """The first push to arrive is answered only after a wave was recorded: with waves that
    each wait for their slowest answer, its own (the first) would never be."""
    users = audience(django_user_model, subscribe, 30)
    gate = FirstAfterAWaveIsRecorded(recorded)
    for user in users:
        receiver.hold(user.username, gate)

    assert deliver_push.call(notify(users, "Hello").message.pk) == {"sent": 30, "attempt": 1}

    assert [n for _, n in recorded] == [WAVE // 2] * 6  # one INSERT per half wave of answers
    assert recorded[0][0] < 30  # receipts were written before the held push arrived
    assert PushReceipt.objects.count() == 30


def test_at_most_a_wave_goes_out_unrecorded(small_waves, django_user_model, receiver, subscribe, recorded):
    receiver.delay = 0.01
    users = audience(django_user_model, subscribe, 60)
    assert deliver_push.call(notify(users, "Hello").message.pk)["sent"] == 60
    written = 0
    for received, outcomes in recorded:
        assert received - written <= WAVE, recorded
        written += outcomes


def test_a_failed_receipts_write_stops_the_pushes_still_to_go(
    monkeypatch, small_waves, django_user_model, receiver, subscribe
):
    receiver.delay = 0.02
    users = audience(django_user_model, subscribe, 60)

    def record_wave(message_id, outcomes):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(tasks, "record_wave", record_wave)
    with pytest.raises(RuntimeError):
        deliver_push.call(notify(users, "Hello").message.pk)
    time.sleep(0.2)  # what was in flight lands
    assert WAVE // 2 <= len(receiver.received) <= WAVE  # never more than a wave unrecorded


def test_a_push_body_decrypts_as_rfc_8291_says():
    browser = ec.generate_private_key(ec.SECP256R1())
    keys = subscription_json("https://push.example.net/x", browser, b"0123456789abcdef")["keys"]
    body = encrypt(b'{"body":"Hello"}', b64url_decode(keys["p256dh"]), b64url_decode(keys["auth"]))
    salt, record_size, key_length = body[:16], *struct.unpack("!LB", body[16:21])
    assert (record_size, key_length) == (4096, 65)  # one record; the sender's key, uncompressed
    assert http_ece.decrypt(body, private_key=browser, auth_secret=b"0123456789abcdef") == b'{"body":"Hello"}'
    other = encrypt(b'{"body":"Hello"}', b64url_decode(keys["p256dh"]), b64url_decode(keys["auth"]))
    assert other[:16] != salt and other[21:86] != body[21:86]  # a new salt and key for every push


@pytest.mark.parametrize("pk", [1, 7, 123_456, 2**31 + 5, ID_MAX])
def test_a_read_token_is_the_one_signing_dumps_makes(monkeypatch, pk):
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.0)
    token = read_token(pk)
    assert token == signing.dumps(pk, salt=READ_TOKEN_SALT, compress=True)
    assert notification_id(token) == pk


def test_every_endpoint_on_a_refused_address_is_refused(receiver):
    """The address check runs once per push service in a call: its verdict holds for every
    endpoint there, and another service in the same call gets its own."""
    allowed = [receiver.subscription(f"ok{i}") for i in range(3)]
    jobs = [
        PushJob(i, data["endpoint"], data["keys"]["p256dh"], data["keys"]["auth"], {"body": "Hello"})
        for i, data in enumerate(allowed)
    ]
    blocked = subscription_json("https://10.0.0.8/push/a")["keys"]
    jobs[1:1] = [
        PushJob(10 + i, f"https://10.0.0.8/push/{i}", blocked["p256dh"], blocked["auth"], {"body": "No"})
        for i in range(3)
    ]
    outcomes = send_pushes(jobs, ttl=60, urgency="normal")
    assert [(o.subscription_id, o.kind) for o in outcomes] == [
        (0, "sent"),
        (10, "failed"),
        (11, "failed"),
        (12, "failed"),
        (1, "sent"),
        (2, "sent"),
    ]
    assert all("non-public address" in o.detail for o in outcomes if o.kind == "failed")
    assert len(receiver.received) == 3


def test_streams_in_other_threads_do_not_mix(small_waves, receiver):
    """Two tasks at once in one worker process share the client's loop, each its own stream."""

    def jobs(name):
        made = [receiver.subscription(f"{name}{i}") for i in range(25)]
        return [
            PushJob(i, d["endpoint"], d["keys"]["p256dh"], d["keys"]["auth"], {"body": name})
            for i, d in enumerate(made)
        ]

    work = {"a": jobs("a"), "b": jobs("b")}
    waves = {}

    def run(name):
        waves[name] = list(stream_pushes(work[name], ttl=60, urgency="normal", wave=WAVE))

    threads = [threading.Thread(target=run, args=(name,)) for name in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name in work:
        assert [len(wave) for wave in waves[name]] == [WAVE // 2] * 5
        assert sorted(o.subscription_id for wave in waves[name] for o in wave) == list(range(25))
        assert {o.kind for wave in waves[name] for o in wave} == {"sent"}
    assert sorted(p["payload"]["body"] for p in receiver.received) == ["a"] * 25 + ["b"] * 25
