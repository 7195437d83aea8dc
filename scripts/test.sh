#!/usr/bin/env bash
# Every test: lint; unit and view tests on SQLite, then on PostgreSQL; browser tests in Chromium.
# Called by `make test` (after it installed the test requirements) and so by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing Debian's Chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium is missing at /usr/bin/chromium: install it (apt-get install chromium) and rerun." >&2
    exit 1
  fi
fi

echo "== lint"
"$BIN/ruff" check .
"$BIN/ruff" format --check .
"$BIN/lint-imports" --no-cache  # the architecture's contracts ([tool.importlinter] in pyproject.toml)
"$BIN/python" manage.py makemigrations --check --dry-run >/dev/null  # the core and every app of Inbox

echo "== unit and view tests (SQLite)"
"$BIN/pytest" tests --ignore=tests/e2e

PG_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
if "$BIN/python" scripts/reachable.py "$PG_URL"; then
  echo "== unit and view tests (PostgreSQL)"
  # --create-db: a test database kept from an earlier run may predate a migration edited since.
  DATABASE_URL="$PG_URL" "$BIN/pytest" tests --ignore=tests/e2e --create-db
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is not reachable at $PG_URL, and CI must run the suite on it." >&2
  exit 1
else
  echo "== SKIPPED the PostgreSQL run: nothing answers at $PG_URL (set TEST_DATABASE_URL)"
fi

echo "== browser tests (Chromium)"
DJANGO_ALLOW_ASYNC_UNSAFE=true "$BIN/pytest" tests/e2e
