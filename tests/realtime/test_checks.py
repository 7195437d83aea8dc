"""inbox.W003: real time is on but no ASGI server can serve its socket; the warning names both
ways out."""

from __future__ import annotations

from inbox.realtime import checks as realtime_checks
from inbox.realtime.checks import check_realtime_server


def test_real_time_without_an_asgi_application_is_a_warning(settings):
    del settings.ASGI_APPLICATION
    [warning] = check_realtime_server(None)
    assert warning.id == "inbox.W003"
    assert "ASGI_APPLICATION is not set" in warning.msg
    assert (
        "uvicorn or daphne" in warning.hint and 'remove "inbox.realtime" from INSTALLED_APPS' in warning.hint
    )


def test_real_time_without_an_asgi_server_installed_is_a_warning(settings, monkeypatch):
    monkeypatch.setattr(realtime_checks, "ASGI_SERVERS", ("no_such_asgi_server",))
    [warning] = check_realtime_server(None)
    assert "no ASGI server (no_such_asgi_server) is installed" in warning.msg


def test_served_real_time_or_none_at_all_is_quiet(settings, leave_out):
    assert check_realtime_server(None) == []  # the demo's config.asgi, uvicorn installed
    leave_out("inbox.realtime")
    del settings.ASGI_APPLICATION
    assert check_realtime_server(None) == []
