#!/usr/bin/env bash
# rag-index benchmark: indexing chunks/s (real embeddings over docs/), query latency p50/p99 over a synthetic
# index of 10,000 chunks, and max RSS of the whole run. Release build; needs the model (scripts/fetch-model.sh).
#
#   bench/rag/rag-bench.sh [CHUNKS=10000] [QUERIES=300]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
chunks="${1:-10000}"
queries="${2:-300}"
model="${RAG_MODEL_DIR:-$root/.models/all-MiniLM-L6-v2}"
scripts/fetch-model.sh
swift build -c release --product RagBench > /dev/null
bin="$(swift build -c release --show-bin-path)/RagBench"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -sr)"
/usr/bin/time -v "$bin" "$model" docs "$work/index" "$chunks" "$queries" 2> "$work/time.txt"
grep -E 'Maximum resident set size|Elapsed \(wall clock\)|User time|System time' "$work/time.txt" | sed 's/^\s*/time: /'
