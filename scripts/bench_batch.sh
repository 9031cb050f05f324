#!/usr/bin/env bash
# `make bench-batch`: the throughput of `airlock batch --mode plan` (release build) on a
# 1,000-request file whose calls are stated (the governor's path: screen, Cedar, guards, audit
# chain), and on a file of BATCH_MODEL_REQUESTS text-only requests the model plans (default
# 100: ~1 s each on 2 cores with the default model). Prints a table for BENCHMARKS.md.
set -euo pipefail
bin="$1"
model="${2:-}"
count="${BATCH_REQUESTS:-1000}"
model_count="${BATCH_MODEL_REQUESTS:-100}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

run() { # label file count
    local data="$work/data-$1" start end
    mkdir -p "$data"
    printf 'correct horse battery staple\n' |
        "$bin" --data-dir "$data" users add boss --role admin >/dev/null 2>&1
    start=$(date +%s.%N)
    printf 'correct horse battery staple\n' |
        "$bin" --data-dir "$data" ${model:+--model "$model"} batch --input "$2" \
            --output "$work/$1.json" --as boss 2>/dev/null
    end=$(date +%s.%N)
    python3 - "$1" "$3" "$start" "$end" "$work/$1.json" <<'PY'
import json, sys
label, count, start, end, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
report = json.load(open(out))
s = report["summary"]
wall = end - start
print(f"| {label:<22} | {count:>5} | {s['total']:>9} | {wall:>8.1f} | {count / wall:>10.1f} | "
      f"{s['approved']}/{s['denied']}/{s['requires_approval']}/{s['clarification_needed']} |")
PY
}

python3 "$repo/scripts/gen_batch.py" "$repo/fixtures/batch/seed.json" "$count" "$work/stated.json"
python3 "$repo/scripts/gen_batch.py" "$repo/fixtures/batch/seed.json" "$model_count" "$work/text.json" --text-only
echo "| batch (plan mode)      | reqs  | decisions | wall (s) | requests/s | approved/denied/approval/clarify |"
echo "|------------------------|-------|-----------|----------|------------|----------------------------------|"
run "calls stated in file" "$work/stated.json" "$count"
run "text planned by model" "$work/text.json" "$model_count"
