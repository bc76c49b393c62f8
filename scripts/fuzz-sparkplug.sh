#!/usr/bin/env bash
# Fuzzes Payload(decoding:) with libFuzzer + AddressSanitizer, outside SwiftPM so normal builds
# never see the fuzz entry point.
#   scripts/fuzz-sparkplug.sh [SECONDS=60] [CORPUS_DIR=.build/fuzz/corpus]
# The corpus is seeded from Tests/SparkplugTests/Fixtures/*.bin; crashes land in .build/fuzz/artifacts/.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-60}"
corpus="${2:-$root/.build/fuzz/corpus}"
out="$root/.build/fuzz"
mkdir -p "$out/modules/CSparkplugB" "$out/artifacts" "$corpus"
cp -n "$root"/Tests/SparkplugTests/Fixtures/*.bin "$corpus"/ 2>/dev/null || true

# SwiftPM generates this module map for the C target; swiftc needs one of its own.
cat > "$out/modules/CSparkplugB/module.modulemap" <<MAP
module CSparkplugB {
    header "$root/Shared/CSparkplugB/include/sparkplug_b.pb-c.h"
    export *
}
MAP

clang -O1 -g -fsanitize=fuzzer-no-link,address -I "$root/Shared/CSparkplugB/include" \
    -c "$root/Shared/CSparkplugB/sparkplug_b.pb-c.c" -o "$out/sparkplug_b.pb-c.o"
swiftc -O -g -sanitize=fuzzer,address -parse-as-library -swift-version 6 \
    -enable-upcoming-feature ExistentialAny -module-name SparkplugFuzz \
    -I "$root/Shared/CProtobufC" -I "$out/modules/CSparkplugB" \
    "$root"/Shared/Sparkplug/*.swift "$root"/Shared/Sparkplug/ProtobufC/*.swift "$root/Tests/Fuzz/FuzzPayload.swift" \
    "$out/sparkplug_b.pb-c.o" -lprotobuf-c -o "$out/fuzz-sparkplug"

exec "$out/fuzz-sparkplug" -max_total_time="$seconds" -print_final_stats=1 -max_len=4096 \
    -rss_limit_mb=2048 -artifact_prefix="$out/artifacts/" "$corpus"
