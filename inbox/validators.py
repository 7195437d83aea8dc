"""Checks shared by the Python API, the staff form and the command: each returns the clean
value or raises ValidationError with a message a person can act on."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone

from .models import MESSAGE_MAX_LENGTH, URL_MAX_LENGTH, Level

__all__ = ["clean_expiry", "clean_level", "clean_link", "clean_text"]

_http_url = URLValidator(schemes=["http", "https"])


def clean_text(text) -> str:
    if not isinstance(text, str):
        raise ValidationError("The message must be text.", code="invalid")
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
    if expires_at is None:
        return None
    if not isinstance(expires_at, datetime):
        raise ValidationError("The expiry must be a date and time.", code="invalid")
    if timezone.is_naive(expires_at):
        raise ValidationError("The expiry must be timezone-aware.", code="naive")
    if expires_at <= (now or timezone.now()):
        raise ValidationError("The expiry is in the past: nobody would see it.", code="past")
    return expires_at
