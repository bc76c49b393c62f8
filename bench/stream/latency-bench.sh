#!/usr/bin/env bash
# End-to-end latency: register change → stored → UNS value (bench/stream/python/latency.py), with a release
# simulate (Modbus plant), gateway (10 ms poll of one press) and stream (SQLite store) on a private mosquitto.
#
#   bench/stream/latency-bench.sh            env: COUNT (default 500 writes), PORT (18861), MODBUS_PORT (25020),
#                                                 BIN (default: release build), POLL (10ms), BATCH_INTERVAL_MS (20)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
COUNT="${COUNT:-500}"
PORT="${PORT:-18861}"
MODBUS_PORT="${MODBUS_PORT:-25020}"
POLL="${POLL:-10ms}"
BATCH_INTERVAL_MS="${BATCH_INTERVAL_MS:-20}"
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -z "${BIN:-}" ]]; then
    (cd "$ROOT" && swift build -c release --product stream --product gateway --product simulate >/dev/null)
    BIN="$(cd "$ROOT" && swift build -c release --show-bin-path)"
fi
PYTHON="$("$ROOT/bench/stream/python/venv.sh")"

cat > "$WORK/mosquitto.conf" <<CONF
listener $PORT 127.0.0.1
allow_anonymous true
persistence false
$( [[ "$(id -u)" == 0 ]] && echo "user root" )
CONF
mosquitto -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 & PIDS+=($!)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done

cat > "$WORK/gateway.yaml" <<YAML
groupId: latency
edgeNodeId: gateway-1
spool: {path: $WORK/spool.sqlite}
pollGroups:
  - {name: fast, interval: $POLL}
devices:
  - name: press-1
    host: 127.0.0.1
    port: $MODBUS_PORT
    unitId: 1
    assetPath: acme/dresden/body-shop/line-1/press-1
    tags:
      - {name: temperatureSetpoint, address: 40021, type: int16, scale: 0.1, unit: "°C", writable: true}
YAML
export MQTT_URL="mqtt://127.0.0.1:$PORT"
"$BIN/simulate" --plant "$ROOT/deploy/plants/default.yaml" --modbus-port "$MODBUS_PORT" --http-port 0 \
    >"$WORK/simulate.log" 2>&1 & PIDS+=($!)
"$BIN/stream" --store "sqlite:$WORK/stream.db" --journal "$WORK/stream.journal" --host-id latency \
    --batch-interval-ms "$BATCH_INTERVAL_MS" --http-port 0 >"$WORK/stream.log" 2>&1 & PIDS+=($!)
"$BIN/gateway" --config "$WORK/gateway.yaml" --http-port 0 >"$WORK/gateway.log" 2>&1 & PIDS+=($!)

RESULT="$("$PYTHON" "$ROOT/bench/stream/python/latency.py" 127.0.0.1 "$PORT" 127.0.0.1 "$MODBUS_PORT" \
    "uns/v1/acme/dresden/body-shop/line-1/press-1/value/temperatureSetpoint" "$COUNT")" || {
    tail -20 "$WORK"/*.log >&2; exit 1; }
echo "register change → stored → UNS value (ms, $COUNT writes, poll $POLL, stream idle poll ${BATCH_INTERVAL_MS} ms): $RESULT"
