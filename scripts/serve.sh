#!/usr/bin/env bash
# Serve the site with uvicorn (ASGI: HTTP through a2wsgi, and the real-time WebSockets) and run
# the task worker (push delivery) beside it; Ctrl-C stops both. Called by `make run` after setup.
# The worker, inbox_worker, is django-tasks-db's db_worker that also queues again the deliveries
# of a worker that died.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"

"$BIN/python" manage.py inbox_worker --no-startup-delay &
WORKER=$!
trap 'kill "$WORKER" 2>/dev/null || true; wait "$WORKER" 2>/dev/null || true' EXIT INT TERM

echo "Serving Inbox at http://$HOST:$PORT/ (task worker pid $WORKER; Ctrl-C stops both)"
"$BIN/uvicorn" config.asgi:application --host "$HOST" --port "$PORT" --no-access-log
