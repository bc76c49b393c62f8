#!/usr/bin/env bash
# Starts and stops the real servers the integration tests need: mosquitto and PostgreSQL 15, on 127.0.0.1,
# inside a temporary directory. It stops only what it started.
#
#   scripts/test-deps.sh start DIR   start both, poll until ready, write DIR/env (source it)
#   scripts/test-deps.sh stop DIR    stop what `start DIR` started
#
# When MQTT_PORT or POSTGRES_PORT is set and a server already answers there, that server is used as is and
# left alone on stop. PostgreSQL refuses to run as root: as root it runs as the `postgres` user.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

pgbin=${PG_BIN:-/usr/lib/postgresql/15/bin}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$(( 20000 + RANDOM % 30000 ))
        listening "$port" || { echo "$port"; return; }
    done
    echo "no free port found" >&2; exit 1
}

# Polls `check` every 0.1 s for up to $2 seconds.
wait_for() {
    local check=$1 seconds=$2
    for _ in $(seq 1 $(( seconds * 10 ))); do
        if eval "$check"; then return 0; fi
        sleep 0.1
    done
    return 1
}

as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
    mkdir -p "$dir"
    chmod 755 "$dir"
    : > "$dir/started"

    local mqtt_port=${MQTT_PORT:-}
    if [ -n "$mqtt_port" ] && listening "$mqtt_port"; then
        echo "test-deps: using the mosquitto already on 127.0.0.1:$mqtt_port"
    else
        mqtt_port=${mqtt_port:-$(free_port)}
        mkdir -p "$dir/mosquitto"
        {
            grep -vE '^(listener|persistence|autosave_interval)' deploy/mosquitto/mosquitto.conf
            echo "listener $mqtt_port 127.0.0.1"
            echo "persistence false"
            [ "$(id -u)" = 0 ] && echo "user root"
        } > "$dir/mosquitto/mosquitto.conf"
        mosquitto -c "$dir/mosquitto/mosquitto.conf" > "$dir/mosquitto/log" 2>&1 &
        echo $! > "$dir/mosquitto/pid"
        echo mosquitto >> "$dir/started"
        wait_for "listening $mqtt_port || ! kill -0 \$(cat $dir/mosquitto/pid) 2>/dev/null" 10 && listening "$mqtt_port" || { cat "$dir/mosquitto/log" >&2; echo "mosquitto did not start" >&2; exit 1; }
        echo "test-deps: mosquitto on 127.0.0.1:$mqtt_port"
    fi

    local pg_port=${POSTGRES_PORT:-}
    if [ -n "$pg_port" ] && listening "$pg_port"; then
        echo "test-deps: using the PostgreSQL already on 127.0.0.1:$pg_port"
    else
        pg_port=${pg_port:-$(free_port)}
        mkdir -p "$dir/pg"
        [ "$(id -u)" = 0 ] && chown postgres "$dir/pg"
        as_postgres "$pgbin/initdb" -D "$dir/pg/data" -A trust -U postgres --no-sync > "$dir/pg/initdb.log" 2>&1 \
            || { cat "$dir/pg/initdb.log" >&2; exit 1; }
        as_postgres "$pgbin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/log" -w -t 30 \
            -o "-p $pg_port -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
            start > /dev/null || { cat "$dir/pg/log" >&2; echo "PostgreSQL did not start" >&2; exit 1; }
        echo postgres >> "$dir/started"
        wait_for "$pgbin/pg_isready -q -h 127.0.0.1 -p $pg_port" 30 || { cat "$dir/pg/log" >&2; exit 1; }
        as_postgres psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -c "CREATE DATABASE shopfloor_test" postgres
        echo "test-deps: PostgreSQL 15 on 127.0.0.1:$pg_port"
    fi

    cat > "$dir/env" <<ENV
export MQTT_HOST=127.0.0.1
export MQTT_PORT=$mqtt_port
export MQTT_URL=mqtt://127.0.0.1:$mqtt_port
export POSTGRES_HOST=127.0.0.1
export POSTGRES_PORT=$pg_port
export POSTGRES_USER=${POSTGRES_USER:-postgres}
export POSTGRES_DB=${POSTGRES_DB:-shopfloor_test}
ENV
}

stop() {
    [ -f "$dir/started" ] || exit 0
    if grep -qx mosquitto "$dir/started" && [ -f "$dir/mosquitto/pid" ]; then
        kill "$(cat "$dir/mosquitto/pid")" 2>/dev/null || true
    fi
    if grep -qx postgres "$dir/started"; then
        as_postgres "$pgbin/pg_ctl" -D "$dir/pg/data" -m fast -w stop > /dev/null 2>&1 || true
    fi
    rm -f "$dir/started"
    echo "test-deps: stopped"
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
