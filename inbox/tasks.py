"""Where `deliver_push` lived before the push package: tasks already queued under the old dotted
path "inbox.tasks.deliver_push" still find it."""

from __future__ import annotations

from inbox.push.tasks import deliver_push

__all__ = ["deliver_push"]
