"""Helpers for the real-time browser tests: a logged-in tab on the ASGI server whose socket is
up and has had the server's answer to its hello."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from .conftest import log_in

BADGE = "/inbox/badge/"

# Counts the frames the page's socket received (each one, HTML or data, after it is handled).
FRAMES = """(() => {
  window.__frames = 0;
  document.addEventListener("htmx:ws:after:message:incoming", () => { window.__frames += 1; });
})();"""

SOCKET_UP = "[data-live][data-connected]"


def tab(context: BrowserContext, url: str = "/inbox/", *, login: tuple[str, str] | None = None) -> Page:
    """A new page of `context` at `url`, logged in first if `login` = (username, password),
    once its socket is up and the server has answered its hello (the catch-up's first frame)."""
    page = context.new_page()
    page.add_init_script(FRAMES)
    if login:
        log_in(page, *login)
    if page.url.removeprefix(context_base(page)) != url:
        page.goto(url)
    wait_for_socket(page)
    return page


def context_base(page: Page) -> str:
    return page.evaluate("location.origin")


def wait_for_socket(page: Page) -> None:
    """The socket is up and its hello answered: the server's first frame arrived."""
    expect(page.locator(SOCKET_UP)).to_have_count(1)
    page.wait_for_function("() => window.__frames > 0")


def frames(page: Page) -> int:
    return page.evaluate("window.__frames")
