"""Page pieces that are the same on every request but for the CSRF token, rendered once.

Every page's head (styles, scripts, icons), its bell and every badge poll render the same HTML
again and again: `partial()` renders a template partial once per process for a key that names
everything its context holds (a badge count, the poll interval) plus the active language, URL
prefix and URLconf, with placeholders for the request's CSRF token, and fills the token in by
string substitution. The time zone is not part of the key: a fragment shows no time (its values
are plain data, never a datetime). The cache is bounded and emptied when a setting changes
(tests). Why it is worth it: docs/performance.md.

`frozen()` makes such a key from the values a partial shows, for a partial rendered with nothing
else (the {% inbox_fragment %} tag): then a key cannot leave out something the partial shows.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from django.core.signals import setting_changed
from django.template.loader import get_template
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .items import TOKEN_PLACEHOLDER, csrf_input, url_environment

__all__ = ["frozen", "frozen_values", "partial"]

MAX_ENTRIES = 512
_TOKEN_INPUT = csrf_input(TOKEN_PLACEHOLDER)
# key -> (the HTML split around the token's input, each piece split around the bare token, or
# None for HTML without the token; the HTML for no token).
_parts: dict[tuple, tuple[tuple[tuple[str, ...], ...] | None, SafeString]] = {}


def partial(
    template_name: str, key: Hashable, make_context: Callable[[], dict], csrf_token=None
) -> SafeString:
    """What ``get_template(template_name).render(make_context() | {"csrf_token": csrf_token})``
    gives, from the cache: `key` must name everything in `make_context()` that can differ
    between two requests (make_context is called only when the key is new)."""
    cache_key = (template_name, key, url_environment())
    entry = _parts.get(cache_key)
    if entry is None:
        context = {**make_context(), "csrf_token": TOKEN_PLACEHOLDER}
        html = get_template(template_name).render(context)
        parts = tuple(tuple(piece.split(TOKEN_PLACEHOLDER)) for piece in html.split(_TOKEN_INPUT))
        if len(_parts) >= MAX_ENTRIES:
            _parts.clear()  # a few hundred keys at most in practice (badge counts x places)
        # Also filled in for no token once: what a badge poll gets, many times a minute per tab,
        # and all there is of a fragment that shows no token (e.g. the site's links).
        without_token = _fill(parts, None)
        entry = _parts[cache_key] = (None if parts == ((html,),) else parts, without_token)
    if csrf_token is None or entry[0] is None:
        return entry[1]
    return _fill(entry[0], str(csrf_token))  # the context's lazy token, read once


def _fill(parts: tuple[tuple[str, ...], ...], csrf_token: str | None) -> SafeString:
    """The HTML with the token put in as the template would print it: {{ csrf_token }} escaped
    (None as "None"), and {% csrf_token %} as its hidden input (nothing for a missing token)."""
    bare = escape(csrf_token)
    return mark_safe(csrf_input(csrf_token).join([bare.join(piece) for piece in parts]))


# Values whose equality means they print the same. The type is part of the key: True == 1 and
# SafeString("<b>") == "<b>", yet a template prints each pair differently.
_PLAIN = frozenset({str, SafeString, int, bool, type(None)})


def frozen(value) -> Hashable:
    """`value` (plain data: str, int, bool, None, and lists and tuples of them) as part of a cache
    key; TypeError for anything else, e.g. a model instance, which equals any other instance of
    its row however its fields differ. A lazy string counts as its text in the active language
    (which is part of every key)."""
    kind = type(value)
    if kind in _PLAIN:
        return (kind, value)
    if kind is list or kind is tuple:
        return (kind, tuple([frozen(item) for item in value]))
    if isinstance(value, Promise):
        text = str(value)
        return (type(text), text)
    raise TypeError(f"A fragment's values are plain data, not {kind.__name__}: {value!r:.80}")


def frozen_values(values: dict) -> Hashable:
    """A fragment's named values ({% inbox_fragment %}'s arguments) as a cache key."""
    return tuple([(name, frozen(value)) for name, value in values.items()])


def clear(**kwargs) -> None:
    _parts.clear()


setting_changed.connect(clear, dispatch_uid="inbox.web.fragments.clear")
