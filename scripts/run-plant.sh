#!/usr/bin/env bash
# `make run`: a whole test plant on this machine. Starts mosquitto (deploy/mosquitto/mosquitto.conf) and the
# five services with their embedded defaults, prints where to look, and stops everything it started on
# Ctrl-C or SIGTERM. State (broker persistence, SQLite stores, logs) lives in .run/.
#
# Environment: MQTT_PORT (default 1883), API_PORT (default 8080).
set -euo pipefail

bin=${1:?usage: run-plant.sh BIN_DIR}
state=${RUN_DIR:-.run}
mqtt_port=${MQTT_PORT:-1883}
api_port=${API_PORT:-8080}
mkdir -p "$state/logs" "$state/mosquitto"

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pids=()
stop_all() {
    trap - INT TERM EXIT
    echo
    echo "stopping the plant…"
    # Services first (they say goodbye on MQTT: NDEATH, STATE offline), the broker last.
    for (( i=${#pids[@]}-1; i>=0; i-- )); do kill -TERM "${pids[$i]}" 2>/dev/null || true; wait "${pids[$i]}" 2>/dev/null || true; done
    echo "stopped"
    exit 0
}
trap stop_all INT TERM EXIT

if listening "$mqtt_port"; then
    echo "a broker already listens on 127.0.0.1:$mqtt_port: using it (set MQTT_PORT to start our own elsewhere)"
else
    {
        grep -vE '^(listener|persistence)' deploy/mosquitto/mosquitto.conf
        echo "listener $mqtt_port"
        echo "persistence true"
        echo "persistence_location $PWD/$state/mosquitto/"
        [ "$(id -u)" = 0 ] && echo "user root"
    } > "$state/mosquitto/mosquitto.conf"
    mosquitto -c "$state/mosquitto/mosquitto.conf" > "$state/logs/mosquitto.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do listening "$mqtt_port" && break; sleep 0.1; done
    listening "$mqtt_port" || { cat "$state/logs/mosquitto.log"; exit 1; }
fi

export MQTT_URL="mqtt://127.0.0.1:$mqtt_port"
start() { # name http-port [args…]
    local name=$1 port=$2
    shift 2
    HTTP_PORT=$port "$bin/$name" "$@" > "$state/logs/$name.log" 2>&1 &
    pids+=($!)
}
start simulate 9103
start gateway 9101 --config deploy/gateway/default.yaml
start stream 9102 --store "sqlite:$state/stream.db" --journal "$state/stream.journal"
start rag-index 9104
start api "$api_port"

for port in 9103 9101 9102 9104 "$api_port"; do
    for _ in $(seq 1 100); do listening "$port" && break; sleep 0.1; done
done

cat <<TEXT

Shopfloor test plant is running.
  API                 http://localhost:$api_port/health   (the dashboard lands with the api issue)
  Live values         mosquitto_sub -p $mqtt_port -v -t 'uns/v1/acme/#'
  MQTT broker         mqtt://localhost:$mqtt_port   (watch: mosquitto_sub -p $mqtt_port -v -t 'uns/v1/#' -t 'spBv1.0/#')
  Health              http://localhost:{9103,9101,9102,9104,$api_port}/health  (simulate, gateway, stream, rag-index, api)
  Metrics             the same ports, /metrics
  Logs                $state/logs/
Press Ctrl-C to stop.
TEXT
wait -n "${pids[@]}" || true
echo "a process exited; see $state/logs/"
