"""The test command says what it skipped and why: a skipped PostgreSQL or Redis test must not
pass for a passed one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_run_lists_each_skipped_test_with_its_reason(tmp_path):
    (tmp_path / "test_skips.py").write_text(
        "import pytest\n\n\ndef test_needs_a_server():\n    pytest.skip('no server answers at 127.0.0.1:1')\n"
    )
    # The project's own configuration (as `make test` and scripts/test.sh use it), on one file.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(ROOT),
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SKIPPED [1]" in result.stdout
    assert "no server answers at 127.0.0.1:1" in result.stdout
