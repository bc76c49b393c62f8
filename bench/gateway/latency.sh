#!/usr/bin/env bash
# Gateway latency: a register change on simulate's default plant → the DDATA carrying it on the broker,
# p50/p90/p99 over CHANGES changes, for each poll interval given.
#
#   bench/gateway/latency.sh [CHANGES] [INTERVAL...]        e.g. bench/gateway/latency.sh 300 10ms 100ms 1s
#
# Needs release builds of gateway, simulate and GatewayLatency
# (swift build -c release --product gateway --product simulate --product GatewayLatency; BUILD_DIR overrides
# the directory). Starts its own mosquitto (persistence off) on 25890, simulate's ten machines on 25800…25809,
# the gateway with deploy/gateway/default.yaml (ports rewritten, the `fast` poll group at INTERVAL, HTTP on
# 25891). GatewayLatency writes press-1's temperature setpoint (HR 40021, FC 6) to a new value after a random
# pause of up to two intervals, and times the write to the DDATA with that value (taken in on_message).
set -euo pipefail
cd "$(dirname "$0")/../.."
changes=${1:-300}
shift || true
intervals=("${@:-10ms}")
[ ${#intervals[@]} -gt 0 ] || intervals=(10ms)
build=${BUILD_DIR:-$(swift build -c release --show-bin-path)}
for bin in gateway simulate GatewayLatency; do
    [[ -x $build/$bin ]] || { echo "no release build of $bin in $build" >&2; exit 1; }
done
mqtt_port=25890 http_port=25891
work=$(mktemp -d /tmp/gateway-latency.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open" >&2; exit 1; }

printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n' $mqtt_port >"$work/mosquitto.conf"
/usr/sbin/mosquitto -c "$work/mosquitto.conf" & pids+=($!)
wait_port $mqtt_port
"$build/simulate" --plant deploy/plants/default.yaml --modbus-port 25800 --http-port 0 --seed 1 \
    --mqtt-url "mqtt://127.0.0.1:$mqtt_port" --log-level error >"$work/simulate.log" 2>&1 & pids+=($!)
wait_port 25809

echo "machine: $(uname -srm), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load $(cut -d' ' -f1-3 /proc/loadavg)"
for interval in "${intervals[@]}"; do
    sed -e 's/port: 502\([0-9]\)/port: 2580\1/' -e "s|path: gateway-spool.sqlite|path: $work/spool-$interval.sqlite|" \
        -e "s/{name: fast, interval: 1s}/{name: fast, interval: $interval}/" -e 's/groupId: acme-dresden/groupId: bench-latency/' \
        deploy/gateway/default.yaml >"$work/gateway.yaml"
    "$build/gateway" --config "$work/gateway.yaml" --mqtt-url "mqtt://127.0.0.1:$mqtt_port" --http-port $http_port \
        --log-level warning >"$work/gateway-$interval.log" 2>&1 &
    gateway=$!
    pids+=($gateway)
    for _ in $(seq 100); do curl -sf localhost:$http_port/health >/dev/null && break; sleep 0.1; done
    # Twice the interval at most between changes, so changes fall on every phase of the poll cycle.
    pause=$(awk -v i="$interval" 'BEGIN { n = i + 0; if (i ~ /ms$/) n = n; else if (i ~ /s$/) n = n * 1000; print int(2 * n) }')
    echo -n "poll interval $interval: "
    "$build/GatewayLatency" $mqtt_port 25800 bench-latency gateway-1 press-1 temperatureSetpoint 20 0.1 "$changes" "$pause" \
        || { tail -n 20 "$work/gateway-$interval.log" "$work/simulate.log" >&2; exit 1; }
    kill -TERM $gateway; wait $gateway 2>/dev/null || true
done
