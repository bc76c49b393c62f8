#!/usr/bin/env bash
# Regenerates the protobuf-c sources of Shared/CSparkplugB from sparkplug_b.proto.
# The .c stays at the target root and the .h goes to include/ (SwiftPM's public headers);
# The .c includes "sparkplug_b.pb-c.h" without a path: SwiftPM puts include/ on the search path.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/Shared/CSparkplugB"
command -v protoc-c >/dev/null || { echo "protoc-c not found: apt-get install protobuf-c-compiler" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$dir" && protoc-c --c_out="$tmp" sparkplug_b.proto)
mkdir -p "$dir/include"
# Pin the include to the system path CProtobufC provides (older protoc-c wrote "protobuf-c.h").
sed -e 's|#include [<"]\(protobuf-c/\)\{0,1\}protobuf-c.h[>"]|#include <protobuf-c/protobuf-c.h>|' \
    "$tmp/sparkplug_b.pb-c.h" > "$dir/include/sparkplug_b.pb-c.h"
cp "$tmp/sparkplug_b.pb-c.c" "$dir/sparkplug_b.pb-c.c"
echo "generated $dir/sparkplug_b.pb-c.c and $dir/include/sparkplug_b.pb-c.h ($(protoc-c --version 2>&1 | head -1))"
