#!/usr/bin/env bash
# Serve the site as in production, less the reverse proxy: gunicorn serves HTTP (WSGI: Django's
# sync views at full speed) on PORT, uvicorn serves the real-time WebSockets (ASGI) on
# SOCKET_PORT, and the task worker (push and email delivery, digests) runs beside them. Ctrl-C
# stops all three. Called by `make run` after setup.
# Pages connect their socket to SOCKET_PORT on the host they were loaded from (INBOX_SOCKET_PORT);
# in production a proxy joins both on one origin instead (docs/deployment.md). The worker,
# inbox_worker, is django-tasks-db's db_worker that also queues again the deliveries of a worker
# that died.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
SOCKET_PORT="${SOCKET_PORT:-$((PORT + 1))}"
export INBOX_SOCKET_PORT="$SOCKET_PORT"
# Emails link back to the site (INBOX_SITE_URL): to this HOST and PORT unless set. A wildcard
# address (0.0.0.0, ::) is not one a browser reaches: links then name this machine's loopback;
# a site served to others sets INBOX_SITE_URL to the address they use.
case "$HOST" in
    0.0.0.0) LINK_HOST=127.0.0.1 ;;
    ::) LINK_HOST="[::1]" ;;
    *:*) LINK_HOST="[$HOST]" ;;  # an IPv6 address
    *) LINK_HOST="$HOST" ;;
esac
export INBOX_SITE_URL="${INBOX_SITE_URL:-http://$LINK_HOST:$PORT}"
# The socket takes only pages of the site's origins (inbox/realtime/handshake.py): here the pages
# come from PORT, another origin than the socket's, so each host they may be loaded from (as
# ALLOWED_HOSTS lists them; "*" cannot be listed) is trusted on PORT. Kept apart from any
# CSRF_TRUSTED_ORIGINS given: those are added to, not replaced.
PAGE_ORIGINS=()
IFS=, read -ra PAGE_HOSTS <<< "${ALLOWED_HOSTS:-127.0.0.1,localhost,[::1]}"
for PAGE_HOST in "${PAGE_HOSTS[@]}"; do
    PAGE_HOST="${PAGE_HOST// /}"
    if [[ -z "$PAGE_HOST" || "$PAGE_HOST" == "*" ]]; then continue; fi
    if [[ "$PAGE_HOST" == .* ]]; then PAGE_HOST="*$PAGE_HOST"; fi  # .example.com: its subdomains
    PAGE_ORIGINS+=("http://$PAGE_HOST:$PORT")
done
CSRF_TRUSTED_ORIGINS="${CSRF_TRUSTED_ORIGINS:+$CSRF_TRUSTED_ORIGINS,}$(IFS=,; echo "${PAGE_ORIGINS[*]}")"
export CSRF_TRUSTED_ORIGINS

PIDS=()
stop() {
    trap - EXIT INT TERM
    kill "${PIDS[@]}" 2>/dev/null || true
    wait "${PIDS[@]}" 2>/dev/null || true
}
trap stop EXIT INT TERM

"$BIN/python" manage.py inbox_worker --no-startup-delay &
PIDS+=($!)
# No permessage-deflate on the sockets: each socket's compressor and decompressor cost about 50 KiB
# of memory (0.5 GB for 10,000 open tabs) and compressing every frame for its socket a third of
# a broadcast's CPU, to save about 2 KB per notification and socket (measured by the socket
# benchmark, bench/README.md section 5; docs/deployment.md says when to turn it back on).
# --ws-max-size: a page's frames are at most 4096 bytes (MAX_BYTES, inbox/realtime/messages.py);
# uvicorn reads a whole frame before the app sees it (16 MiB by default), and closes a socket that
# announces a larger one (1009) without reading it.
"$BIN/uvicorn" config.asgi:application --host "$HOST" --port "$SOCKET_PORT" --no-access-log \
    --log-level warning --ws-per-message-deflate false --ws-max-size 4096 &
PIDS+=($!)
# Two sync workers (WEB_CONCURRENCY changes it): the setup bench/run.sh measures.
BIND="$HOST"; if [[ "$HOST" == *:* ]]; then BIND="[$HOST]"; fi  # an IPv6 address
"$BIN/gunicorn" config.wsgi:application --bind "$BIND:$PORT" --workers "${WEB_CONCURRENCY:-2}" &
PIDS+=($!)

echo "Serving Inbox at http://$HOST:$PORT/ (sockets on port $SOCKET_PORT; Ctrl-C stops the site and its task worker)"
# Whichever stops first (a port already taken, a crash) stops the others too.
wait -n "${PIDS[@]}"
