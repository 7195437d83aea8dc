"""Page pieces that are the same on every request but for the CSRF token, rendered once.

Every page's head (styles, scripts, icons: a dozen {% static %} URLs) and bell (five reversed
URLs), and every badge poll, rendered the same HTML again and again, at a fifth to half a
millisecond each: as much as the rest of a badge poll. `partial()` renders a template partial once
per process for a key that names everything its context holds (a badge count, the poll interval)
plus the active time zone, language and URL prefix, with placeholders for the request's CSRF
token, and fills the token in by string substitution. The cache is bounded and emptied when a
setting changes (tests).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from django.core.signals import setting_changed
from django.template.loader import get_template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .items import TOKEN_PLACEHOLDER, csrf_input, environment

__all__ = ["partial"]

MAX_ENTRIES = 512
_TOKEN_INPUT = csrf_input(TOKEN_PLACEHOLDER)
_patterns: dict[tuple, str] = {}


def partial(
    template_name: str, key: Hashable, make_context: Callable[[], dict], csrf_token=None
) -> SafeString:
    """What ``get_template(template_name).render(make_context() | {"csrf_token": csrf_token})``
    gives, from the cache: `key` must name everything in `make_context()` that can differ
    between two requests (make_context is called only when the key is new)."""
    cache_key = (template_name, key, environment())
    pattern = _patterns.get(cache_key)
    if pattern is None:
        context = {**make_context(), "csrf_token": TOKEN_PLACEHOLDER}
        html = get_template(template_name).render(context)
        pattern = html.replace("{", "{{").replace("}", "}}")
        pattern = pattern.replace(_TOKEN_INPUT, "{1}").replace(TOKEN_PLACEHOLDER, "{0}")
        if len(_patterns) >= MAX_ENTRIES:
            _patterns.clear()  # a few hundred keys at most in practice (badge counts x places)
        _patterns[cache_key] = pattern
    # As the template would print it: {{ csrf_token }} escaped (None as "None"), and
    # {% csrf_token %} as its hidden input (nothing for a missing token).
    return mark_safe(pattern.format(escape(csrf_token), csrf_input(csrf_token)))


def clear(**kwargs) -> None:
    _patterns.clear()


setting_changed.connect(clear, dispatch_uid="inbox.web.fragments.clear")
