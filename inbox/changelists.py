"""Admin changelists that refuse a query string the database would fail on, as the admin
refuses a bad filter (a redirect with ?e=1) instead of a 500."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import SEARCH_VAR

__all__ = ["CheckedChangelist", "unusable_lookup"]

INT64 = range(-(2**63), 2**63)  # what an integer column can hold
# What a Python date can hold: a year lookup's bounds are dates, and the date hierarchy makes a
# date of its year, month and day (whose C ints overflow before datetime's own check).
DATE_PARTS = {"year": range(1, 10_000), "iso_year": range(1, 10_000)} | dict.fromkeys(
    ("month", "day", "week", "week_day", "iso_week_day", "quarter", "hour", "minute", "second"),
    range(10_000),
)


def unusable_lookup(params) -> str:
    """Why a changelist's query string cannot be used, or "". The admin turns any parameter
    into a lookup, and refuses the ones that fail when the query is built; these fail only when
    it is run (a 500): a NUL byte (PostgreSQL's text cannot hold one), an integer beyond 64 bits
    (SQLite's), a year no date has, a date's part beyond a C int."""
    for key, values in params.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            return "A NUL character in a filter."
        if key == SEARCH_VAR:
            continue  # matched as text (search_fields)
        part = next((DATE_PARTS[name] for name in key.split("__") if name in DATE_PARTS), None)
        for piece in (piece for value in values for piece in value.split(",")):
            try:
                number = int(piece)
            except ValueError:
                if part is not None:
                    return f"{key}: a date's part is a number."
                continue  # text: the lookup checks it
            if number not in (INT64 if part is None else part):
                return f"{key}: out of range."
    return ""


class CheckedChangelist(admin.ModelAdmin):
    """A ModelAdmin whose changelist refuses, as the admin refuses a bad filter (a redirect
    with ?e=1), a query string that would fail in the database (unusable_lookup)."""

    def get_changelist_instance(self, request):
        if reason := unusable_lookup(request.GET):
            raise IncorrectLookupParameters(reason)
        return super().get_changelist_instance(request)
