#!/usr/bin/env bash
# stream's sustained ingest: DDATA (10 metrics each) drained from a broker backlog, decoded, journaled and
# stored exactly once, next to bench/c-subscriber.c draining a backlog of the same count and payload size
# (the raw limit of mosquitto on this machine), and next to a Python paho-mqtt consumer doing the same decode
# and SQLite insert (bench/stream/python/python-bench.py, the typical peer stack; PYTHON_BENCH=0 skips it).
# SQLite always; PostgreSQL when POSTGRES_URL is set.
#
#   bench/stream/stream-bench.sh [--write docs/benchmarks-stream.md]
#   env: COUNT (default 50000), RUNS (3, the median is reported), PORT (18851),
#        POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:15450/shopfloor_test)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
COUNT="${COUNT:-50000}"
RUNS="${RUNS:-3}"
PORT="${PORT:-18851}"
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
(cd "$ROOT" && swift build -c release --product StreamIngest >/dev/null)
BENCH="$(cd "$ROOT" && swift build -c release --show-bin-path)/StreamIngest"
if [[ "${PYTHON_BENCH:-1}" != 0 ]]; then PYTHON="$("$ROOT/bench/stream/python/venv.sh")"; fi

cat > "$WORK/mosquitto.conf" <<CONF
listener $PORT 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 0
$( [[ "$(id -u)" == 0 ]] && echo "user root" )
CONF
mosquitto -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 &
BROKER_PID=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done

# The C publisher sends payloads as large as stream's DDATA (stream_once records the size).
SIZE=140
c_once() {
    SIZE="$(cat "$WORK/size" 2>/dev/null || echo 140)"
    local id="bench-c-$1-$$" topic="bench/c/$1/$$"
    "$WORK/c-subscriber" 127.0.0.1 "$PORT" "$topic" 1 "$COUNT" "$id" prime >/dev/null
    "$WORK/c-publisher" 127.0.0.1 "$PORT" "$topic" 1 "$COUNT" "$SIZE" >/dev/null
    "$WORK/c-subscriber" 127.0.0.1 "$PORT" "$topic" 1 "$COUNT" "$id" run | awk '{print $2}'
}
stream_once() {
    local line
    line="$("$BENCH" "mqtt://127.0.0.1:$PORT" "$1" "$COUNT" "${2:-}" 2>/dev/null)"
    awk '{print $6}' <<<"$line" > "$WORK/size"
    awk '{print $2}' <<<"$line"
}

declare -A RATES
for run in $(seq "$RUNS"); do
    RATES[sqlite]+="$(stream_once "sqlite:$WORK/stream-$run.db") "
    if [[ -n "${POSTGRES_URL:-}" ]]; then
        RATES[postgres]+="$(stream_once "$POSTGRES_URL" "bench_$$_$run") "
    fi
    RATES[c]+="$(c_once "$run") "
    if [[ -n "${PYTHON:-}" ]]; then
        RATES[python]+="$("$PYTHON" "$ROOT/bench/stream/python/python-bench.py" 127.0.0.1 "$PORT" "$COUNT" \
            "$WORK/python-$run.db" | awk '{print $2}') "
    fi
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
SIZE="$(cat "$WORK/size")"
C="$(median "${RATES[c]}")"
SQLITE="$(median "${RATES[sqlite]}")"
REPORT="| consumer | msgs/s (median of $RUNS) | samples/s | ratio to C |
|---|---|---|---|
| C libmosquitto subscriber, QoS 1, $SIZE-byte payloads (bench/c-subscriber.c) | $C | – | 1.00 |
| stream, SQLite store (journal + decode + alias resolution + INSERT OR IGNORE) | $SQLITE | $((SQLITE * 10)) | $(ratio "$SQLITE" "$C") |"
if [[ -n "${POSTGRES_URL:-}" ]]; then
    PG="$(median "${RATES[postgres]}")"
    REPORT+="
| stream, PostgreSQL store (binary COPY + ON CONFLICT DO NOTHING) | $PG | $((PG * 10)) | $(ratio "$PG" "$C") |"
fi
if [[ -n "${PYTHON:-}" ]]; then
    PY="$(median "${RATES[python]}")"
    REPORT+="
| Python paho-mqtt consumer: protobuf decode + SQLite executemany (bench/stream/python/python-bench.py) | $PY | $((PY * 10)) | $(ratio "$PY" "$C") |

stream (SQLite) / Python: $(ratio "$SQLITE" "$PY")×"
fi
echo "all runs: c=[${RATES[c]% }] sqlite=[${RATES[sqlite]% }] postgres=[${RATES[postgres]:-}] python=[${RATES[python]:-}]" >&2
echo "$REPORT"
if [[ -n "$WRITE" ]]; then
    cat > "$WRITE" <<DOC
# stream ingest throughput

Command: \`COUNT=$COUNT RUNS=$RUNS POSTGRES_URL=… bench/stream/stream-bench.sh --write $WRITE\`

Machine: \`$(uname -a)\`, $(nproc) cores, $(date -u +%Y-%m-%d). Each stream run primes its persistent
session and stores the BIRTHs, has $COUNT DDATA (10 Double metrics by alias) queued for it at QoS 1, then
starts and is timed until the store holds all $((COUNT * 10)) samples. The C subscriber drains a backlog of
the same count and payload size at QoS 1 and only counts.

$REPORT

Goal (issue 5): ≥ 0.8 of the C subscriber with SQLite and with PostgreSQL.
DOC
    echo "wrote $WRITE"
fi
