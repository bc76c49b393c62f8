#!/usr/bin/env bash
# schemathesis against a running api: no 5xx and no response that violates /openapi.json.
#
#   Tests/APITests/schemathesis.sh [path/to/api]      (default: .build/debug/api, built if missing)
#
# Needs MQTT_URL (or MQTT_HOST/MQTT_PORT) of a running broker, e.g. from `scripts/test-deps.sh start DIR`.
# Installs schemathesis with pip when it is missing. Exit code: schemathesis's (0 = no failure found).
set -euo pipefail
cd "$(dirname "$0")/../.."
API=${1:-.build/debug/api}
MQTT_URL=${MQTT_URL:-mqtt://${MQTT_HOST:?set MQTT_URL or MQTT_HOST/MQTT_PORT}:${MQTT_PORT:?}}
EXAMPLES=${SCHEMATHESIS_EXAMPLES:-30}
command -v schemathesis >/dev/null || pip install --quiet schemathesis
python3 -c "import paho.mqtt" 2>/dev/null || pip install --quiet paho-mqtt
[ -x "$API" ] || swift build --product api

WORK=$(mktemp -d /tmp/api-schemathesis.XXXXXX)
PID=
RESPONDERS=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    [ -n "$RESPONDERS" ] && kill "$RESPONDERS" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
PREFIX="st$RANDOM/v1"
BROKER=${MQTT_URL#mqtt://}
python3 Tests/APITests/stand_in_responders.py "${BROKER%:*}" "${BROKER##*:}" "$PREFIX" >"$WORK/responders.log" 2>&1 &
RESPONDERS=$!
for _ in $(seq 1 50); do grep -q ready "$WORK/responders.log" && break; sleep 0.1; done
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
schemathesis run "$BASE/openapi.json" --url "$BASE" \
    --checks not_a_server_error,response_schema_conformance \
    --exclude-path /v1/events --exclude-path /v1/auth/logout \
    -H "Authorization: Bearer $TOKEN" --max-examples "$EXAMPLES" --request-timeout 10 --no-color
STATUS=$?
set -e
if [ $STATUS -ne 0 ]; then echo "--- api log"; tail -50 "$WORK/api.log"; fi
exit $STATUS
