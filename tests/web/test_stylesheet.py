"""The app's stylesheet styles only the app: all of it in the cascade layer "inbox", every rule
under one of its roots (.inbox-bell, .inbox-page), its theme through --inbox-* properties. The
browser test (tests/e2e/test_host_layout.py) checks the effect on a host's page; this one points
at the rule that broke it."""

from __future__ import annotations

import re
from pathlib import Path

import inbox

STYLESHEET = Path(inbox.__file__).parent / "web" / "static" / "inbox" / "inbox.css"
ROOTS = (".inbox-bell", ".inbox-page")


def rules(css: str):
    """(depth, prelude) of every block in `css`: a selector list or an at-rule, and how deep."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    depth, start = 0, 0
    for i, char in enumerate(css):
        if char == "{":
            yield depth, css[start:i].strip()
            depth += 1
            start = i + 1
        elif char in "};":
            if char == "}":
                depth -= 1
            start = i + 1


def top_level_rules(css: str):
    """The selector lists that are not nested in another rule (at-rules looked through)."""
    inside_rule = []  # per depth: whether that block is a style rule
    for depth, prelude in rules(css):
        del inside_rule[depth:]
        is_rule = not prelude.startswith("@")
        if is_rule and not any(inside_rule):
            yield prelude
        inside_rule.append(is_rule)


def test_everything_is_in_the_inbox_layer():
    css = re.sub(r"/\*.*?\*/", "", STYLESHEET.read_text(), flags=re.S).strip()
    assert css.startswith("@layer inbox {") and css.endswith("}")
    assert [prelude for depth, prelude in rules(css) if depth == 0] == ["@layer inbox"]


def test_every_rule_is_under_one_of_the_apps_roots():
    selectors = list(top_level_rules(STYLESHEET.read_text()))
    assert len(selectors) > 50  # the walk found the rules
    for selector_list in selectors:
        for selector in re.split(r",(?![^(]*\))", selector_list):
            assert any(root in selector for root in ROOTS), (
                f"{selector.strip()!r} is not under the app's roots"
            )


def test_the_theme_is_set_through_prefixed_properties_only():
    css = STYLESHEET.read_text()
    assert ":root" not in re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    used = set(re.findall(r"var\((--[\w-]+)", css))
    assert used, "the stylesheet reads custom properties"
    assert all(name.startswith(("--inbox-", "--_")) for name in used), sorted(used)
    for name in ("color-scheme", "font", "background", "accent", "radius", "space"):
        assert f"--inbox-{name}" in css
