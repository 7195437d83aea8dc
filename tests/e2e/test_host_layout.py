"""Inbox inside a host's layout that is not the demo's (tests/e2e/host/: the host's own base
template and stylesheet, with global rules of its own): the dropdown hangs from its bell wherever
the header puts it, inside the window at every width; the app's stylesheet changes nothing of
the host's; the host forces a colour scheme in one place; every page of the app is reachable
from the bell."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import host_settings

from .conftest import dropdown_of, log_in
from .test_a11y import assert_accessible

SHOTS = os.environ.get("INBOX_SHOTS")  # a directory: the tests save screenshots there


@pytest.fixture
def host(settings):
    """The live server renders the host's templates and serves its stylesheet."""
    templates = [dict(settings.TEMPLATES[0])]
    templates[0]["DIRS"] = host_settings.template_dirs(templates[0]["DIRS"])
    settings.TEMPLATES = templates
    settings.STATICFILES_DIRS = [*settings.STATICFILES_DIRS, host_settings.HOST / "static"]


def bell_of(page: Page):
    return page.get_by_role("button", name=re.compile("^Notifications"))


def open_dropdown(page: Page):
    bell = bell_of(page)
    bell.click()
    panel = dropdown_of(bell)
    expect(panel.get_by_role("heading", name="Notifications")).to_be_focused()
    return panel


def box(locator) -> dict:
    return locator.evaluate(
        "(e) => { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top,"
        " bottom: r.bottom, centre: r.left + r.width / 2}; }"
    )


def arrow_x(panel) -> float:
    """Where the panel's arrow (its ::before) points, in the window's coordinates."""
    return panel.evaluate(
        "(e) => { const s = getComputedStyle(e, '::before'); const r = e.getBoundingClientRect();"
        " return r.left + e.clientLeft + parseFloat(s.left) + parseFloat(s.width) / 2; }"
    )


def wider_than_the_window(page: Page) -> list[str]:
    """The elements that reach past the window's right edge (nothing, when it cannot scroll sideways)."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          if (document.documentElement.scrollWidth <= width) return [];
          return [...document.querySelectorAll("body *")]
            .filter((e) => e.getBoundingClientRect().right > width + 0.5)
            .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${[...e.classList].join(".")}`);
        }"""
    )


def shoot(page: Page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"))


LAYOUTS = ["bell=left", "bell=right", "bell=centre", "bell=left&dir=rtl", "bell=right&dir=rtl"]


@pytest.mark.parametrize("width", [320, 390, 1280, 1920])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_dropdown_hangs_from_its_bell_inside_the_window(
    host, new_context, alice, make_notifications, layout, width
):
    make_notifications(alice, 3, text="A note with a long enough text to wrap in the panel {i}")
    page = new_context(viewport={"width": width, "height": 720}).new_page()
    log_in(page, "alice", "pw-alice")
    page.goto(f"/inbox/?{layout}")
    bell = box(bell_of(page))
    panel = open_dropdown(page)
    placed = box(panel)
    # Under the bell, just below it, and inside the window (8 px from its edges).
    assert bell["bottom"] <= placed["top"] <= bell["bottom"] + 16
    assert placed["left"] >= 8 and placed["right"] <= width - 8
    # The arrow points at the bell's centre.
    assert abs(arrow_x(panel) - bell["centre"]) <= 2
    # Its edge lines up with the bell's near edge where there is room (a bell at a side of a wide
    # window; "left" is the header's start, which a right-to-left page puts on the right).
    if width >= 1280 and bell["centre"] < width / 3:
        assert abs(placed["left"] - bell["left"]) <= 1
    elif width >= 1280 and bell["centre"] > width * 2 / 3:
        assert abs(placed["right"] - bell["right"]) <= 1
    elif width >= 1280:
        assert abs((placed["left"] + placed["right"]) / 2 - bell["centre"]) <= 1
    assert wider_than_the_window(page) == []
    shoot(page, f"host-{layout.replace('&', '-').replace('=', '-')}-{width}")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("side", ["left", "right"])
def test_light_and_dark_follow_the_system_and_the_host_can_force_one(
    host, new_context, alice, make_notifications, side, width, scheme
):
    make_notifications(alice, 2)
    page = new_context(viewport={"width": width, "height": 720}, color_scheme=scheme).new_page()
    log_in(page, "alice", "pw-alice")
    page.goto(f"/inbox/?bell={side}")
    panel = open_dropdown(page)
    background = panel.evaluate("(e) => getComputedStyle(e).backgroundColor")
    assert background == ("rgb(27, 31, 39)" if scheme == "dark" else "rgb(255, 255, 255)")
    shoot(page, f"theme-bell-{side}-{width}-{scheme}")
    # The host forces the other scheme, whatever the system says, with one custom property.
    other = "light" if scheme == "dark" else "dark"
    page.goto(f"/inbox/?bell={side}&theme={other}")
    panel = open_dropdown(page)
    forced = panel.evaluate("(e) => getComputedStyle(e).backgroundColor")
    assert forced != background and forced == ("rgb(27, 31, 39)" if other == "dark" else "rgb(255, 255, 255)")


HOST_ELEMENTS = [
    "html",
    "body",
    ".host-header",
    ".host-title",
    ".host-text",
    ".host-button",
    ".host-button[disabled]",
]
PROPERTIES = [
    "box-sizing",
    "font-family",
    "font-size",
    "font-weight",
    "line-height",
    "letter-spacing",
    "color",
    "background-color",
    "margin-top",
    "margin-bottom",
    "padding-top",
    "padding-left",
    "border-top-width",
    "border-top-color",
    "opacity",
    "cursor",
    "text-transform",
    "outline-style",
]  # not the sizes of html, body or the header: the app's elements inside them are styled, that is all


def computed(page: Page) -> dict:
    return page.evaluate(
        "([selectors, properties]) => Object.fromEntries(selectors.map((s) => {"
        " const style = getComputedStyle(document.querySelector(s));"
        " return [s, Object.fromEntries(properties.map((p) => [p, style.getPropertyValue(p)]))]; }))",
        [HOST_ELEMENTS, PROPERTIES],
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_apps_stylesheet_changes_nothing_of_the_hosts(host, new_context, alice, scheme):
    page = new_context(viewport={"width": 1280, "height": 720}, color_scheme=scheme).new_page()
    log_in(page, "alice", "pw-alice")
    page.goto("/inbox/?bell=left&inbox=0")
    assert not page.evaluate(
        "() => [...document.styleSheets].some((s) => (s.href || '').includes('inbox.css'))"
    )
    without = computed(page)
    page.goto("/inbox/?bell=left")
    page.wait_for_function(
        "() => [...document.styleSheets].some((s) => (s.href || '').includes('inbox.css'))"
    )
    assert computed(page) == without
    # The app's own elements are styled meanwhile (the stylesheet did load and apply).
    assert bell_of(page).evaluate("(e) => getComputedStyle(e).borderRadius") == "50%"


def test_every_page_of_the_app_is_reachable_from_the_bell(host, new_context, alice, staff):
    page = new_context().new_page()
    log_in(page, "alice", "pw-alice")
    page.goto("/inbox/preferences/?bell=left")
    panel = open_dropdown(page)
    expect(panel.get_by_role("link", name="See all notifications")).to_be_visible()
    expect(panel.get_by_role("link", name="Send a notification")).to_have_count(0)
    panel.get_by_role("link", name="Notification preferences").click()
    expect(page.get_by_role("heading", name="Preferences", level=1)).to_be_visible()
    open_dropdown(page).get_by_role("link", name="See all notifications").click()
    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()

    staff_page = new_context().new_page()
    log_in(staff_page, "sam", "pw-sam")
    open_dropdown(staff_page).get_by_role("link", name="Send a notification").click()
    expect(staff_page.get_by_role("heading", name="Send a notification", level=1)).to_be_visible()


@pytest.mark.parametrize("width", [320, 390])
def test_on_a_phone_each_filter_label_stays_beside_its_select(new_context, alice, width):
    """The demo's dashboard (issue 21): "Level" wrapped to the end of one line, its select to the next."""
    page = new_context(viewport={"width": width, "height": 720}).new_page()
    log_in(page, "alice", "pw-alice")
    for name in ("Kind", "Level"):
        select = page.get_by_label(name)
        label = page.locator(f"label[for='{select.get_attribute('id')}']")
        label_box, select_box = box(label), box(select)
        assert label_box["right"] <= select_box["left"]  # before it, on the same line
        assert select_box["top"] <= (label_box["top"] + label_box["bottom"]) / 2 <= select_box["bottom"]
    assert wider_than_the_window(page) == []


@pytest.mark.parametrize("path", ["/inbox/", "/inbox/preferences/", "/inbox/send/", "/accounts/login/"])
def test_the_demo_in_dark_mode_passes_axe(new_context, staff, make_notifications, path):
    """Dark mode's colours (the app's and the demo site's) keep their contrast, dropdown open."""
    make_notifications(staff, 2, text="A dark note {i}", level="warning")
    page = new_context(color_scheme="dark").new_page()
    log_in(page, "sam", "pw-sam")
    page.goto(path)
    if path != "/accounts/login/":
        open_dropdown(page)
    assert page.evaluate("() => getComputedStyle(document.body).color") == "rgb(230, 232, 238)"
    assert_accessible(page)


def test_what_the_app_hides_stays_hidden_under_a_hosts_display_rules(host, new_context, alice):
    """A host's "header div { display: flex }" is stronger than any rule in the app's layer, but
    must not show the closed dropdown or the live region's text in the host's header."""
    page = new_context(viewport={"width": 1280, "height": 720}, bypass_csp=True).new_page()
    log_in(page, "alice", "pw-alice")
    page.goto("/inbox/?bell=left")
    page.add_style_tag(content="header div, header span, header p { display: flex; }")
    bell = bell_of(page)
    expect(dropdown_of(bell)).to_be_hidden()
    open_dropdown(page)
    bell.click()
    expect(dropdown_of(bell)).to_be_hidden()
