"""One VAPID token per push service origin, reused for its lifetime (issue 19): the local push
services verify every token (ES256 signature, aud, exp, sub, the site's key) and record it."""

from __future__ import annotations

import time

import pytest
from django.conf import settings as django_settings

from inbox.push import vapid
from inbox.push.sender import PushJob, send_pushes

from .receiver import PushReceiver


@pytest.fixture(autouse=True)
def fresh_tokens(settings):
    settings.INBOX_PUSH_ALLOW_LOOPBACK = True
    vapid.signer.cache_clear()  # no token from another test
    yield
    vapid.signer.cache_clear()


def jobs(receiver: PushReceiver, names) -> list[PushJob]:
    made = []
    for number, name in enumerate(names, 1):
        keys = receiver.subscription(name)["keys"]
        made.append(PushJob(number, f"{receiver.origin}/push/{name}", keys["p256dh"], keys["auth"], {"n": 1}))
    return made


def site_signer() -> vapid.VapidSigner:
    keys = django_settings.WEBPUSH_SETTINGS
    return vapid.signer(keys["VAPID_PRIVATE_KEY"], f"mailto:{keys['VAPID_ADMIN_EMAIL']}")


def tokens(receiver: PushReceiver) -> set[str]:
    return {push["authorization"] for push in receiver.received}


def test_one_token_per_push_service_origin():
    with PushReceiver() as first, PushReceiver() as second:
        work = jobs(first, [f"a{i}" for i in range(5)]) + jobs(second, [f"b{i}" for i in range(5)])
        outcomes = send_pushes(work, ttl=60, urgency="normal")
        assert [o.kind for o in outcomes] == ["sent"] * 10
        again = send_pushes(jobs(first, ["later"]), ttl=60, urgency="normal")  # another wave, a task
        assert again[0].kind == "sent"
    assert not first.rejected and not second.rejected, first.rejected + second.rejected
    assert len(first.received) == 6 and len(second.received) == 5
    (first_token,), (second_token,) = tokens(first), tokens(second)  # one each, every push
    assert first_token != second_token  # each signed for its own audience
    assert {p["claims"]["aud"] for p in first.received} == {first.origin}
    assert {p["claims"]["aud"] for p in second.received} == {second.origin}
    assert site_signer().signatures == 2


def test_a_token_lasts_half_a_day():
    with PushReceiver() as receiver:
        send_pushes(jobs(receiver, ["a"]), ttl=60, urgency="normal")
    (push,) = receiver.received
    assert vapid.LIFETIME - 60 <= push["claims"]["exp"] - time.time() <= vapid.LIFETIME


def test_a_token_near_its_expiry_is_renewed(monkeypatch):
    with PushReceiver() as receiver:
        send_pushes(jobs(receiver, ["a"]), ttl=60, urgency="normal")
        # Still valid, but in its last hour: the next push carries a new one.
        late = time.time() + vapid.LIFETIME - vapid.RENEW_BEFORE + 60
        monkeypatch.setattr(vapid, "now", lambda: late)
        send_pushes(jobs(receiver, ["b", "c"]), ttl=60, urgency="normal")
    assert not receiver.rejected, receiver.rejected  # the new token verified too
    old, new, newer = receiver.received
    assert old["authorization"] != new["authorization"] == newer["authorization"]
    assert new["claims"]["exp"] == int(late) + vapid.LIFETIME
    assert site_signer().signatures == 2


def test_tokens_for_many_origins_stay_bounded(monkeypatch):
    monkeypatch.setattr(vapid, "MAX_ORIGINS", 3)
    signer = site_signer()
    headers = [signer.authorization(f"https://push{i}.example.net") for i in range(5)]
    assert len(set(headers)) == 5 and len(signer.tokens) <= 3
    assert signer.authorization("https://push4.example.net") == headers[4]  # a recent one is kept
