#!/usr/bin/env bash
# Modbus TCP server benchmark: read 10 holding registers (FC 3) in a closed loop with 1 and 8 connections,
# simulate's NIO server next to libmodbus's own server, same load client (libmodbus), same run.
# Usage: bench/modbus/run.sh [SECONDS]   (needs libmodbus-dev and a release build of simulate)
# Ports: libmodbus server 25500, simulate 25600 (+i per machine), HTTP 25690.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-5}
out=$(mktemp -d /tmp/modbus-bench.XXXXXX)
trap 'kill $(cat "$out"/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$out"' EXIT

cc -O2 -o "$out/libmodbus-server" bench/modbus/libmodbus-server.c $(pkg-config --cflags --libs libmodbus)
cc -O2 -o "$out/libmodbus-load" bench/modbus/libmodbus-load.c $(pkg-config --cflags --libs libmodbus) -lpthread
bin=${SIMULATE_BIN:-$(swift build -c release --show-bin-path)/simulate}
[[ -x $bin ]] || { echo "no release build of simulate at $bin: run swift build -c release --product simulate" >&2; exit 1; }

wait_port() { for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open" >&2; exit 1; }

"$out/libmodbus-server" 25500 > /dev/null & echo $! > "$out/libmodbus.pid"
"$bin" --plant deploy/plants/default.yaml --modbus-port 25600 --http-port 25690 --seed 1 \
    --mqtt-url mqtt://127.0.0.1:1 --log-level error > "$out/simulate.log" 2>&1 & echo $! > "$out/simulate.pid"
wait_port 25500
wait_port 25600

echo "| server | connections | requests/s | errors |"
echo "|---|---:|---:|---:|"
for connections in 1 8; do
    read -r rate errors < <("$out/libmodbus-load" 25500 1 "$connections" "$seconds")
    echo "| libmodbus $(pkg-config --modversion libmodbus) | $connections | $rate | $errors |"
    read -r rate errors < <("$out/libmodbus-load" 25600 1 "$connections" "$seconds")
    echo "| simulate (SwiftNIO) | $connections | $rate | $errors |"
done
