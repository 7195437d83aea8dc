"""Settings of a host project that is not the demo (tests/e2e/test_host_layout.py): the test
settings with the host's own templates and stylesheet first (tests/e2e/host/), and, when
HOST_OVERRIDES names a directory, the host's overrides of the app's templates before everything.
The ASGI test server runs with these (DJANGO_SETTINGS_MODULE); the live server's tests apply the
same through `host_settings()`."""

from __future__ import annotations

import copy
import os
from pathlib import Path

from tests.e2e.asgi_settings import *  # noqa: F403
from tests.e2e.asgi_settings import STATICFILES_DIRS, TEMPLATES

HOST = Path(__file__).resolve().parent / "host"


def template_dirs(dirs, overrides: str | None = None) -> list:
    """The host's template directories in front of `dirs` (the app's overrides first)."""
    return [*([Path(overrides)] if overrides else []), HOST / "templates", *dirs]


TEMPLATES = copy.deepcopy(TEMPLATES)
TEMPLATES[0]["DIRS"] = template_dirs(TEMPLATES[0]["DIRS"], os.environ.get("HOST_OVERRIDES"))
STATICFILES_DIRS = [*STATICFILES_DIRS, HOST / "static"]
