#!/usr/bin/env bash
# schemathesis against a running api: no 5xx and no response that violates /openapi.json.
#
#   Tests/APITests/schemathesis.sh [path/to/api]      (default: .build/debug/api)
#
# The real `stream` (history) and `rag-index` (ask, over docs/manuals) from the same folder answer the api's
# relayed requests, so their answers are checked against the api's schema too.
# Needs MQTT_URL (or MQTT_HOST/MQTT_PORT) of a running broker, e.g. from `scripts/test-deps.sh start DIR`, and
# schemathesis (scripts/setup.sh installs it). Exit code: schemathesis's (0 = no failure found).
set -euo pipefail
cd "$(dirname "$0")/../.."
API=${1:-.build/debug/api}
MQTT_URL=${MQTT_URL:-mqtt://${MQTT_HOST:?set MQTT_URL or MQTT_HOST/MQTT_PORT}:${MQTT_PORT:?}}
EXAMPLES=${SCHEMATHESIS_EXAMPLES:-30}
BIN=$(dirname "$API")
python3 -c "import schemathesis" 2>/dev/null || { echo "schemathesis is missing: run scripts/setup.sh" >&2; exit 2; }

WORK=$(mktemp -d /tmp/api-schemathesis.XXXXXX)
PID=
RESPONDERS=()
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    for pid in "${RESPONDERS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
PREFIX="st$RANDOM/v1"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
STREAM_PORT=$(free_port)
RAG_PORT=$(free_port)
STREAM_GROUPS="st$RANDOM" STREAM_HOST_ID="st$RANDOM" "$BIN/stream" --mqtt-url "$MQTT_URL" --uns-prefix "$PREFIX" \
    --http-host 127.0.0.1 --http-port "$STREAM_PORT" --store "sqlite:$WORK/stream.db" --journal "$WORK/stream.journal" \
    --log-level warning >"$WORK/stream.log" 2>&1 &
RESPONDERS+=($!)
"$BIN/rag-index" --mqtt-url "$MQTT_URL" --uns-prefix "$PREFIX" --http-host 127.0.0.1 --http-port "$RAG_PORT" \
    --index "$WORK/rag.db" --docs docs/manuals --log-level warning >"$WORK/rag-index.log" 2>&1 &
RESPONDERS+=($!)
for port in "$STREAM_PORT" "$RAG_PORT"; do
    for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
    curl -sf "http://127.0.0.1:$port/health" >/dev/null \
        || { echo "stream/rag-index on port $port not healthy; logs in $WORK" >&2; tail -5 "$WORK"/*.log >&2; exit 1; }
done
printf 'schemathesis-admin-pw\n' > "$WORK/pw"
"$API" admin create --user admin --password-file "$WORK/pw" --store "sqlite:$WORK/api.db" >/dev/null 2>&1
"$API" --mqtt-url "$MQTT_URL" --http-host 127.0.0.1 --http-port "$PORT" --store "sqlite:$WORK/api.db" \
       --uns-prefix "$PREFIX" --request-timeout-ms 2000 --log-level warning >"$WORK/api.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
BASE="http://127.0.0.1:$PORT"
TOKEN=$(curl -sf -X POST "$BASE/v1/auth/login" -d '{"user":"admin","password":"schemathesis-admin-pw"}' \
        | python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])')
# Some data, so reads return real items and not only empty lists.
curl -sf -X POST -H "Authorization: Bearer $TOKEN" "$BASE/v1/products" \
     -d '{"id":"BRK-1","name":"Bracket","idealCycleSeconds":2}' >/dev/null
curl -sf -X POST -H "Authorization: Bearer $TOKEN" "$BASE/v1/workorders" \
     -d '{"id":"WO-1","product":"BRK-1","quantityTarget":10,"asset":"acme/plant1/press-area/line-1"}' >/dev/null

set +e
# /v1/events streams forever; it is covered by the Swift tests instead.
python3 -m schemathesis.cli run "$BASE/openapi.json" --url "$BASE" \
    --checks not_a_server_error,response_schema_conformance \
    --exclude-path /v1/events --exclude-path /v1/auth/logout \
    -H "Authorization: Bearer $TOKEN" --max-examples "$EXAMPLES" --request-timeout 10 --no-color
STATUS=$?
set -e
if [ $STATUS -ne 0 ]; then
    for log in api stream rag-index; do echo "--- $log log"; tail -30 "$WORK/$log.log"; done
fi
exit $STATUS
