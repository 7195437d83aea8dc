"""The repository's shape: import-linter's contracts name every module of the core, and no file
holds a merge's conflict markers."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import inbox

ROOT = Path(__file__).resolve().parent.parent
APPS = {"web", "push", "pwa", "realtime", "mail"}  # inbox.<app>: the apps, each with its own contract


def core_modules() -> set[str]:
    """inbox's own modules and packages, the apps left out."""
    package = Path(inbox.__file__).parent
    names = {path.stem for path in package.glob("*.py") if path.stem != "__init__"}
    names |= {path.name for path in package.iterdir() if (path / "__init__.py").exists()}
    return {f"inbox.{name}" for name in names - APPS}


def contract(name_starts: str) -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    [found] = [c for c in config["contracts"] if c["name"].startswith(name_starts)]
    return found


def test_the_core_contract_names_every_module_of_the_core():
    assert set(contract("The core imports no app")["source_modules"]) == core_modules()


def test_the_extras_contract_names_every_module_of_the_core_and_the_web_ui():
    modules = set(contract("The core and the web UI import no library")["source_modules"])
    assert modules == core_modules() | {"inbox.web"}


def test_no_file_holds_conflict_markers():
    found = subprocess.run(
        ["git", "grep", "-nE", "^(<<<<<<<|>>>>>>>)( |$)", "--", ".", ":!tests/e2e/vendor"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert found.returncode == 1, found.stdout  # 1: no match
