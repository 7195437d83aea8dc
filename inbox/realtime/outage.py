"""An outage said once: the first failure of something that keeps being retried (the channel
layer, the events table) is logged with its traceback, the next ones are not, and the first
success after them says it is back. A retry every second must not log a traceback every second."""

from __future__ import annotations

import logging

__all__ = ["Outage"]


class Outage:
    def __init__(self, logger: logging.Logger, what: str):
        self.logger = logger
        self.what = what
        self.down = False
        self.failures = 0  # failed tries in this outage

    def failed(self, error: BaseException, consequence: str = "") -> bool:
        """A try failed; True if this starts an outage (the one logged)."""
        self.failures += 1
        if self.down:
            return False
        self.down = True
        self.logger.warning(
            "%s is down (%s: %s)%s", self.what, type(error).__name__, error, consequence, exc_info=error
        )
        return True

    def recovered(self) -> bool:
        """A try succeeded; True if this ends an outage (logged)."""
        if not self.down:
            return False
        self.logger.warning("%s is back after %d failed tries", self.what, self.failures)
        self.down, self.failures = False, 0
        return True
