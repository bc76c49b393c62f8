#!/usr/bin/env bash
# api benchmarks (release build):
#  1. GET /v1/values of one machine at 64 connections (wrk), next to nginx serving the same JSON as a static
#     file in the same run;
#  2. GET /v1/oee of one line over 30 days of data (4 machines: a state change every 10 min, a production
#     window every minute), latency over 20 requests.
#
#   bench/api/api-bench.sh            (API=path/to/api to skip the release build; needs wrk, nginx, mosquitto: apt-get install wrk nginx mosquitto)
#
# Starts its own mosquitto, api and nginx on free ports and stops them (by PID) at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
if [ -z "${API:-}" ]; then swift build -c release --product api >/dev/null; API=.build/release/api; fi

WORK=$(mktemp -d /tmp/api-bench.XXXXXX)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

MQTT_PORT=$(free_port); API_PORT=$(free_port); NGINX_PORT=$(free_port)
mosquitto -p "$MQTT_PORT" >"$WORK/mosquitto.log" 2>&1 & PIDS+=($!)
printf 'bench-admin-password\n' >"$WORK/pw"
"$API" --store "sqlite:$WORK/api.db" admin create --user bench --password-file "$WORK/pw" >/dev/null 2>&1

# 30 days of a 4-machine line, written straight into the api's store (the read models the UNS feed builds).
python3 - "$WORK/api.db" <<'PY'
import sqlite3, sys, random
db = sqlite3.connect(sys.argv[1])
random.seed(7)
day, end = 86_400_000, 1_795_000_000_000
start = end - 30 * day
line = "acme/plant1/press-area/line-1"
db.execute("INSERT INTO products VALUES ('BRK-1', 'Bracket', 2.0)")
db.execute("INSERT INTO work_orders (id, product_id, quantity_target, asset, status, created_at, updated_at, started_at)"
           " VALUES ('WO-1', 'BRK-1', 10000000, ?, 'running', ?, ?, ?)", (line, start, start, start))
states = ["running"] * 6 + ["down", "idle", "starved", "blocked", "setup"]
for m in range(4):
    path = f"{line}/press-{m}"
    rows = []
    t = start
    while t < end:
        rows.append((f"s-{m}-{t}", path, random.choice(states), None, None, t, None, None, None))
        t += 600_000
    db.executemany("INSERT INTO state_changes VALUES (?,?,?,?,?,?,?,?,?)", rows)
    prod = [(f"p-{m}-{t}", path, 25, 1, 26, t, t + 60_000, "WO-1") for t in range(start, end, 60_000)]
    db.executemany("INSERT INTO production VALUES (?,?,?,?,?,?,?,?)", prod)
db.commit()
print(f"seeded {db.execute('select count(*) from state_changes').fetchone()[0]} state changes, "
      f"{db.execute('select count(*) from production').fetchone()[0]} production windows")
PY

"$API" --mqtt-url "mqtt://127.0.0.1:$MQTT_PORT" --http-host 127.0.0.1 --http-port "$API_PORT" \
       --store "sqlite:$WORK/api.db" --log-level warning >"$WORK/api.log" 2>&1 & PIDS+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$API_PORT/health" >/dev/null && break; sleep 0.1; done
TOKEN=$(curl -sf -X POST "http://127.0.0.1:$API_PORT/v1/auth/login" -d '{"user":"bench","password":"bench-admin-password"}' \
        | python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])')

MACHINE=acme/plant1/press-area/line-1/press-0
for metric in temperature pressure humidity vibration speed power state good scrap cycle_time oil/temperature spindle/load; do
    mosquitto_pub -p "$MQTT_PORT" -q 1 -r -t "uns/v1/$MACHINE/value/$metric" \
        -m "{\"value\": $RANDOM.5, \"unit\": \"u\", \"quality\": \"good\", \"ts\": \"2026-11-22T08:00:00Z\"}"
done
URL="http://127.0.0.1:$API_PORT/v1/values?asset=$MACHINE"
for _ in $(seq 1 50); do [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL")" = 200 ] && break; sleep 0.1; done
mkdir -p "$WORK/www"
curl -sf -H "Authorization: Bearer $TOKEN" "$URL" >"$WORK/www/values.json"
echo "response: $(wc -c <"$WORK/www/values.json") bytes, $(grep -o '"metric"' "$WORK/www/values.json" | wc -l) values"

cat >"$WORK/nginx.conf" <<NGINX
daemon off;
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    types { application/json json; }
    server { listen 127.0.0.1:$NGINX_PORT; root $WORK/www; }
}
NGINX
nginx -c "$WORK/nginx.conf" & PIDS+=($!)
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$NGINX_PORT/values.json" >/dev/null && break; sleep 0.1; done

echo "== nginx, static values.json, $CONNECTIONS connections, $DURATION"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$NGINX_PORT/values.json" | grep -E "Requests/sec|99%|50%|Latency"
echo "== api, GET /v1/values (bearer token), $CONNECTIONS connections, $DURATION"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$URL" | grep -E "Requests/sec|99%|50%|Latency"

echo "== api, GET /v1/oee of the line over 30 days (20 requests, seconds)"
OEE="http://127.0.0.1:$API_PORT/v1/oee?asset=acme/plant1/press-area/line-1&from=$((1795000000000 - 30*86400000))&to=1795000000000"
curl -sf -H "Authorization: Bearer $TOKEN" "$OEE" | python3 -c 'import sys, json; o = json.load(sys.stdin)["overall"]; print("oee %.3f availability %.3f produced %d" % (o["oee"], o["availability"], o["produced"]))'
for _ in $(seq 1 20); do curl -sf -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $TOKEN" "$OEE"; done \
    | sort -n | awk '{a[NR]=$1} END {printf "min %.3f  median %.3f  max %.3f\n", a[1], a[int((NR+1)/2)], a[NR]}'
