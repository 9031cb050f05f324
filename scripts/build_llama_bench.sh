#!/usr/bin/env bash
# Build llama.cpp's `llama-bench` from the llama-cpp-python source distribution on PyPI.
#
# The sdist vendors the whole llama.cpp tree under vendor/llama.cpp (tools/llama-bench
# included), so this works on a machine whose network only reaches PyPI.
#
# Usage: scripts/build_llama_bench.sh
#   LLAMA_CPP_PYTHON_VERSION=0.3.36   pin the llama-cpp-python version. Unset: reuse the
#                                     newest sdist already in the cache, else the newest
#                                     version pip finds on PyPI.
#   LLAMA_BENCH_CACHE=dir             cache/build directory (default .cache/llama-bench).
#   LLAMA_BENCH_JOBS=n                parallel build jobs (default 2).
#
# Cached: when the binary for the chosen version exists and was built with the same flags,
# nothing is downloaded or built. With GCC < 13 on a CPU with AMX, AMX is compiled out (GCC
# 12 miscompiles ggml's AMX tile setup; the binary would die with SIGILL).
# Writes version information to <cache>/VERSION. The last line printed is the binary's path.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${LLAMA_BENCH_CACHE:-$ROOT/.cache/llama-bench}"
JOBS="${LLAMA_BENCH_JOBS:-2}"
PYTHON="${PYTHON:-python3}"

die() {
    echo "error: $*" >&2
    exit 1
}

for tool in "$PYTHON" cmake tar; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "'$tool' is not installed (run scripts/setup.sh, which installs build-essential and cmake)"
done
command -v c++ >/dev/null 2>&1 || die "no C++ compiler found (apt-get install build-essential)"

mkdir -p "$CACHE/sdist"
CACHE="$(cd "$CACHE" && pwd)"

# Newest llama_cpp_python-*.tar.gz in the sdist cache, printed as its version (or nothing).
newest_cached_version() {
    local f versions=()
    for f in "$CACHE"/sdist/llama_cpp_python-*.tar.gz; do
        [[ -e "$f" ]] || continue
        f="${f##*/llama_cpp_python-}"
        versions+=("${f%.tar.gz}")
    done
    ((${#versions[@]})) || return 0
    printf '%s\n' "${versions[@]}" | sort -V | tail -n 1
}

download_sdist() { # $1: version or "" for the newest
    local spec="llama-cpp-python" tmp log saved
    [[ -n "$1" ]] && spec="llama-cpp-python==$1"
    tmp="$(mktemp -d "$CACHE/download.XXXXXX")"
    log="$tmp/pip.log"
    echo "llama-bench: downloading the $spec sdist from PyPI" >&2
    if ! "$PYTHON" -m pip download --no-binary :all: --no-deps -d "$tmp" "$spec" >"$log" 2>&1; then
        local last
        last="$(grep -v '^\s*$' "$log" | tail -n 1 || true)"
        rm -rf "$tmp"
        die "could not download the PyPI source package '$spec': $last. Check that PyPI is reachable."
    fi
    saved=""
    for f in "$tmp"/llama_cpp_python-*.tar.gz; do
        [[ -e "$f" ]] && saved="$f"
    done
    if [[ -z "$saved" ]]; then
        rm -rf "$tmp"
        die "pip downloaded '$spec' but no llama_cpp_python-*.tar.gz appeared (see pip output above)"
    fi
    mv -f "$saved" "$CACHE/sdist/"
    rm -rf "$tmp"
}

VERSION="${LLAMA_CPP_PYTHON_VERSION:-}"
if [[ -n "$VERSION" ]]; then
    echo "llama-bench: llama-cpp-python $VERSION (pinned by LLAMA_CPP_PYTHON_VERSION)" >&2
    [[ -f "$CACHE/sdist/llama_cpp_python-$VERSION.tar.gz" ]] || download_sdist "$VERSION"
else
    VERSION="$(newest_cached_version)"
    if [[ -n "$VERSION" ]]; then
        echo "llama-bench: llama-cpp-python $VERSION (newest sdist already in $CACHE/sdist;" \
            "pin LLAMA_CPP_PYTHON_VERSION to change)" >&2
    else
        download_sdist ""
        VERSION="$(newest_cached_version)"
        echo "llama-bench: llama-cpp-python $VERSION (newest pip found on PyPI)" >&2
    fi
fi
SDIST="$CACHE/sdist/llama_cpp_python-$VERSION.tar.gz"
[[ -f "$SDIST" ]] || die "expected $SDIST after download; is '$VERSION' a valid version?"

SRC="$CACHE/src/llama_cpp_python-$VERSION"
LLAMA="$SRC/vendor/llama.cpp"
BUILD="$CACHE/build-$VERSION"
BIN="$BUILD/bin/llama-bench"

cmake_version() { # $1: CMakeLists.txt, $2: prefix (GGML or LLAMA) -> "0.25.3"
    sed -n "s/^ *set($2_VERSION_\\(MAJOR\\|MINOR\\|PATCH\\) *\\([0-9]*\\)).*/\\2/p" "$1" 2>/dev/null |
        paste -sd. -
}

write_version_file() {
    local out="$CACHE/VERSION" changelog_commit="" git_line="" build_number=""
    # llama-cpp-python's CHANGELOG names the llama.cpp commit each release vendors.
    if [[ -f "$SRC/CHANGELOG.md" ]]; then
        changelog_commit="$(awk -v v="## [$VERSION]" '
            index($0, v) == 1 { on = 1; next }
            on && /^## \[/ { exit }
            on && match($0, /llama\.cpp@[0-9a-f]+/) { print substr($0, RSTART + 10, RLENGTH - 10); exit }
        ' "$SRC/CHANGELOG.md")"
    fi
    # The sdist also carries the submodule's (shallow) git metadata: the full commit and its
    # date are exact, but the commit count -- llama.cpp's "bNNNN" build number -- is not.
    if command -v git >/dev/null 2>&1 &&
        git_line="$(git -C "$LLAMA" log -1 --format='%H %cs %s' 2>/dev/null)" && [[ -n "$git_line" ]]; then
        if [[ "$(git -C "$LLAMA" rev-parse --is-shallow-repository 2>/dev/null)" == false ]]; then
            build_number="b$(git -C "$LLAMA" rev-list --count HEAD)"
        else
            build_number="unknown (shallow git metadata in the sdist; the build-info's b1 is wrong)"
        fi
    fi
    {
        echo "llama-cpp-python $VERSION (PyPI sdist $(basename "$SDIST"))"
        echo "sdist sha256 $(sha256sum "$SDIST" | cut -d' ' -f1)"
        echo "llama.cpp commit (CHANGELOG.md) ${changelog_commit:-unknown}"
        echo "llama.cpp commit (git) ${git_line:-unknown}"
        echo "llama.cpp build number ${build_number:-unknown}"
        echo "llama.cpp library version $(cmake_version "$LLAMA/CMakeLists.txt" LLAMA)," \
            "ggml $(cmake_version "$LLAMA/ggml/CMakeLists.txt" GGML)"
        echo "cmake flags ${CMAKE_ARGS[*]}"
        echo "binary $BIN"
    } >"$out"
}

# GCC before 13 miscompiles _tile_loadconfig (its asm operand covers only 8 of the 64 config
# bytes, so the tile shapes are optimised away) and ggml's AMX kernels then die with SIGILL
# on CPUs with AMX (Sapphire Rapids and newer). With such a compiler and CPU, leave AMX out.
extra_flags=""
macros="$("${CXX:-c++}" -march=native -dM -E -x c++ /dev/null 2>/dev/null || true)"
if grep -q '__AMX_TILE__' <<<"$macros" && ! grep -q '__clang__' <<<"$macros"; then
    gnuc="$(sed -n 's/^#define __GNUC__ \([0-9]*\)$/\1/p' <<<"$macros")"
    if [[ -n "$gnuc" ]] && ((gnuc < 13)); then
        extra_flags="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
        echo "llama-bench: GCC $gnuc on an AMX CPU: building without AMX ($extra_flags;" \
            "GCC < 13 miscompiles ggml's AMX tile setup)" >&2
    fi
fi

CMAKE_ARGS=(
    -DCMAKE_BUILD_TYPE=Release
    -DGGML_NATIVE=ON
    -DLLAMA_CURL=OFF
    -DLLAMA_BUILD_TESTS=OFF
    -DLLAMA_BUILD_EXAMPLES=OFF
    -DLLAMA_BUILD_SERVER=OFF
    -DBUILD_SHARED_LIBS=OFF
    "-DCMAKE_C_FLAGS=$extra_flags"
    "-DCMAKE_CXX_FLAGS=$extra_flags"
)
STAMP="$BUILD/airlock-cmake-args"

if [[ -x "$BIN" && "$(cat "$STAMP" 2>/dev/null)" == "$(printf '%s\n' "${CMAKE_ARGS[@]}")" ]]; then
    if ! grep -q "^llama-cpp-python $VERSION " "$CACHE/VERSION" 2>/dev/null; then
        write_version_file
    fi
    echo "llama-bench: already built for llama-cpp-python $VERSION" >&2
    echo "$BIN"
    exit 0
fi

if [[ ! -f "$LLAMA/CMakeLists.txt" ]]; then
    echo "llama-bench: unpacking $(basename "$SDIST")" >&2
    rm -rf "$SRC" "$SRC.tmp"
    mkdir -p "$SRC.tmp"
    tar -xzf "$SDIST" -C "$SRC.tmp" --strip-components=1
    [[ -f "$SRC.tmp/vendor/llama.cpp/CMakeLists.txt" ]] ||
        die "$(basename "$SDIST") has no vendor/llama.cpp/CMakeLists.txt; this llama-cpp-python version does not vendor llama.cpp"
    mv "$SRC.tmp" "$SRC"
fi
[[ -d "$LLAMA/tools/llama-bench" || -d "$LLAMA/examples/llama-bench" ]] ||
    die "$LLAMA has no tools/llama-bench; pick another LLAMA_CPP_PYTHON_VERSION"

# An interrupted build with the same flags resumes; one made with other flags starts over.
if [[ -d "$BUILD" ]]; then
    cached_flags="$(sed -n 's/^CMAKE_CXX_FLAGS:STRING=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)"
    if [[ -f "$STAMP" || "$cached_flags" != "$extra_flags" ]]; then
        echo "llama-bench: build settings changed; rebuilding $BUILD from scratch" >&2
        rm -rf "$BUILD"
    fi
fi
echo "llama-bench: configuring in $BUILD" >&2
cmake -S "$LLAMA" -B "$BUILD" "${CMAKE_ARGS[@]}" >&2
echo "llama-bench: building (takes several minutes on 2 cores)" >&2
cmake --build "$BUILD" --target llama-bench -j "$JOBS" >&2
[[ -x "$BIN" ]] || die "the build finished but $BIN is missing; see the cmake output above"
printf '%s\n' "${CMAKE_ARGS[@]}" >"$STAMP"

write_version_file
echo "llama-bench: built llama-cpp-python $VERSION; versions in $CACHE/VERSION" >&2
echo "$BIN"
