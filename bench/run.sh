#!/usr/bin/env bash
# Inbox benchmark: setup + every measurement + one table (printed, and saved to
# bench/results/summary.txt). Usage, from anywhere: bash bench/run.sh   (or: make bench)
# Sections 1 to 4 take about 7 to 9 minutes on 2 cores, section 5 (sockets) about 7 more, section 6
# (email) a few. Traffic goes only to 127.0.0.1 (port 18766, or BENCH_PORT; the push service of
# section 4 and the SMTP servers of section 6 listen on free ports that the system picks).
#
# Needs the project's virtualenv .venv (make bench creates it: `make .venv/.requirements-test`).
# Installs wrk with apt when it is missing. The baseline, django-notifications-hq 1.8.3 from
# bench/baselines/notifications_hq (or ANCHOR_DIR), is copied to a temporary folder and run there (its
# folder is left untouched), in its own venv /tmp/anchorvenv (Python 3.11, made when missing).
# BENCH_SKIP_ANCHOR=1 leaves the baseline out (the table then has no speed-up targets).
# BENCH_ONLY=push runs only section 4, Web Push delivery (about 4 minutes; no seed, no wrk; its table goes
# to bench/results/push/summary.txt and the other results are left as they were).
# BENCH_ONLY=sockets runs only section 5, WebSockets beside badge polling (bench/sockets.py, about 7
# minutes; its own seed and SQLite file; its table goes to bench/results/sockets/summary.txt), then
# the burst: 10,000 events through the database transport (bench/sockets_burst.py, a few minutes;
# its table goes to bench/results/sockets/burst.txt). BENCH_ONLY=burst runs only the burst.
# BENCH_ONLY=http runs only the seed, the in-process figures and the HTTP load (sections 2 and 3, about
# 6 minutes); the push results are kept.
# BENCH_ONLY=http-pg runs the same sections 2 and 3 on PostgreSQL: the database named in
# BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench_http) is dropped, created,
# migrated and seeded the same way; its results and table go to bench/results/pg/ (BENCH_RESULTS).
# HTTP is served as `make run` serves it: gunicorn (config.wsgi:application, 2 sync workers, port
# BENCH_PORT + 1); the goals compare its badge and dashboard with its trivial view. In the same run,
# uvicorn (config.asgi:application, 2 workers, port BENCH_PORT) serves the trivial view, the badge and
# the dashboard as one ASGI server for HTTP and sockets would (HTTP through a2wsgi): the alternative.
# BENCH_ONLY=mail runs only section 6, email (10,000 immediate emails three ways against three SMTP
# servers, digests for 10,000 users x 20 unread; its own SQLite file and SMTP server processes; about
# 3 minutes; its table goes to bench/results/mail/summary.txt and the other results are left as they
# were). Its third server is Postfix's smtp-sink: installed with apt (postfix, whose own daemon is
# then stopped if it runs) when missing on Debian as root; elsewhere its row is skipped.
# Section 1 also measures preference routing inside notify() (1b, `python -m bench.fanout routing`).
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
RES="$BENCH/results"
PY="$ROOT/.venv/bin/python"
PORT="${BENCH_PORT:-18766}"
BASE="http://127.0.0.1:$PORT"
GUNICORN_PORT=$((PORT + 1))
GUNICORN_BASE="http://127.0.0.1:$GUNICORN_PORT"
WRK_SECONDS="${BENCH_WRK_SECONDS:-10}"   # per timed wrk run
WRK_REPS="${BENCH_WRK_REPS:-3}"       # timed runs per endpoint, in rounds (the median is reported)
WARMUP_SECONDS=2 # one discarded wrk run per endpoint
ANCHOR_DIR="${ANCHOR_DIR:-$BENCH/baselines/notifications_hq}"
ANCHOR_VENV=/tmp/anchorvenv

export DJANGO_SETTINGS_MODULE=bench.settings
export PYTHONDONTWRITEBYTECODE=1
export BENCH_START="$(date +%s)"
export BENCH_LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
# Connection: close, a new connection per request (as the anchor's gunicorn sync workers do): uvicorn's
# workers share one listening socket, and wrk's 16 keep-alive connections landed all on one worker
# in about half of the runs (about 45 instead of 107 req/s for the dashboard, one core idle).
WRK_FLAGS=(-t2 -c16 --timeout 10s -H "Connection: close")
export BENCH_WRK_FLAGS="wrk -t2 -c16 -d${WRK_SECONDS}s --latency --timeout 10s -H 'Connection: close', ${WARMUP_SECONDS} s warm-up discarded"
cd "$ROOT"

ONLY="${BENCH_ONLY:-}"
case "$ONLY" in "" | push | http | http-pg | sockets | burst | mail) ;; *) echo "BENCH_ONLY must be empty, push, http, http-pg, sockets, burst or mail, not '$ONLY'" >&2; exit 1 ;; esac
if [ "$ONLY" = http-pg ]; then  # sections 2 and 3 on PostgreSQL, in results/pg (bench/settings.py)
    export BENCH_DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bench_http}"
    export BENCH_RESULTS="$RES/pg"
    RES="$BENCH_RESULTS"
    ONLY=http
    PG=1
fi
BUSY_FILE="$RES/busy.txt"
SERVER_PID=""
GUNICORN_PID=""
ANCHOR_TMP=""
# Other work on this machine moves every figure. Before each phase, wait (at most QUIET_WAIT s)
# until the cores are at least 80% idle over 2 s, and record how busy they were.
QUIET_WAIT="${BENCH_QUIET_WAIT:-30}"
busy_percent() {  # CPU busy over 2 s, all cores, from /proc/stat
    local a b
    read -r -a a < <(head -1 /proc/stat); sleep 2; read -r -a b < <(head -1 /proc/stat)
    local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) total=0 i
    for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
    echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}
wait_quiet() {  # $1 = phase name
    local deadline=$(( $(date +%s) + QUIET_WAIT )) busy
    busy="$(busy_percent)"
    while [ "$busy" -gt 20 ] && [ "$(date +%s)" -lt "$deadline" ]; do busy="$(busy_percent)"; done
    echo "$1 $busy" >> "$BUSY_FILE"
    if [ "$busy" -gt 20 ]; then echo "  note: the machine is $busy% busy with other work before $1" >&2; fi
}
cleanup() {
    for pid in "$SERVER_PID" "$GUNICORN_PID"; do
        if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    done
    if [ -n "$ANCHOR_TMP" ]; then rm -rf "$ANCHOR_TMP"; fi
}
trap cleanup EXIT
sockets_section() {  # section 5: its own SQLite file, servers and load client (see bench/sockets.py)
    rm -rf "$RES/sockets" && mkdir -p "$RES/sockets"
    wait_quiet sockets
    echo "== sockets: 1,000 and 10,000 WebSockets beside as many tabs polling the badge; notify() -> frame"
    # 10,000 sockets: the client holds 10,000 descriptors, the server's workers as many between them.
    ( ulimit -n "$(ulimit -Hn)" && "$PY" -m bench.sockets ) | tee "$RES/sockets/summary.txt"
    burst_section
}
burst_section() {  # 10,000 events at once through the database transport (see bench/sockets_burst.py)
    mkdir -p "$RES/sockets"
    wait_quiet burst
    echo "== burst: 10,000 real-time events through the database transport to 100 sockets, 3 runs"
    "$PY" -m bench.sockets_burst | tee "$RES/sockets/burst.txt"
}
push_section() {  # section 4: its own SQLite file and push service process (see bench/push.py)
    wait_quiet push
    echo "== push: 1,000 pushes to a local push service: django-webpush, send_pushes, deliver_push"
    "$PY" -m bench.push
}
smtp_sink() {  # section 6's third server: Postfix's smtp-sink, installed when that is safe
    if command -v smtp-sink >/dev/null || [ -x /usr/sbin/smtp-sink ]; then return 0; fi
    if [ ! -f /etc/debian_version ] || [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        echo "  smtp-sink is missing and this is not Debian as root: its row is skipped (apt-get install postfix)"
        return 0
    fi
    echo "  installing Postfix for its smtp-sink (apt-get install --no-install-recommends postfix)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postfix; } >/dev/null; then
        echo "  installing Postfix failed: the smtp-sink row is skipped"
        return 0
    fi
    # Only its test server is wanted: the mail system itself must not be left listening on port 25
    # (nor start again at boot).
    if [ -d /run/systemd/system ]; then systemctl disable --now postfix >/dev/null 2>&1 || true; fi
    if postfix status >/dev/null 2>&1; then postfix stop >/dev/null 2>&1 || true; fi
    if ss -ltnH 'sport = :25' 2>/dev/null | grep -q .; then
        echo "  note: something still listens on port 25 (ss -ltnp 'sport = :25')" >&2
    fi
}
mail_section() {  # section 6: its own SQLite file and SMTP server processes (see bench/mail.py)
    wait_quiet mail
    echo "== mail: 10,000 emails (send_mail per user, send_batch, deliver_email) to aiosmtpd, plain and"
    echo "   STARTTLS + AUTH, and to Postfix's smtp-sink; digests 10,000 x 20"
    smtp_sink
    "$PY" -m bench.mail
}

# ---------------------------------------------------------------- setup
echo "== setup"
if [ ! -x "$PY" ]; then
    echo "No virtualenv at $ROOT/.venv: run 'make bench' (or 'make .venv/.requirements-test') first." >&2
    exit 1
fi
if [ "$ONLY" = sockets ]; then  # section 5 alone; the other results stay as they are
    BUSY_FILE="$RES/sockets/busy.txt"
    sockets_section
    exit 0
fi
if [ "$ONLY" = burst ]; then  # the burst alone; the other results stay as they are
    BUSY_FILE="$RES/sockets/busy.txt"
    burst_section
    exit 0
fi
if [ "$ONLY" = push ]; then  # section 4 alone; the other results stay as they are
    rm -rf "$RES/push" && mkdir -p "$RES/push"
    BUSY_FILE="$RES/push/busy.txt"
    push_section
    echo
    BENCH_ONLY=push "$PY" -m bench.report | tee "$RES/push/summary.txt"
    exit 0
fi
if [ "$ONLY" = mail ]; then  # section 6 alone; it writes its own table (results/mail/summary.txt)
    rm -rf "$RES/mail" && mkdir -p "$RES/mail"
    BUSY_FILE="$RES/mail/busy.txt"
    mail_section
    exit 0
fi
if ! command -v wrk >/dev/null; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null; fi
if [ "$ONLY" = http ]; then  # keep sections 4 to 6's results
    find "$RES" -mindepth 1 -maxdepth 1 ! -name push ! -name sockets ! -name mail ! -name pg -exec rm -rf {} + 2>/dev/null || true
    mkdir -p "$RES/wrk"
else
    rm -rf "$RES" && mkdir -p "$RES/wrk"
fi
if [ -n "${PG:-}" ]; then  # a fresh database: the seed counts on ids from 1
    "$PY" - <<'PYTHON'
import os
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

url = urlsplit(os.environ["BENCH_DATABASE_URL"].replace("postgres://", "postgresql://", 1))
name = url.path.lstrip("/")
with psycopg.connect(urlunsplit(url._replace(path="/postgres")), autocommit=True) as connection:
    connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
print(f"  PostgreSQL database {name} created afresh")
PYTHON
fi
"$PY" manage.py migrate --noinput -v0
echo "== seed (users, 110,100 notifications, logins)"
"$PY" -m bench.seed

# ---------------------------------------------------------------- in-process
wait_quiet in-process
echo "== SQL per request and in-process ms (django.test.Client); paging: keyset vs OFFSET"
"$PY" -m bench.inproc

if [ "$ONLY" != http ]; then
wait_quiet fan-out
echo "== fan-out: inbox.api.notify() for 1,000 / 10,000 / 100,000 recipients"
"$PY" -m bench.fanout

# ---------------------------------------------------------------- the anchor, same run
if [ -z "${BENCH_SKIP_ANCHOR:-}" ]; then
    wait_quiet anchor
    echo "== anchor: django-notifications-hq notify.send fan-out (in a copy of $ANCHOR_DIR; about 75 s)"
    [ -f "$ANCHOR_DIR/manage.py" ] || { echo "no anchor at $ANCHOR_DIR (set ANCHOR_DIR or BENCH_SKIP_ANCHOR=1)" >&2; exit 1; }
    ANCHOR_TMP="$(mktemp -d /tmp/inbox-bench-anchor.XXXXXX)"
    cp -R "$ANCHOR_DIR/." "$ANCHOR_TMP/" && chmod -R u+w "$ANCHOR_TMP" && rm -rf "$ANCHOR_TMP/results"
    if [ ! -x "$ANCHOR_VENV/bin/python" ]; then
        ANCHOR_PYTHON="$(command -v python3.11 || command -v python3)"
        "$ANCHOR_PYTHON" -m venv "$ANCHOR_VENV"
    fi
    "$ANCHOR_VENV/bin/pip" install -q --disable-pip-version-check -r "$ANCHOR_TMP/requirements.txt" 2>&1 \
        | grep -v '^WARNING: Location' || true
    (
        cd "$ANCHOR_TMP"
        export ANCHOR_DB="$ANCHOR_TMP/anchor_bench.sqlite3" DJANGO_SETTINGS_MODULE=anchorproj.settings
        APY=("$ANCHOR_VENV/bin/python" -W ignore::DeprecationWarning)
        "${APY[@]}" manage.py migrate -v0
        "${APY[@]}" manage.py bench seed >/dev/null
        "${APY[@]}" manage.py bench fanout
        "${APY[@]}" -c 'import django, notifications, platform; print(f"django-notifications-hq {notifications.__version__}, Django {django.get_version()}, Python {platform.python_version()}")'
    ) > "$RES/anchor.log" 2>&1 || { echo "anchor failed, see $RES/anchor.log" >&2; tail -20 "$RES/anchor.log" >&2; exit 1; }
    grep '^  fanout autocommit' "$RES/anchor.log" || true
    tail -1 "$RES/anchor.log" > "$RES/anchor_versions.txt"
    cp "$ANCHOR_TMP/results/fanout.json" "$RES/anchor_fanout.json"
    rm -rf "$ANCHOR_TMP"; ANCHOR_TMP=""
fi
fi  # not BENCH_ONLY=http

# ---------------------------------------------------------------- HTTP load
wait_quiet HTTP
echo "== HTTP: gunicorn config.wsgi -w 2 (as make run) and uvicorn config.asgi --workers 2, $BENCH_WRK_FLAGS, x$WRK_REPS per endpoint"
for base in "$BASE" "$GUNICORN_BASE"; do
    if curl -s -o /dev/null --max-time 2 "$base/"; then echo "$base is already in use (set BENCH_PORT)" >&2; exit 1; fi
done
wait_answer() {  # $1 = base URL
    for _ in $(seq 150); do curl -s -o /dev/null --max-time 2 "$1/bench/trivial/" && return 0; sleep 0.2; done
    echo "the server did not answer at $1" >&2; exit 1
}
start_server() {  # both servers, the same settings, database and views
    "$ROOT/.venv/bin/uvicorn" config.asgi:application --host 127.0.0.1 --port "$PORT" --workers 2 \
        --no-access-log --log-level warning --ws-max-size 4096 2>> "$RES/server.log" &
    SERVER_PID=$!
    "$ROOT/.venv/bin/gunicorn" config.wsgi:application --workers 2 --bind "127.0.0.1:$GUNICORN_PORT" \
        --log-level warning 2>> "$RES/gunicorn.log" &
    GUNICORN_PID=$!
    wait_answer "$BASE"; wait_answer "$GUNICORN_BASE"
}
server_cpu_ticks() {  # $1 = a server's pid: user + system CPU of it and its workers, in clock ticks
    local total=0 pid
    for pid in "$1" $(pgrep -P "$1" || true); do
        [ -r "/proc/$pid/stat" ] && total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
    done
    echo "$total"
}
stat_ticks() {  # "busy total" CPU ticks of the whole machine, from /proc/stat
    local a; read -r -a a < <(head -1 /proc/stat)
    echo "$(( a[1] + a[2] + a[3] + a[6] + a[7] + a[8] )) $(( a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7] + a[8] ))"
}
own_children_ticks() { awk '{print $16 + $17}' /proc/$$/stat; }  # CPU of this shell's finished children (wrk)
stop_server() {
    kill "$SERVER_PID" "$GUNICORN_PID" 2>/dev/null || true
    wait "$SERVER_PID" "$GUNICORN_PID" 2>/dev/null || true
    SERVER_PID=""; GUNICORN_PID=""
}
# A run is redone (at most MAX_REDOS times in all) when the server died during it (wrk then sees
# connect/read/write errors): on a shared machine another process may stop servers. The table
# says how often. Slow answers are not errors: wrk waits up to 10 s for each (--timeout).
MAX_REDOS=3
REDOS=0
run_clean() {  # $1 = wrk output file, $2 = the server's pid
    kill -0 "$2" 2>/dev/null && ! grep -qE 'Socket errors: connect [1-9]|read [1-9]|write [1-9]' "$1"
}
start_server
# Every endpoint on gunicorn (as make run serves it); the trivial view, the badge and the small
# dashboard also on uvicorn ("<name>_asgi": one ASGI server for everything, the alternative).
NAMES=(); COOKIES=(); PATHS=(); SERVERS=()
while IFS=$'\t' read -r -u 3 NAME COOKIE URLPATH EXPECT; do
    NAMES+=("$NAME"); COOKIES+=("$COOKIE"); PATHS+=("$URLPATH"); SERVERS+=(gunicorn)
    case "$NAME" in trivial | badge | small_all)
        NAMES+=("${NAME}_asgi"); COOKIES+=("$COOKIE"); PATHS+=("$URLPATH"); SERVERS+=(uvicorn) ;;
    esac
done 3< "$RES/endpoints.tsv"
# Every cookie must give the logged-in, populated page on its server, or the numbers mean nothing.
while IFS=$'\t' read -r -u 3 NAME COOKIE URLPATH EXPECT; do
    for CHECK_BASE in "$GUNICORN_BASE" "$BASE"; do
        BODY="$(curl -s --max-time 10 -w '\n%{http_code}' -H "Cookie: $COOKIE" "$CHECK_BASE$URLPATH")"
        if [ "${BODY##*$'\n'}" != 200 ] || [[ "$BODY" != *"$EXPECT"* ]]; then
            echo "login check failed for $NAME ($CHECK_BASE$URLPATH): HTTP ${BODY##*$'\n'}, '$EXPECT' not in the response" >&2
            exit 1
        fi
    done
done 3< "$RES/endpoints.tsv"
echo "  login check passed for every endpoint on both servers"
base_of() { if [ "${SERVERS[$1]}" = gunicorn ]; then echo "$GUNICORN_BASE"; else echo "$BASE"; fi; }
pid_of() { if [ "${SERVERS[$1]}" = gunicorn ]; then echo "$GUNICORN_PID"; else echo "$SERVER_PID"; fi; }
for I in "${!NAMES[@]}"; do  # warm every endpoint once (thrown away)
    timeout $((WARMUP_SECONDS + 15)) wrk "${WRK_FLAGS[@]}" -d"${WARMUP_SECONDS}s" \
        -H "Cookie: ${COOKIES[$I]}" "$(base_of "$I")${PATHS[$I]}" > /dev/null || true
done
# Rounds: every endpoint once per round, so a drift in the machine's load hits all of them alike
# (the badge/trivial ratio compares runs a few seconds apart, not minutes).
for REP in $(seq "$WRK_REPS"); do
    I=0
    while [ "$I" -lt "${#NAMES[@]}" ]; do
        NAME="${NAMES[$I]}"; OUT="$RES/wrk/${NAME}_$REP.txt"
        CPU_BEFORE="$(server_cpu_ticks "$(pid_of "$I")")"; WRK_BEFORE="$(own_children_ticks)"; read -r BUSY0 TOTAL0 < <(stat_ticks)
        timeout $((WRK_SECONDS + 15)) wrk "${WRK_FLAGS[@]}" -d"${WRK_SECONDS}s" --latency \
            -H "Cookie: ${COOKIES[$I]}" "$(base_of "$I")${PATHS[$I]}" > "$OUT" || true
        read -r BUSY1 TOTAL1 < <(stat_ticks)
        SERVER_TICKS=$(($(server_cpu_ticks "$(pid_of "$I")") - CPU_BEFORE)); WRK_TICKS=$(($(own_children_ticks) - WRK_BEFORE))
        OTHER=$(( BUSY1 - BUSY0 - SERVER_TICKS - WRK_TICKS ))
        # The server's CPU time per request moves much less than req/s when other work shares the
        # cores; "other CPU" is what processes other than the server and wrk took meanwhile.
        echo "server CPU ticks: $SERVER_TICKS at $(getconf CLK_TCK)/s" >> "$OUT"
        echo "other CPU: $(( OTHER > 0 ? 100 * OTHER / (TOTAL1 - TOTAL0) : 0 ))% of the machine" >> "$OUT"
        echo "  round $REP $NAME: $(grep 'Requests/sec' "$OUT" || echo 'no result')"
        if ! run_clean "$OUT" "$(pid_of "$I")" && [ "$REDOS" -lt "$MAX_REDOS" ]; then
            REDOS=$((REDOS + 1))
            echo "  round $REP $NAME: the server died during the run; redo $REDOS of at most $MAX_REDOS" >&2
            mv "$OUT" "$RES/wrk/redo${REDOS}_${NAME}_$REP.log"
            if ! kill -0 "$SERVER_PID" 2>/dev/null || ! kill -0 "$GUNICORN_PID" 2>/dev/null; then
                stop_server; start_server
            fi
            continue
        fi
        grep -q 'Requests/sec' "$OUT" || { echo "wrk gave no result for $NAME" >&2; exit 1; }
        I=$((I + 1))
    done
done
stop_server
echo "$REDOS" > "$RES/redos.txt"

# ---------------------------------------------------------------- Web Push delivery
if [ "$ONLY" != http ]; then push_section; fi

# ---------------------------------------------------------------- WebSockets
if [ "$ONLY" != http ]; then sockets_section; fi

# ---------------------------------------------------------------- email (its table: results/mail/summary.txt)
if [ "$ONLY" != http ]; then rm -rf "$RES/mail" && mkdir -p "$RES/mail" && mail_section; fi

# ---------------------------------------------------------------- report
echo
BENCH_ONLY="$ONLY" "$PY" -m bench.report | tee "$RES/summary.txt"
