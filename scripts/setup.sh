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
    curl
)

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
# The Debian package starts a system-wide mosquitto on :1883; `make run` and the tests start their own.
