#!/usr/bin/env bash
# Prints the python of a venv with paho-mqtt and protobuf and generates sparkplug_b_pb2.py next to the
# bench scripts (from Shared/CSparkplugB/sparkplug_b.proto, with the system protoc). VENV overrides the place.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
VENV="${VENV:-${TMPDIR:-/tmp}/shopfloor-bench-venv}"
if [[ ! -x "$VENV/bin/python" ]]; then
    python3 -m venv "$VENV" >&2
    # protobuf 4.x: the Python runtime that accepts code from Debian 12's protoc 3.21.
    "$VENV/bin/pip" install -q "paho-mqtt>=2,<3" "protobuf>=4.21,<5" >&2
fi
if [[ ! -f "$HERE/sparkplug_b_pb2.py" || "$ROOT/Shared/CSparkplugB/sparkplug_b.proto" -nt "$HERE/sparkplug_b_pb2.py" ]]; then
    protoc --proto_path="$ROOT/Shared/CSparkplugB" --python_out="$HERE" "$ROOT/Shared/CSparkplugB/sparkplug_b.proto"
fi
echo "$VENV/bin/python"
