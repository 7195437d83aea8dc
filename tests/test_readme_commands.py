"""The README's real-time commands work as printed: the pages (gunicorn, port 8000 by default)
are told the socket's port (INBOX_SOCKET_PORT) that uvicorn listens on, the socket trusts the
pages' origin (CSRF_TRUSTED_ORIGINS), and every process, the worker too, gets the same REDIS_URL.
(Run by hand with Chromium for issue 21; this keeps the printed lines consistent.)"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def real_time_commands() -> list[list[str]]:
    section = README.read_text().split("\n## Real time\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```\n(.*?)\n```", section, re.DOTALL)[1]
    return [shlex.split(line.rstrip("&").strip()) for line in block.splitlines() if line.strip()]


def option(command: list[str], name: str, default: str) -> str:
    return command[command.index(name) + 1] if name in command else default


def test_the_printed_real_time_commands_fit_together():
    export, *servers = real_time_commands()
    assert export[0] == "export", "the first line exports the environment every process shares"
    environment = dict(item.split("=", 1) for item in export[1:])
    assert environment["REDIS_URL"].startswith("redis://")
    [gunicorn] = [c for c in servers if c[0].endswith("gunicorn")]
    [uvicorn] = [c for c in servers if c[0].endswith("uvicorn")]
    assert any(c[-1] == "inbox_worker" for c in servers), "the worker runs beside them"

    page_port = option(gunicorn, "--bind", "127.0.0.1:8000").rsplit(":", 1)[1]
    assert option(uvicorn, "--port", "8000") == environment["INBOX_SOCKET_PORT"] != page_port
    assert f"http://127.0.0.1:{page_port}" in environment["CSRF_TRUSTED_ORIGINS"].split(",")
    assert "config.asgi:application" in uvicorn and "config.wsgi:application" in gunicorn
