#!/usr/bin/env bash
# The `make run` smoke test, for CI: starts the plant (scripts/run-plant.sh) from executables already built in
# BIN_DIR, in a temporary data folder on free ports, waits until live values arrive, interrupts it like Ctrl-C
# does, and checks that every process it started has exited and no port is left listening.
#
#   scripts/smoke-run.sh BIN_DIR      e.g. scripts/smoke-run.sh "$(swift build --show-bin-path)"
#
# Environment: LIVE_TIMEOUT seconds for the first live value (default 60), KEEP_DATA=1 keeps the data folder.
set -euo pipefail
# Job control: the plant runs in its own process group, and SIGINT is not ignored in it as it would be for a
# plain background job of a script (a shell cannot trap a signal ignored at entry).
set -m

bin=$(cd "${1:?usage: smoke-run.sh BIN_DIR}" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
live_timeout=${LIVE_TIMEOUT:-60}
data=$(mktemp -d /tmp/shopfloor-smoke.XXXXXX)

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
    local port
    for _ in $(seq 1 200); do
        port=$(( 20000 + RANDOM % 30000 ))
        listening "$port" || { echo "$port"; return; }
    done
    echo "smoke: no free port" >&2; exit 1
}
fail() { echo "smoke: FAIL: $*" >&2; echo "smoke: logs in $data/logs" >&2; KEEP_DATA=1; exit 1; }

export SHOPFLOOR_DATA=$data
# rag-index embeds what it indexes at start: the machine manuals (seconds) rather than all of docs/ (minutes);
# retrieval over docs/ is RagIndexTests' job.
export RAG_DOCS=${RAG_DOCS:-$PWD/docs/manuals}
MQTT_PORT=$(free_port); API_PORT=$(free_port); GATEWAY_PORT=$(free_port)
STREAM_PORT=$(free_port); SIMULATE_PORT=$(free_port); RAG_PORT=$(free_port)
export MQTT_PORT API_PORT GATEWAY_PORT STREAM_PORT SIMULATE_PORT RAG_PORT
ports=("$MQTT_PORT" "$API_PORT" "$GATEWAY_PORT" "$STREAM_PORT" "$SIMULATE_PORT" "$RAG_PORT" $(seq 5020 5029))

started=$SECONDS
scripts/run-plant.sh "$bin" > "$data/run-plant.out" 2>&1 &
plant=$!
cleanup() {
    # Whatever happened, leave nothing behind: the plant's group first, then anything it recorded.
    if kill -0 "$plant" 2>/dev/null; then kill -INT "$plant" 2>/dev/null || true; sleep 2; kill -KILL -- "-$plant" 2>/dev/null || true; fi
    [ "${KEEP_DATA:-0}" = 1 ] || rm -rf "$data"
}
trap cleanup EXIT

# 1. The plant is up: run-plant.sh prints the banner once every /health answers.
until grep -q "is running" "$data/run-plant.out" 2>/dev/null; do
    kill -0 "$plant" 2>/dev/null || { cat "$data/run-plant.out" >&2; fail "run-plant.sh exited during start"; }
    [ $(( SECONDS - started )) -lt 300 ] || fail "the plant was not healthy within 300 s"
    sleep 0.5
done
echo "smoke: plant healthy after $(( SECONDS - started )) s"
cp "$data/pids" "$data/pids.seen"

# 2. Live values within 60 s: a machine value republished by stream into the UNS, read with the viewer account (proves the
#    chain simulate -> Modbus -> gateway -> Sparkplug -> stream -> UNS, and the broker's accounts and ACL).
# shellcheck disable=SC1091
source "$data/broker/credentials.env"
live_started=$SECONDS
value=$(mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -u viewer -P "$MQTT_PASSWORD_VIEWER" -v -C 1 -W "$live_timeout" \
    -t 'uns/v1/acme/+/+/+/+/value/temperature' 2>&1) || fail "no live value on uns/v1/acme/…/value/temperature within $live_timeout s"
echo "smoke: live value after $(( SECONDS - live_started )) s: $value"
# ... and the same machine's live values through the api, logged in as the admin make run created.
token=$(curl -fsS -X POST "http://127.0.0.1:$API_PORT/v1/auth/login" \
        -d "{\"user\":\"admin\",\"password\":\"$(cat "$data/dashboard-login")\"}" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])') || fail "cannot log in to the api as admin"
asset=$(echo "$value" | cut -d' ' -f1 | sed -E 's|^uns/v1/(.*)/value/temperature$|\1|')
until curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$API_PORT/v1/values?asset=$asset" 2>/dev/null \
        | grep -q '"metric":"temperature"'; do
    [ $(( SECONDS - live_started )) -lt "$live_timeout" ] || fail "the api shows no live temperature of $asset within $live_timeout s"
    sleep 0.5
done
echo "smoke: the api serves $asset's live values after $(( SECONDS - live_started )) s"

# 3. Ctrl-C: everything stops, nothing stays. A terminal sends SIGINT to its whole foreground process group,
# so this does too: the services must not get it (run-plant.sh stops them itself, broker last).
stop_started=$SECONDS
kill -INT -- "-$plant"
for _ in $(seq 1 600); do kill -0 "$plant" 2>/dev/null || break; sleep 0.1; done
kill -0 "$plant" 2>/dev/null && fail "run-plant.sh still running 60 s after SIGINT"
wait "$plant" && status=0 || status=$?
[ "$status" = 130 ] || fail "run-plant.sh exited with $status after SIGINT (expected 130); see $data/run-plant.out"
while read -r name pid; do
    kill -0 "$pid" 2>/dev/null && fail "$name (pid $pid) still running after the plant stopped"
done < "$data/pids.seen"
for port in "${ports[@]}"; do
    listening "$port" && fail "port $port still listening after the plant stopped"
done
grep -q "killed" "$data/run-plant.out" && fail "a service had to be killed: $(grep killed "$data/run-plant.out")"
for service in simulate gateway stream api rag-index; do
    # Each says so after its goodbyes (status offline, NDEATH, STATE offline) reached a still-running broker.
    grep -q "stopped cleanly" "$data/logs/$service.log" || fail "$service did not stop cleanly; see $data/logs/$service.log"
done
echo "smoke: stopped cleanly in $(( SECONDS - stop_started )) s; no process or port left"
echo "smoke: OK"
