"""The core's migrations that changed since 756335a as they were; the others: the app's."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
__path__ = [str(Path(__file__).parent), str(ROOT / "inbox/migrations")]
