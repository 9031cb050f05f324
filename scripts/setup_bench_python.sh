#!/usr/bin/env bash
# Make the Python venv in which `make bench-embed` runs sentence-transformers next to our
# embedder: scripts/bench-requirements.txt (sentence-transformers 6.2.0, torch 2.15.0, all
# pinned) from PyPI into $AIRLOCK_BENCH_VENV (default /var/cache/airlock/venv-bench).
#
# Usage: scripts/setup_bench_python.sh
#
# Not part of `make setup`: Airlock itself needs no Python packages. PyPI's torch for Linux
# is the CUDA build (PyPI has no CPU-only torch; the CPU wheels live on download.pytorch.org,
# which this project does not reach), so the venv takes about 6 GB and the first run
# downloads about 3 GB. Idempotent: an existing venv with the pinned versions is kept.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${AIRLOCK_BENCH_VENV:-/var/cache/airlock/venv-bench}"
REQUIREMENTS="$ROOT/scripts/bench-requirements.txt"
STAMP="$VENV/.airlock-requirements"

die() {
    echo "error: $*" >&2
    exit 1
}

if [[ -x "$VENV/bin/python" && -f "$STAMP" ]] && cmp -s "$REQUIREMENTS" "$STAMP"; then
    echo "bench venv: $VENV has the pinned sentence-transformers"
    exit 0
fi

python3 -m venv --help >/dev/null 2>&1 ||
    die "python3 has no venv module; install Debian's python3-venv"
mkdir -p "$(dirname "$VENV")"
if [[ ! -x "$VENV/bin/python" ]]; then
    echo "bench venv: creating $VENV"
    python3 -m venv "$VENV" || die "python3 -m venv $VENV failed (Debian: apt-get install python3-venv)"
fi
echo "bench venv: installing $(grep -c '==' "$REQUIREMENTS") pinned packages (about 3 GB to download)"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-cache-dir \
    -r "$REQUIREMENTS" || die "pip install into $VENV failed; check that PyPI is reachable"
"$VENV/bin/python" -c "import sentence_transformers, torch" ||
    die "sentence-transformers does not import in $VENV"
cp "$REQUIREMENTS" "$STAMP"
echo "bench venv: ready ($VENV/bin/python)"
