"""Checks shared by the Python API, the staff form, the commands and the admin: each returns the clean
value or raises ValidationError with a message a person can act on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator, URLValidator
from django.utils import timezone

from .conf import inbox_setting
from .models import MESSAGE_MAX_LENGTH, URL_MAX_LENGTH, Level

__all__ = ["clean_expiry", "clean_level", "clean_link", "clean_text"]

_http_url = URLValidator(schemes=["http", "https"])
# PostgreSQL cannot store a NUL in text (DataError on save): refused here, on every path in.
_no_nul_text = ProhibitNullCharactersValidator("The message must not contain NUL characters.")
_no_nul_link = ProhibitNullCharactersValidator("The link must not contain NUL characters.")


def clean_text(text) -> str:
    if not isinstance(text, str):
        raise ValidationError("The message must be text.", code="invalid")
    _no_nul_text(text)
    text = text.strip()
    if not text:
        raise ValidationError("The message is empty.", code="required")
    if len(text) > MESSAGE_MAX_LENGTH:
        raise ValidationError(
            f"The message is {len(text)} characters long; the limit is {MESSAGE_MAX_LENGTH}.",
            code="max_length",
        )
    return text


def clean_link(url) -> str:
    """An http(s) URL or a path on this site ("/inbox/"); anything else (javascript:, //host)
    is refused, so a link in a notification can never run script or hide a scheme."""
    if url is None:
        return ""
    if not isinstance(url, str):
        raise ValidationError("The link must be text.", code="invalid")
    _no_nul_link(url)
    url = url.strip()
    if not url:
        return ""
    if len(url) > URL_MAX_LENGTH:
        raise ValidationError(f"The link is longer than {URL_MAX_LENGTH} characters.")
    if url.startswith("/") and not url.startswith(("//", "/\\")):
        if any(ch.isspace() or ord(ch) < 32 for ch in url):
            raise ValidationError("The link must not contain spaces or control characters.")
        return url
    try:
        _http_url(url)
    except ValidationError:
        raise ValidationError(
            "The link must be an http:// or https:// URL, or a path starting with /.",
            code="invalid",
        ) from None
    return url


def clean_level(level) -> str:
    if level not in Level.values:
        raise ValidationError(
            f"Unknown level {level!r}; choose one of {', '.join(Level.values)}.", code="invalid"
        )
    return str(level)


def clean_expiry(expires_at, now=None) -> datetime | None:
    """A timezone-aware moment in the future and at most INBOX_MAX_EXPIRY_DAYS ahead, returned
    in UTC. A far date with an offset (9999-12-31T23:59-05:00) is past the year 9999 in UTC,
    which databases and Python cannot store or read back: it is refused here, not on save."""
    if expires_at is None:
        return None
    if not isinstance(expires_at, datetime):
        raise ValidationError("The expiry must be a date and time.", code="invalid")
    if timezone.is_naive(expires_at):
        raise ValidationError("The expiry must be timezone-aware.", code="naive")
    max_days = inbox_setting("MAX_EXPIRY_DAYS")
    too_far = ValidationError(
        f"The expiry is too far ahead: at most {max_days} days from now.", code="too_far"
    )
    try:
        expires_at = expires_at.astimezone(UTC)
    except (OverflowError, ValueError):  # past the year 9999 (or before the year 1) in UTC
        raise (too_far if expires_at.year > 1 else _past()) from None
    now = now or timezone.now()
    if expires_at <= now:
        raise _past()
    if expires_at > now + timedelta(days=max_days):
        raise too_far
    return expires_at


def _past() -> ValidationError:
    return ValidationError("The expiry is in the past: nobody would see it.", code="past")
