"""The outbox's tests deliver for real: the local push service and the SMTP server of the
channels' own tests."""

# ruff: noqa: F401 (fixtures imported for the tests of this folder)
from __future__ import annotations

from tests.mail.conftest import address, smtp
from tests.push.conftest import receiver, subscribe
