"""path_for(): reverse() once per process, for the active URL prefix and URLconf."""

from __future__ import annotations

from django.urls import include, path, reverse, set_script_prefix

from inbox.web.paths import path_for

# A URLconf with the app somewhere else, for the test that switches ROOT_URLCONF to this module.
urlpatterns = [path("elsewhere/", include("inbox.urls"))]


def test_it_is_what_reverse_gives(db):
    for name in ["inbox:index", "inbox:realtime", "inbox:badge"]:
        assert path_for(name) == reverse(name)


def test_it_follows_the_script_prefix():
    try:
        set_script_prefix("/sub/")
        assert path_for("inbox:index") == "/sub/inbox/"
    finally:
        set_script_prefix("/")
    assert path_for("inbox:index") == "/inbox/"


def test_it_follows_a_changed_urlconf(settings):
    assert path_for("inbox:index") == "/inbox/"
    settings.ROOT_URLCONF = __name__
    assert path_for("inbox:index") == "/elsewhere/"
