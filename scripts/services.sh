#!/usr/bin/env bash
# Start/stop the real services that headwater's tests talk to, on 127.0.0.1 only:
#   PostgreSQL 15 (wal_level=logical, wal2json), Redis, NATS with JetStream.
#
#   scripts/services.sh start    # idempotent: leaves running services alone
#   scripts/services.sh stop     # stops whatever this script started
#   scripts/services.sh status   # exit 0 only when all three are up
#   scripts/services.sh env      # prints `export` lines; use: eval "$(scripts/services.sh env)"
#   scripts/services.sh reset    # stop and delete all state (data dirs, logs)
#
# Needs the Debian packages postgresql (15), postgresql-15-wal2json, redis-server and
# nats-server (.ci/run installs them). Everything lives in one state dir, nothing is
# registered with systemd or the Debian cluster tools.
#
# Settings (environment variables, all optional):
#   HEADWATER_SERVICES_DIR  state dir            (default /tmp/headwater-services)
#   HEADWATER_PG_PORT       PostgreSQL port      (default 54329)
#   HEADWATER_REDIS_PORT    Redis port           (default 63799)
#   HEADWATER_NATS_PORT     NATS client port     (default 42229)
#   HEADWATER_PG_BINDIR     PostgreSQL binaries  (default /usr/lib/postgresql/15/bin)
set -euo pipefail

DIR="${HEADWATER_SERVICES_DIR:-/tmp/headwater-services}"
PG_PORT="${HEADWATER_PG_PORT:-54329}"
REDIS_PORT="${HEADWATER_REDIS_PORT:-63799}"
NATS_PORT="${HEADWATER_NATS_PORT:-42229}"
PG_BINDIR="${HEADWATER_PG_BINDIR:-/usr/lib/postgresql/15/bin}"
HOST=127.0.0.1

PGDATA="$DIR/pg/data"
PGRUN="$DIR/pg/run"
PGLOG="$DIR/pg/postgresql.log"
REDIS_DIR="$DIR/redis"
NATS_DIR="$DIR/nats"

log() { echo "[services] $*" >&2; }
die() { echo "[services] ERROR: $*" >&2; exit 1; }

find_bin() { # name -> path (PATH first, then the sbin dirs a non-root PATH may lack)
    local p
    p="$(command -v "$1" 2>/dev/null || true)"
    if [[ -z "$p" ]]; then
        for d in /usr/sbin /sbin /usr/local/sbin /usr/bin; do
            [[ -x "$d/$1" ]] && { p="$d/$1"; break; }
        done
    fi
    [[ -n "$p" ]] || die "$1 not found (install the Debian package that provides it; .ci/run does)"
    echo "$p"
}

port_open() { # host port -> 0 when something accepts TCP connections there
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

proc_alive() { # pid -> 0 when the process exists and is not a zombie
    local stat
    kill -0 "$1" 2>/dev/null || return 1
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"          # drop "pid (comm) "; the state letter comes first
    [[ "${stat:0:1}" != Z ]]
}

pid_alive() { # pidfile -> 0 when the process named in it is alive
    [[ -s "$1" ]] && proc_alive "$(head -n1 "$1")"
}

wait_gone() { # pid seconds -> 0 when the process is gone within the time
    local deadline=$((SECONDS + $2))
    while proc_alive "$1"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.2
    done
}

wait_for() { # description seconds command... -> 0 when command succeeds within the time
    local what="$1" secs="$2"; shift 2
    local deadline=$((SECONDS + secs))
    until "$@"; do
        if ((SECONDS >= deadline)); then
            log "$what: not ready after ${secs}s"
            return 1
        fi
        sleep 0.2
    done
}

# ---------------------------------------------------------------- PostgreSQL

# Run a PostgreSQL tool as the cluster owner: `postgres` when we are root (initdb and
# postgres refuse to run as root), else the calling user.
as_pg() {
    if [[ "$(id -u)" == 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_psql() { # user db sql...
    local user="$1" db="$2"; shift 2
    "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PG_PORT" -U "$user" -d "$db" "$@"
}

pg_running() {
    [[ -f "$PGDATA/PG_VERSION" ]] && as_pg "$PG_BINDIR/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1
}

pg_ready() {
    "$PG_BINDIR/pg_isready" -q -h "$HOST" -p "$PG_PORT" -d postgres -U postgres
}

pg_init() {
    [[ -x "$PG_BINDIR/initdb" ]] || die "$PG_BINDIR/initdb not found (apt-get install postgresql-15)"
    [[ -f /usr/lib/postgresql/15/lib/wal2json.so || "$PG_BINDIR" != /usr/lib/postgresql/15/bin ]] \
        || die "wal2json not installed (apt-get install postgresql-15-wal2json)"
    log "postgres: initdb in $PGDATA"
    rm -rf "$DIR/pg"
    mkdir -p "$PGDATA" "$PGRUN"
    chmod 700 "$PGDATA"
    if [[ "$(id -u)" == 0 ]]; then
        id postgres >/dev/null 2>&1 || die "user 'postgres' missing (apt-get install postgresql)"
        chown -R postgres:postgres "$DIR/pg"
        runuser -u postgres -- test -w "$PGDATA" \
            || die "user postgres cannot write $PGDATA: put HEADWATER_SERVICES_DIR somewhere it can reach (e.g. /tmp)"
    fi
    as_pg "$PG_BINDIR/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --locale=C \
        >"$DIR/pg/initdb.log" 2>&1 || { cat "$DIR/pg/initdb.log" >&2; die "initdb failed"; }
    cat >>"$PGDATA/postgresql.conf" <<EOF

# --- headwater test cluster (scripts/services.sh) ---
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$PGRUN'
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
max_connections = 200
# A throwaway test cluster: trade crash safety for speed. (synchronous_commit stays on:
# logical decoding only sees flushed WAL, and CDC tests expect committed rows at once.)
fsync = off
full_page_writes = off
EOF
    cat >"$PGDATA/pg_hba.conf" <<EOF
# headwater test cluster: trust, loopback only
local   all          all                 trust
local   replication  all                 trust
host    all          all   127.0.0.1/32  trust
host    replication  all   127.0.0.1/32  trust
EOF
}

pg_start() {
    if pg_running; then
        log "postgres: already running on $HOST:$PG_PORT ($PGDATA)"
    else
        if port_open "$HOST" "$PG_PORT"; then
            die "port $PG_PORT is taken by another process; set HEADWATER_PG_PORT"
        fi
        [[ -f "$PGDATA/PG_VERSION" ]] || pg_init
        log "postgres: starting on $HOST:$PG_PORT"
        if ! as_pg "$PG_BINDIR/pg_ctl" -D "$PGDATA" -l "$PGLOG" -w -t 60 start >/dev/null; then
            tail -n 30 "$PGLOG" >&2 || true
            die "postgres did not start (log: $PGLOG)"
        fi
    fi
    wait_for postgres 60 pg_ready || { tail -n 30 "$PGLOG" >&2 || true; die "postgres not ready"; }

    # role + database (idempotent)
    pg_psql postgres postgres <<'SQL'
SELECT 'CREATE ROLE headwater LOGIN SUPERUSER REPLICATION'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'headwater') \gexec
SELECT 'CREATE DATABASE headwater OWNER headwater'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'headwater') \gexec
SQL
    # wal_level=logical and wal2json really work
    local wal
    wal="$(pg_psql headwater headwater -tA -c 'SHOW wal_level')"
    [[ "$wal" == logical ]] || die "postgres wal_level is '$wal', expected 'logical'"
    pg_psql headwater headwater <<'SQL' >/dev/null \
        || die "wal2json probe failed (is postgresql-15-wal2json installed?)"
SELECT pg_drop_replication_slot('ci_probe') FROM pg_replication_slots WHERE slot_name = 'ci_probe';
SELECT * FROM pg_create_logical_replication_slot('ci_probe', 'wal2json');
SELECT pg_drop_replication_slot('ci_probe');
SQL
    log "postgres: ready ($("$PG_BINDIR/postgres" --version), wal_level=logical, wal2json ok)"
}

pg_stop() {
    if pg_running; then
        log "postgres: stopping"
        as_pg "$PG_BINDIR/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >/dev/null \
            || log "postgres: pg_ctl stop failed (log: $PGLOG)"
    else
        log "postgres: not running"
    fi
}

# --------------------------------------------------------------------- Redis

redis_running() { pid_alive "$REDIS_DIR/redis.pid"; }

redis_ping() {
    local reply
    reply="$("$REDIS_CLI" -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null || true)"
    [[ "$reply" == PONG ]]
}

redis_start() {
    if redis_running; then
        log "redis: already running on $HOST:$REDIS_PORT"
    else
        if port_open "$HOST" "$REDIS_PORT"; then
            die "port $REDIS_PORT is taken by another process; set HEADWATER_REDIS_PORT"
        fi
        local bin
        bin="$(find_bin redis-server)"
        mkdir -p "$REDIS_DIR"
        rm -f "$REDIS_DIR/redis.pid"
        log "redis: starting on $HOST:$REDIS_PORT"
        "$bin" --port "$REDIS_PORT" --bind "$HOST" --daemonize yes --save '' --appendonly no \
            --dir "$REDIS_DIR" --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
            </dev/null >/dev/null 2>&1 || die "redis-server failed to start (log: $REDIS_DIR/redis.log)"
    fi
    wait_for redis 30 redis_ping || { tail -n 20 "$REDIS_DIR/redis.log" >&2 || true; die "redis not ready"; }
    log "redis: ready (PONG)"
}

redis_stop() {
    if redis_running; then
        local pid
        pid="$(head -n1 "$REDIS_DIR/redis.pid")"
        log "redis: stopping"
        "$REDIS_CLI" -h "$HOST" -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 \
            || kill "$pid" 2>/dev/null || true
        wait_gone "$pid" 20 || { log "redis: still alive, SIGKILL"; kill -9 "$pid" 2>/dev/null || true; }
        rm -f "$REDIS_DIR/redis.pid"
    else
        log "redis: not running"
    fi
}

# ---------------------------------------------------------------------- NATS

nats_running() { pid_alive "$NATS_DIR/nats.pid"; }

nats_info_ok() ( # the server greets with an INFO line that says JetStream is on
    exec 3<>"/dev/tcp/$HOST/$NATS_PORT" || exit 1
    IFS= read -r -t 2 line <&3 || exit 1
    [[ "$line" == INFO* && "$line" == *'"jetstream":true'* ]]
) 2>/dev/null

nats_start() {
    if nats_running; then
        log "nats: already running on $HOST:$NATS_PORT"
    else
        if port_open "$HOST" "$NATS_PORT"; then
            die "port $NATS_PORT is taken by another process; set HEADWATER_NATS_PORT"
        fi
        local bin
        bin="$(find_bin nats-server)"
        mkdir -p "$NATS_DIR/jetstream"
        rm -f "$NATS_DIR/nats.pid"
        log "nats: starting on $HOST:$NATS_PORT (JetStream store $NATS_DIR/jetstream)"
        # setsid + all fds redirected: the server must not hold the caller's pipes open.
        setsid "$bin" -a "$HOST" -p "$NATS_PORT" -js -sd "$NATS_DIR/jetstream" \
            -P "$NATS_DIR/nats.pid" -l "$NATS_DIR/nats.log" </dev/null >/dev/null 2>&1 &
    fi
    wait_for nats 30 nats_info_ok \
        || { tail -n 20 "$NATS_DIR/nats.log" >&2 || true; die "nats not ready (or JetStream off)"; }
    log "nats: ready (JetStream on)"
}

nats_stop() {
    if nats_running; then
        local pid
        pid="$(head -n1 "$NATS_DIR/nats.pid")"
        log "nats: stopping"
        kill "$pid" 2>/dev/null || true
        wait_gone "$pid" 20 || { log "nats: still alive, SIGKILL"; kill -9 "$pid" 2>/dev/null || true; }
        rm -f "$NATS_DIR/nats.pid"
    else
        log "nats: not running"
    fi
}

# ---------------------------------------------------------------------- main

print_env() {
    echo "export HEADWATER_TEST_PG_URL=postgresql://headwater@$HOST:$PG_PORT/headwater"
    echo "export HEADWATER_TEST_REDIS_URL=redis://$HOST:$REDIS_PORT/0"
    echo "export HEADWATER_TEST_NATS_URL=nats://$HOST:$NATS_PORT"
    if [[ -x /usr/bin/chromium ]]; then
        echo "export HEADWATER_TEST_CHROMIUM=/usr/bin/chromium"
    fi
    if [[ -x /usr/bin/chromedriver ]]; then
        echo "export HEADWATER_TEST_CHROMEDRIVER=/usr/bin/chromedriver"
    fi
}

status() {
    local ok=0
    if pg_running && pg_ready; then log "postgres: up on $HOST:$PG_PORT"; else log "postgres: down"; ok=1; fi
    if redis_running && redis_ping; then log "redis: up on $HOST:$REDIS_PORT"; else log "redis: down"; ok=1; fi
    if nats_running && port_open "$HOST" "$NATS_PORT"; then log "nats: up on $HOST:$NATS_PORT"; else log "nats: down"; ok=1; fi
    return $ok
}

REDIS_CLI="$(find_bin redis-cli 2>/dev/null || echo redis-cli)"

cmd="${1:-}"
case "$cmd" in
    start)
        mkdir -p "$DIR"
        chmod 755 "$DIR"
        pg_start
        redis_start
        nats_start
        log "all services up; state in $DIR"
        ;;
    stop)
        nats_stop
        redis_stop
        pg_stop
        ;;
    status)
        status
        ;;
    env)
        print_env
        ;;
    reset)
        nats_stop
        redis_stop
        pg_stop
        rm -rf "$DIR"
        log "removed $DIR"
        ;;
    *)
        echo "usage: $0 start|stop|status|env|reset" >&2
        exit 2
        ;;
esac
