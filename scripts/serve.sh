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
# No permessage-deflate on the sockets: each socket's compressor and decompressor cost about 50 KiB
# of memory (0.5 GB for 10,000 open tabs) and compressing every frame for its socket a third of
# a broadcast's CPU, to save about 2 KB per notification and socket (measured by the socket
# benchmark, bench/README.md section 5; docs/deployment.md says when to turn it back on).
"$BIN/uvicorn" config.asgi:application --host "$HOST" --port "$PORT" --no-access-log \
    --ws-per-message-deflate false
