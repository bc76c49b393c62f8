#!/usr/bin/env bash
# `make bench`: every benchmark, each beside its reference in the same run (the machines are noisy: read
# the ratios). Starts its own mosquitto and PostgreSQL 15 (scripts/test-deps.sh) and stops them after.
#
#   ordo-one/benchmark targets (Benchmarks/): SparkplugCodec (ours vs raw protobuf-c),
#                                             StoreBulkLoad (SQLite, PostgreSQL COPY vs multi-row INSERT)
#   bench/mqtt-bench.sh: MQTTClient vs a C libmosquitto subscriber, durable journal vs SQLite commit
#   bench/modbus/run.sh: simulate's Modbus TCP server vs libmodbus's server (needs libmodbus-dev)
#   bench/gateway/: tag reads/s polled from simulate (vs libmodbus client), register change → DDATA latency
#   bench/stream/: ingest vs a C subscriber and a Python paho-mqtt consumer; register → UNS value latency
#
# Results: docs/benchmarks.md (summary) and the pages it links to.
set -euo pipefail
cd "$(dirname "$0")/.."

deps=$(mktemp -d /tmp/shopfloor-bench.XXXXXX)
trap 'scripts/test-deps.sh stop "$deps"' EXIT
scripts/test-deps.sh start "$deps"
# shellcheck disable=SC1091
source "$deps/env"

echo "== machine: $(uname -srm), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
swift package --allow-writing-to-package-directory benchmark \
    --target SparkplugCodec --target StoreBulkLoad --no-progress
PORT=$((MQTT_PORT + 1)) bench/mqtt-bench.sh --write docs/benchmarks-mqtt.md
dpkg-query -W -f='${Status}' libmodbus-dev 2>/dev/null | grep -q 'install ok installed' \
    || { sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; $sudo apt-get install -y -qq libmodbus-dev > /dev/null; }
swift build -c release --product simulate
bench/modbus/run.sh 5
for product in gateway GatewayLatency stream; do swift build -c release --product "$product"; done
release=$(swift build -c release --show-bin-path)
bench/gateway/tag-reads.sh "$release" "$MQTT_PORT" 15
BUILD_DIR="$release" bench/gateway/latency.sh 300 10ms 100ms
POSTGRES_URL="postgres://$POSTGRES_USER@127.0.0.1:$POSTGRES_PORT/$POSTGRES_DB" PORT=$((MQTT_PORT + 2)) \
    bench/stream/stream-bench.sh
BIN="$release" bench/stream/latency-bench.sh
