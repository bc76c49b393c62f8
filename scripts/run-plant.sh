#!/usr/bin/env bash
# `make run`: a whole test plant on this machine. Writes a secured broker configuration
# (scripts/broker-config.sh: one account per service, an ACL, a read-only `viewer`), starts mosquitto and the
# five services, waits until every /health answers, prints where to look, and stops everything it started on
# Ctrl-C, SIGTERM, or when any of them dies. Nothing is left running.
#
#   scripts/run-plant.sh            build (CONFIG, default release) and run
#   scripts/run-plant.sh BIN_DIR    run executables already built in BIN_DIR (CI: the debug build)
#
# Environment:
#   SHOPFLOOR_DATA  folder of everything the plant writes (default .run): broker/ (configuration, passwords,
#                   persistence), stream.db + stream.journal, api.db, rag.db, gateway-spool.sqlite, logs/,
#                   pids (one "name pid" line per process while running)
#   MQTT_PORT 1883, API_PORT 8080, GATEWAY_PORT 9101, STREAM_PORT 9102, SIMULATE_PORT 9103, RAG_PORT 9104
#   MQTTS_PORT      also open a TLS listener (certificates from `make certs` in TLS_DIR, default deploy/certs)
#   HEALTH_TIMEOUT  seconds to wait for every /health (default 300: the first start of rag-index embeds all of
#                   docs/, 1–3 minutes on 2 cores; later starts re-index only changed files)
#   RAG_DOCS        the folder rag-index indexes (default docs/); RAG_MODEL_DIR its model (.models/…)
#   CONFIG          release (default) or debug, when building
# simulate serves the default plant's Modbus devices on 127.0.0.1:5020…5029 (deploy/gateway/default.yaml).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

if [ $# -ge 1 ]; then
    bin=$(cd "$1" && pwd)
else
    config=${CONFIG:-release}
    echo "building ($config)…"
    # Only the five products: a plain `swift build` would also build the benchmarks and tools.
    for product in simulate gateway stream api rag-index; do swift build -c "$config" --product "$product"; done
    bin=$(swift build -c "$config" --show-bin-path)
fi

data=${SHOPFLOOR_DATA:-.run}
mkdir -p "$data/logs"
data=$(cd "$data" && pwd)
logs=$data/logs
mqtt_port=${MQTT_PORT:-1883}
api_port=${API_PORT:-8080}
gateway_port=${GATEWAY_PORT:-9101}
stream_port=${STREAM_PORT:-9102}
simulate_port=${SIMULATE_PORT:-9103}
rag_port=${RAG_PORT:-9104}
health_timeout=${HEALTH_TIMEOUT:-300}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for executable in mosquitto curl; do
    command -v "$executable" > /dev/null || { echo "run-plant: $executable is missing; run make setup" >&2; exit 1; }
done
for service in simulate gateway stream api rag-index; do
    [ -x "$bin/$service" ] || { echo "run-plant: no $bin/$service; build first (swift build)" >&2; exit 1; }
done
busy=()
for port in "$mqtt_port" "$api_port" "$gateway_port" "$stream_port" "$simulate_port" "$rag_port" $(seq 5020 5029); do
    listening "$port" && busy+=("$port")
done
if [ ${#busy[@]} -gt 0 ]; then
    echo "run-plant: something already listens on 127.0.0.1 port(s) ${busy[*]}; stop it or choose other ports" >&2
    echo "  (MQTT_PORT, API_PORT, GATEWAY_PORT, STREAM_PORT, SIMULATE_PORT, RAG_PORT; 5020-5029 are the plant's Modbus)" >&2
    exit 1
fi

names=()
pids=()
: > "$data/pids"
stopping=0
stop_all() { # exit status
    local status=$1
    trap - INT TERM EXIT
    stopping=1
    echo
    echo "stopping the plant…"
    # Services first, in reverse start order, so each says goodbye on MQTT (NDEATH, STATE offline), the
    # broker last. A service that has not exited 15 s after SIGTERM is killed.
    for (( i=${#pids[@]}-1; i>=0; i-- )); do
        local pid=${pids[$i]}
        kill -TERM "$pid" 2>/dev/null || continue
        for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            echo "  ${names[$i]} did not stop within 15 s: killed (log: $logs/${names[$i]}.log)"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    rm -f "$data/pids"
    echo "stopped"
    exit "$status"
}
trap 'stop_all 130' INT
trap 'stop_all 143' TERM
trap 'stop_all $?' EXIT

# start NAME [ENV=VALUE…] -- COMMAND…: in the data folder (so relative paths such as the gateway's spool land
# there), output in logs/NAME.log. Credentials travel in the environment (MQTT_URL), never in argv: `ps` shows
# argv to every user of the machine. Each runs in its own session (setsid): Ctrl-C in the terminal reaches only
# this script, which stops the services first and the broker last, so every goodbye (NDEATH, STATE offline,
# status offline) still reaches the broker.
start() {
    local name=$1
    shift
    local env=()
    while [ "$1" != "--" ]; do env+=("$1"); shift; done
    shift
    # A background subshell is no process group leader, so setsid execs in place and $! stays the service.
    (cd "$data" && exec setsid env "${env[@]}" "$@") > "$logs/$name.log" 2>&1 &
    names+=("$name")
    pids+=($!)
    echo "$name $!" >> "$data/pids"
}

# Fails (with the log's tail) if the last started process is gone.
alive() { # index
    kill -0 "${pids[$1]}" 2>/dev/null && return 0
    echo "run-plant: ${names[$1]} exited during start; its log, $logs/${names[$1]}.log, ends with:" >&2
    tail -n 20 "$logs/${names[$1]}.log" >&2
    return 1
}

# --- the broker, with one account per service
broker_env=(MQTT_PORT="$mqtt_port" MQTT_BIND=127.0.0.1 BROKER_DATA="$data/broker/data")
if [ -n "${MQTTS_PORT:-}" ]; then broker_env+=(MQTTS_PORT="$MQTTS_PORT" TLS_DIR="$(cd "${TLS_DIR:-deploy/certs}" && pwd)"); fi
env "${broker_env[@]}" scripts/broker-config.sh "$data/broker" > /dev/null
# shellcheck disable=SC1091
source "$data/broker/credentials.env"
start mosquitto -- mosquitto -c "$data/broker/mosquitto.conf"
for _ in $(seq 1 100); do listening "$mqtt_port" && break; alive 0 || exit 1; sleep 0.1; done
listening "$mqtt_port" || { echo "run-plant: mosquitto does not listen on $mqtt_port; log: $logs/mosquitto.log" >&2; exit 1; }

url() { echo "mqtt://$1:$2@127.0.0.1:$mqtt_port"; }

# --- the services, in dependency order: the plant, its edge, the host, then the readers
start simulate MQTT_URL="$(url simulate "$MQTT_PASSWORD_SIMULATE")" HTTP_PORT="$simulate_port" INSTANCE=simulate-1 \
    -- "$bin/simulate" --plant "$repo/deploy/plants/default.yaml"
start gateway MQTT_URL="$(url gateway "$MQTT_PASSWORD_GATEWAY")" HTTP_PORT="$gateway_port" INSTANCE=gateway-1 \
    -- "$bin/gateway" --config "$repo/deploy/gateway/default.yaml"
start stream MQTT_URL="$(url stream "$MQTT_PASSWORD_STREAM")" HTTP_PORT="$stream_port" INSTANCE=stream-1 \
    -- "$bin/stream" --store "sqlite:$data/stream.db" --journal "$data/stream.journal" --role primary
# The dashboard's first admin: created once with a random password (there is never a default one), kept in
# the data folder so later starts print the same login.
login_file="$data/dashboard-login"
if [ ! -s "$login_file" ]; then
    password=$(openssl rand -hex 12)
    (umask 077; printf '%s\n' "$password" > "$login_file.new")
    "$bin/api" --store "sqlite:$data/api.db" admin create --user admin --password-file "$login_file.new" \
        > "$logs/api-admin.log" 2>&1 || { echo "run-plant: could not create the dashboard admin; see $logs/api-admin.log" >&2; exit 1; }
    mv "$login_file.new" "$login_file"
fi
start api MQTT_URL="$(url api "$MQTT_PASSWORD_API")" HTTP_PORT="$api_port" INSTANCE=api-1 \
    -- "$bin/api" --store "sqlite:$data/api.db"
start rag-index MQTT_URL="$(url rag-index "$MQTT_PASSWORD_RAG_INDEX")" HTTP_PORT="$rag_port" INSTANCE=rag-index-1 \
    RAG_MODEL_DIR="${RAG_MODEL_DIR:-$repo/.models/all-MiniLM-L6-v2}" \
    -- "$bin/rag-index" --index "$data/rag.db" --docs "${RAG_DOCS:-$repo/docs}"

# --- healthy? /health answers 200 for ok and degraded (a field device down), 503 while a critical check fails.
ports=("" "$simulate_port" "$gateway_port" "$stream_port" "$api_port" "$rag_port")
deadline=$(( SECONDS + health_timeout ))
for i in 1 2 3 4 5; do
    until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:${ports[$i]}/health" 2>/dev/null; do
        alive "$i" || exit 1
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "run-plant: ${names[$i]} not healthy after ${health_timeout} s at http://127.0.0.1:${ports[$i]}/health" >&2
            echo "  its log: $logs/${names[$i]}.log (last lines below); raise HEALTH_TIMEOUT if it is only slow" >&2
            curl -sS --max-time 2 "http://127.0.0.1:${ports[$i]}/health" >&2 2>&1 || true
            tail -n 20 "$logs/${names[$i]}.log" >&2
            exit 1
        fi
        sleep 0.2
    done
done

cat <<TEXT

Shopfloor test plant is running (data in $data).
  Dashboard      http://127.0.0.1:$api_port/  (user admin, password $(cat "$login_file"); more users: api admin create)
  Watch the UNS  mosquitto_sub -h 127.0.0.1 -p $mqtt_port -u viewer -P $MQTT_PASSWORD_VIEWER -v -t 'uns/v1/#'
  Broker         mqtt://127.0.0.1:$mqtt_port; accounts and passwords in $data/broker/credentials.env
  Health         http://127.0.0.1:{$simulate_port,$gateway_port,$stream_port,$api_port,$rag_port}/health  (simulate, gateway, stream, api, rag-index)
  Metrics        the same ports, /metrics
  Logs           $logs/
Press Ctrl-C to stop.
TEXT

# Any process ending on its own ends the plant: a half-running plant would only mislead.
set +e
wait -n "${pids[@]}"
status=$?
[ "$stopping" = 1 ] && exit 0
for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
        echo "run-plant: ${names[$i]} exited (status $status); its log: $logs/${names[$i]}.log" >&2
    fi
done
stop_all 1
