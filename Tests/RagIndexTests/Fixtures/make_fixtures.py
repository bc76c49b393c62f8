#!/usr/bin/env python3
"""Writes embedding_fixtures.json: reference token ids and sentence vectors for RagIndexTests.

Run once, by hand, after scripts/fetch-model.sh; the JSON is committed so tests need no Python.

    python3 -m venv /tmp/ragvenv && /tmp/ragvenv/bin/pip install transformers safetensors numpy
    /tmp/ragvenv/bin/python Tests/RagIndexTests/Fixtures/make_fixtures.py [.models/all-MiniLM-L6-v2]

Token ids come from transformers' BertTokenizer (the slow, reference Python tokenizer) and are checked
against BertTokenizerFast. Vectors come from an independent numpy implementation of BertModel over the
same model.safetensors (float64 throughout), mean-pooled and L2-normalised as sentence-transformers does.
torch is not used: its PyPI wheel pulls gigabytes of CUDA libraries on this machine.
"""
import json
import math
import os
import sys

import numpy as np
from safetensors.numpy import load_file
from transformers import BertTokenizer, BertTokenizerFast

model_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../../.models/all-MiniLM-L6-v2")
out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "embedding_fixtures.json")

texts = [
    "What does fault 17 on the filler mean?",
    "Why did press 3 stop last night?",
    "The hydraulic press stops when the oil temperature exceeds 65 °C.",
    "Replace the spindle bearing every 2,000 operating hours.",
    "Café crème, naïve résumé — Ünïcödé àccents are stripped.",
    "CNC-mill #2: vibration > 7.1 mm/s (ISO 10816) → maintenance required!",
    "uns/v1/acme/plant1/stamping/line1/press-3/event/state_changed",
    "机器停止了 because the 安全门 was open.",
    "unbelievably antidisestablishmentarianism supercalifragilisticexpialidocious",
    "",
    "   multiple   spaces\tand\ttabs\nand newlines   ",
    "Tokens: [brackets] stay text here; emoji 🙂 and symbols $^`~ too.",
    "OEE = availability × performance × quality.",
    "The quick brown fox jumps over the lazy dog. " * 40,
]

slow = BertTokenizer(os.path.join(model_dir, "vocab.txt"), do_lower_case=True)
fast = BertTokenizerFast(os.path.join(model_dir, "vocab.txt"), do_lower_case=True)

weights = {k: v.astype(np.float64) for k, v in load_file(os.path.join(model_dir, "model.safetensors")).items()}
config = json.load(open(os.path.join(model_dir, "config.json")))
heads = config["num_attention_heads"]
eps = config["layer_norm_eps"]


def layer_norm(x, prefix):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weights[prefix + ".weight"] + weights[prefix + ".bias"]


def linear(x, prefix):
    return x @ weights[prefix + ".weight"].T + weights[prefix + ".bias"]


erf = np.vectorize(math.erf)


def embed(ids):
    ids = np.array(ids)
    n = len(ids)
    x = weights["embeddings.word_embeddings.weight"][ids] + weights["embeddings.position_embeddings.weight"][:n] \
        + weights["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, "embeddings.LayerNorm")
    d = x.shape[1] // heads
    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."
        q = linear(x, p + "attention.self.query").reshape(n, heads, d).transpose(1, 0, 2)
        k = linear(x, p + "attention.self.key").reshape(n, heads, d).transpose(1, 0, 2)
        v = linear(x, p + "attention.self.value").reshape(n, heads, d).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(d)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(n, heads * d)
        x = layer_norm(linear(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        h = linear(x, p + "intermediate.dense")
        h = 0.5 * h * (1 + erf(h / math.sqrt(2)))
        x = layer_norm(linear(h, p + "output.dense") + x, p + "output.LayerNorm")
    pooled = x.mean(0)
    return pooled / max(np.linalg.norm(pooled), 1e-12)


cases = []
for text in texts:
    ids = slow.encode(text, add_special_tokens=True, truncation=True, max_length=256)
    assert ids == fast.encode(text, add_special_tokens=True, truncation=True, max_length=256), text
    cases.append({"text": text, "ids": ids, "vector": [round(float(v), 7) for v in embed(ids)]})

with open(out_path, "w") as out:
    json.dump({"model": "all-MiniLM-L6-v2", "reference": "transformers BertTokenizer + numpy BertModel (float64)",
               "cases": cases}, out, ensure_ascii=False, indent=1)
print(f"wrote {len(cases)} cases to {out_path}")
