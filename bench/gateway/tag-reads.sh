#!/usr/bin/env bash
# Gateway polling throughput against simulate's default plant, with a libmodbus client against the same server
# in the same run for reference.
#
#   bench/gateway/tag-reads.sh BUILD_DIR MQTT_PORT [SECONDS]
#
# BUILD_DIR holds release builds of `gateway` and `simulate` (swift build -c release --product …). Starts the
# plant on 26800…26809, the gateway with every tag of deploy/gateway/default.yaml in one poll group at 1 ms
# (so each device is polled back to back: 3 requests, 28 tags per poll), and reports tag reads/s and CPU
# seconds per 1000 tag reads from /metrics and /proc. Then libmodbus-load (10 connections, FC 3 × 10
# registers, closed loop) against one machine of the same plant.
set -euo pipefail
build=$1 mqtt_port=$2 seconds=${3:-20}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

"$build/simulate" --plant "$root/deploy/plants/default.yaml" --modbus-port 26800 --http-port 0 \
    --mqtt-url "mqtt://127.0.0.1:$mqtt_port" >"$work/simulate.log" 2>&1 &
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/26809) 2>/dev/null && break; sleep 0.1; done

sed -e 's/port: 50\([0-9][0-9]\)/port: 268\1/' -e 's/port: 2682\([0-9]\)/port: 2680\1/' \
    -e "s|path: gateway-spool.sqlite|path: $work/spool.sqlite|" -e 's/pollGroup: slow/pollGroup: fast/' \
    -e 's/{name: fast, interval: 1s}/{name: fast, interval: 1ms}/' -e 's/groupId: acme-dresden/groupId: bench/' \
    "$root/deploy/gateway/default.yaml" >"$work/gateway.yaml"
"$build/gateway" --config "$work/gateway.yaml" --mqtt-url "mqtt://127.0.0.1:$mqtt_port" --http-port 26990 \
    --log-level warning >"$work/gateway.log" 2>&1 &
gateway=$!
for _ in $(seq 100); do curl -sf localhost:26990/health >/dev/null && break; sleep 0.1; done
sleep 2   # warm-up: connections open, births sent

polls() { curl -s localhost:26990/metrics | awk '/^gateway_polls_total/ {s += $2} END {print s}'; }
cpu() { awk '{print $14 + $15}' "/proc/$gateway/stat"; }
ticks=$(getconf CLK_TCK)
p0=$(polls) c0=$(cpu) t0=$(date +%s.%N)
sleep "$seconds"
p1=$(polls) c1=$(cpu) t1=$(date +%s.%N)
awk -v p0="$p0" -v p1="$p1" -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v hz="$ticks" 'BEGIN {
    tags = (p1 - p0) * 28; secs = t1 - t0; cpu = (c1 - c0) / hz
    printf "gateway: %.0f polls/s, %.0f requests/s, %.0f tag reads/s, %.2f cores, %.4f CPU s per 1000 tag reads\n",
        (p1 - p0) / secs, 3 * (p1 - p0) / secs, tags / secs, cpu / secs, cpu / (tags / 1000)
}'
kill -TERM "$gateway"; wait "$gateway" 2>/dev/null || true

if [ -f "$root/../simulate/bench/modbus/libmodbus-load.c" ] || [ -f "$root/bench/modbus/libmodbus-load.c" ]; then
    src=$( [ -f "$root/bench/modbus/libmodbus-load.c" ] && echo "$root/bench/modbus/libmodbus-load.c" \
        || echo "$root/../simulate/bench/modbus/libmodbus-load.c")
    cc -O2 -o "$work/libmodbus-load" "$src" $(pkg-config --cflags --libs libmodbus) -lpthread
    echo -n "libmodbus-load, 10 connections to press-1 (FC 3 × 10 registers): "
    "$work/libmodbus-load" 26800 1 10 "$seconds"
fi
