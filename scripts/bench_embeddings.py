#!/usr/bin/env python3
"""sentence-transformers' side of `make bench-embed`: embeds the texts the Rust bench
(src-tauri/crates/airlock-llm/benches/embed.rs) hands over, with the same model files, batch
size and number of threads, one timed pass per request, so that the bench can interleave
its own passes with these.

    bench_embeddings.py --texts FILE.json --threads N [--batch-size 32] [--model-dir DIR]

FILE.json is a JSON list of strings. After loading the model and one untimed pass it prints
{"ready": true, "torch": VERSION, "threads": N}; then for every line read from stdin it
embeds all texts once and prints {"wall": SECONDS, "cpu": SECONDS} (CPU time of this
process, all threads); it exits at the end of stdin. The thread count is set before torch is
imported (OMP_NUM_THREADS, MKL_NUM_THREADS) and again with torch.set_num_threads. Run it with
the interpreter of the venv that scripts/setup_bench_python.sh makes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--texts", type=Path, required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--model-dir", type=Path,
                    default=Path(__file__).resolve().parent.parent / "models" / "all-minilm-l6-v2")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(args.threads)
    os.environ.setdefault("TQDM_DISABLE", "1")  # transformers' "Loading weights" bar

    import torch  # noqa: PLC0415 (after the thread variables)

    from reference_embeddings import build_model  # noqa: PLC0415 (imports torch)

    torch.set_num_threads(args.threads)
    texts = json.loads(args.texts.read_text(encoding="utf-8"))
    model = build_model(args.model_dir)

    def one_pass() -> None:
        model.encode(texts, batch_size=args.batch_size, convert_to_numpy=True)

    def say(message: dict[str, object]) -> None:
        print(json.dumps(message), flush=True)

    with torch.inference_mode():
        one_pass()
        say({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads()})
        for _ in sys.stdin:
            wall, cpu = time.perf_counter(), time.process_time()
            one_pass()
            say({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu})
    return 0


if __name__ == "__main__":
    sys.exit(main())
