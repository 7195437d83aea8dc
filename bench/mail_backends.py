"""The benchmark's mailers for its STARTTLS server: Django's SMTP backend and Inbox's opt-in
PipeliningSMTPBackend, each trusting this run's self-signed certificate, and only it (`cafile`).
Named in MAILERS by bench.mail once Django is set up (inbox.mail.backends needs the app registry)."""

from __future__ import annotations

import ssl

from django.core.mail.backends.smtp import EmailBackend
from django.utils.functional import cached_property

from inbox.mail.backends import PipeliningSMTPBackend


class Trusting:
    def __init__(self, *, cafile: str, **options):
        super().__init__(**options)
        self.cafile = cafile

    @cached_property
    def ssl_context(self):
        return ssl.create_default_context(cafile=self.cafile)


class TrustingBackend(Trusting, EmailBackend):
    pass


class TrustingPipeliningBackend(Trusting, PipeliningSMTPBackend):
    pass
