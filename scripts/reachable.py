"""Exit 0 when the database or Redis URL given answers, 1 (with the reason) when it does not."""

from __future__ import annotations

import socket
import sys
from urllib.parse import urlsplit


def main(url: str) -> int:
    parts = urlsplit(url)
    default_port = {"postgres": 5432, "postgresql": 5432, "redis": 6379}.get(parts.scheme, 0)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), 2):
            return 0
    except OSError as error:
        print(f"{parts.hostname}:{parts.port or default_port} does not answer: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
