from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from inbox.validators import clean_expiry

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_an_expiry_within_ten_years_is_returned_in_utc():
    later = datetime.fromisoformat("2030-01-01T09:00:00-05:00")
    cleaned = clean_expiry(later, now=NOW)
    assert cleaned == later and cleaned.utcoffset() == timedelta(0)
    assert clean_expiry(NOW + timedelta(days=3650), now=NOW) == NOW + timedelta(days=3650)
    assert clean_expiry(None) is None


@pytest.mark.parametrize(
    ("value", "error"),
    [
        # Past the year 9999 once in UTC: astimezone() overflows.
        (datetime.fromisoformat("9999-12-31T23:59:59-05:00"), "too far ahead: at most 3650 days"),
        (datetime.fromisoformat("9999-12-31T23:59:59+00:00"), "too far ahead"),
        (NOW + timedelta(days=3650, seconds=1), "too far ahead"),
        # Before the year 1 once in UTC.
        (datetime.fromisoformat("0001-01-01T00:00:00+05:00"), "in the past"),
        (NOW, "in the past"),
        (NOW.replace(tzinfo=None) + timedelta(days=1), "timezone-aware"),
        ("2030-01-01", "a date and time"),
    ],
)
def test_an_expiry_out_of_range_is_a_clear_validation_error(value, error):
    with pytest.raises(ValidationError, match=error):
        clean_expiry(value, now=NOW)


def test_the_bound_is_a_setting(settings):
    settings.INBOX_MAX_EXPIRY_DAYS = 7
    with pytest.raises(ValidationError, match="at most 7 days"):
        clean_expiry(timezone.now() + timedelta(days=8))
    assert clean_expiry(timezone.now() + timedelta(days=6))
