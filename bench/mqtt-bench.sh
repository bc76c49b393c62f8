#!/usr/bin/env bash
# MQTT subscriber throughput: bench/c-subscriber (plain libmosquitto) against our MQTTClient (stream,
# durable journal, SQLite commit per message) on one mosquitto this script starts.
#
# Each variant first primes a persistent session (subscribe, disconnect), then bench/c-publisher puts
# COUNT messages into the broker's queue for it, then the subscriber reconnects and drains the backlog:
# the rate is the subscriber's alone, not limited by the publisher. Every variant gets the same backlog.
#
#   bench/mqtt-bench.sh [--write docs/benchmarks-mqtt.md]
#   env: COUNT (default 200000), SIZE payload bytes (100), RUNS per variant (3, the median is reported),
#        PORT (18838)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
COUNT="${COUNT:-200000}"
SIZE="${SIZE:-100}"
RUNS="${RUNS:-3}"
PORT="${PORT:-18838}"
WRITE=""
[[ "${1:-}" == "--write" ]] && WRITE="${2:?--write needs a file}"
WORK="$(mktemp -d)"
BROKER_PID=""
cleanup() {
    [[ -n "$BROKER_PID" ]] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

cc -O2 -o "$WORK/c-subscriber" "$ROOT/bench/c-subscriber.c" -lmosquitto
cc -O2 -o "$WORK/c-publisher" "$ROOT/bench/c-publisher.c" -lmosquitto
(cd "$ROOT" && swift build -c release --product MQTTThroughput >/dev/null)
SWIFT_BIN="$(cd "$ROOT" && swift build -c release --show-bin-path)/MQTTThroughput"

cat > "$WORK/mosquitto.conf" <<CONF
listener $PORT 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 0
queue_qos0_messages true
$( [[ "$(id -u)" == 0 ]] && echo "user root" )
CONF
mosquitto -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 &
BROKER_PID=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done

# run_once <label> <qos> <run> <command prefix…>: prime, publish the backlog, drain; prints the rate.
run_once() {
    local label="$1" qos="$2" run="$3"; shift 3
    local id="bench-$label-$run-$$" topic="bench/$label/$run/$$"
    "$@" 127.0.0.1 "$PORT" "$topic" "$qos" "$COUNT" "$id" prime "$WORK/$label.db" >/dev/null
    "$WORK/c-publisher" 127.0.0.1 "$PORT" "$topic" "$qos" "$COUNT" "$SIZE" >/dev/null
    "$@" 127.0.0.1 "$PORT" "$topic" "$qos" "$COUNT" "$id" run "$WORK/$label.db" | awk '{print $2}'
}

# c-subscriber takes no path argument; wrap it to drop the 9th.
c_sub() { "$WORK/c-subscriber" "${@:1:7}"; }

# Variants alternate within each run, so background load on the machine hits them all alike.
declare -A RATES
for run in $(seq "$RUNS"); do
    RATES[c0]+="$(run_once c0 0 "$run" c_sub) "
    RATES[swift0]+="$(run_once swift0 0 "$run" "$SWIFT_BIN" stream) "
    RATES[c1]+="$(run_once c1 1 "$run" c_sub) "
    RATES[swift1]+="$(run_once swift1 1 "$run" "$SWIFT_BIN" stream) "
    RATES[durable1]+="$(run_once durable1 1 "$run" "$SWIFT_BIN" durable) "
    RATES[sqlite1]+="$(run_once sqlite1 1 "$run" "$SWIFT_BIN" sqlite) "
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A RATE
for key in "${!RATES[@]}"; do RATE[$key]="$(median "${RATES[$key]}")"; done
ALL_RUNS="$(for key in c0 swift0 c1 swift1 durable1 sqlite1; do printf '%s=[%s] ' "$key" "${RATES[$key]% }"; done)"
echo "all runs: $ALL_RUNS" >&2

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
REPORT="$(cat <<TABLE
| subscriber | QoS | msgs/s (median of $RUNS) | ratio |
|---|---|---|---|
| C libmosquitto (bench/c-subscriber.c) | 0 | ${RATE[c0]} | 1.00 |
| MQTTClient, \`messages\` stream | 0 | ${RATE[swift0]} | $(ratio "${RATE[swift0]}" "${RATE[c0]}") of C |
| C libmosquitto (bench/c-subscriber.c) | 1 | ${RATE[c1]} | 1.00 |
| MQTTClient, \`messages\` stream | 1 | ${RATE[swift1]} | $(ratio "${RATE[swift1]}" "${RATE[c1]}") of C |
| MQTTClient durable, MessageJournal append in on_message | 1 | ${RATE[durable1]} | $(ratio "${RATE[durable1]}" "${RATE[swift1]}") of stream QoS 1, $(ratio "${RATE[durable1]}" "${RATE[c1]}") of C |
| MQTTClient durable, SQLite INSERT + commit per message (WAL, synchronous=NORMAL) | 1 | ${RATE[sqlite1]} | $(ratio "${RATE[sqlite1]}" "${RATE[swift1]}") of stream QoS 1 |
TABLE
)"
echo "$REPORT"

if [[ -n "$WRITE" ]]; then
    cat > "$WRITE" <<DOC
# MQTT subscriber throughput

Command: \`COUNT=$COUNT SIZE=$SIZE RUNS=$RUNS bench/mqtt-bench.sh --write $WRITE\`

Machine: \`$(uname -a)\`, $(nproc) cores, mosquitto $(mosquitto -h 2>/dev/null | head -1 | awk '{print $3}'), $(date -u +%Y-%m-%d).

Each variant primes a persistent session, the C publisher queues $COUNT messages of $SIZE bytes in the
broker for it, then the subscriber reconnects and drains them; the rate runs from the first to the last
message, so it measures the subscriber, not the publisher. Receive Maximum is 1000 for every subscriber.

$REPORT

Every run (msgs/s; c = C subscriber, swift = MQTTClient stream, digit = QoS): \`$ALL_RUNS\`
Load average while running: $(cut -d' ' -f1-3 /proc/loadavg).

Goals: MQTTClient >= 0.9 of C; durable (journal) >= 0.8 of non-durable QoS 1.
DOC
    echo "wrote $WRITE"
fi
