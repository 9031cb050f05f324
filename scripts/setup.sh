#!/usr/bin/env bash
# Prepare this machine for building, testing and running Airlock (what `make setup` runs).
#
# Usage: scripts/setup.sh [--recommended]
#   --recommended            also fetch the recommended (larger) generator model
#   AIRLOCK_REQUIRE_DOCKER=1 fail when no Docker engine can be started (default: warn;
#                            plan mode works without Docker)
#
# Idempotent: every step checks first and does nothing when its work is already done, so a
# second run takes a few seconds. Needs network access only to Debian's apt mirror, PyPI,
# crates.io and npm, and only for what is missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

FETCH_ARGS=()
for arg in "$@"; do
    case "$arg" in
    --recommended) FETCH_ARGS+=(--recommended) ;;
    -h | --help)
        sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
        exit 0
        ;;
    *)
        echo "error: unknown argument '$arg' (usage: scripts/setup.sh [--recommended])" >&2
        exit 2
        ;;
    esac
done

die() {
    echo "error: $*" >&2
    exit 1
}

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    fi
fi

# ---------------------------------------------------------------------------------- apt
APT_PACKAGES=(
    build-essential pkg-config cmake clang libclang-dev git curl file unzip
    python3 python3-pip
    libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev libssl-dev
    docker.io busybox-static xvfb xauth sqlite3 procps iproute2
    # The desktop end-to-end test drives the window through WebKitWebDriver (with tauri-driver).
    webkit2gtk-driver imagemagick
    nodejs npm
    # The signing-key keychain tests: a private session bus (dbus-run-session), a Secret
    # Service (GNOME Keyring) and secret-tool to inspect it.
    dbus gnome-keyring libsecret-tools
    # MES over ODBC: the unixODBC driver manager and Debian's SQLite ODBC driver (registers
    # the `SQLite3` driver in /etc/odbcinst.ini).
    unixodbc unixodbc-dev odbcinst libsqliteodbc
    # Sentence embeddings: OpenBLAS computes the encoder's matrix products (airlock-llm loads
    # libopenblas.so.0 at run time; the installer's package depends on libopenblas0).
    libopenblas0
    # Installer signing and its test: minisign (SHA256SUMS), GnuPG/gpgv (.debs), shellcheck.
    minisign gnupg gpgv shellcheck
    # make airgap-test: every socket the demo and the desktop test open is logged by strace.
    strace
    # make install-test: the clean Debian root the .deb is installed into.
    debootstrap
    # The bundler configurations are checked against the Tauri CLI's JSON schema.
    python3-jsonschema
)

step_apt() {
    local skip_note=() wanted=() missing=() pkg
    local have_node=0 have_pip=0
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && have_node=1
    python3 -m pip --version >/dev/null 2>&1 && have_pip=1
    ((have_node)) && skip_note+=("nodejs/npm: node and npm already on PATH")
    ((have_pip)) && skip_note+=("python3/python3-pip: python3 -m pip works")

    for pkg in "${APT_PACKAGES[@]}"; do
        case "$pkg" in
        nodejs | npm) ((have_node)) && continue ;;
        python3 | python3-pip) ((have_pip)) && continue ;;
        esac
        wanted+=("$pkg")
        if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" != "install ok installed" ]]; then
            missing+=("$pkg")
        fi
    done

    local skipped="" note
    for note in "${skip_note[@]}"; do
        skipped+="${skipped:+; }$note"
    done
    [[ -n "$skipped" ]] && skipped=" (skipped $skipped)"
    if ((${#missing[@]} == 0)); then
        echo "apt: all ${#wanted[@]} packages present$skipped"
        return
    fi

    echo "apt: installing ${#missing[@]} missing package(s): ${missing[*]}"
    if [[ "$(id -u)" -ne 0 && ${#SUDO[@]} -eq 0 ]]; then
        die "not root and sudo is not installed; run as root: apt-get update &&" \
            "apt-get install -y --no-install-recommends ${missing[*]}"
    fi
    "${SUDO[@]}" apt-get update -q ||
        die "apt-get update failed; check that the Debian mirror is reachable"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}" ||
        die "apt-get install failed for: ${missing[*]}"
    echo "apt: installed ${missing[*]}; all ${#wanted[@]} packages present$skipped"
}

# --------------------------------------------------------------------------------- rust
step_rust() {
    if ! command -v cargo >/dev/null 2>&1; then
        [[ -x "$HOME/.cargo/bin/cargo" ]] &&
            die "cargo is installed in ~/.cargo/bin but not on PATH; run: . \"\$HOME/.cargo/env\""
        cat >&2 <<'EOF'
error: Rust is not installed (no `cargo` on PATH). Airlock needs Rust 1.90 or newer.
  On a machine with internet access: curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh
  rustup downloads its toolchains from static.rust-lang.org, which a machine that only reaches
  package registries (apt, PyPI, crates.io, npm) cannot; there, install Rust with an offline
  installer (https://forge.rust-lang.org/infra/other-installation-methods.html) or copy
  ~/.rustup and ~/.cargo from a connected machine. Debian 12's own rustc (1.63) is too old.
EOF
        exit 1
    fi
    local nextest
    if ! nextest="$(cargo nextest --version 2>/dev/null | head -n 1)"; then
        echo "rust: installing cargo-nextest from crates.io (takes a few minutes)"
        cargo install cargo-nextest --locked ||
            die "cargo install cargo-nextest failed; check that crates.io is reachable"
        nextest="$(cargo nextest --version 2>/dev/null | head -n 1)"
    fi
    if ! command -v tauri-driver >/dev/null 2>&1 && [[ ! -x "$HOME/.cargo/bin/tauri-driver" ]]; then
        echo "rust: installing tauri-driver from crates.io (the desktop end-to-end test's WebDriver)"
        cargo install tauri-driver --locked ||
            die "cargo install tauri-driver failed; check that crates.io is reachable"
    fi
    echo "rust: $(cargo --version | cut -d' ' -f1-2), $nextest, tauri-driver"
}

# ------------------------------------------------------------------------------- docker
step_docker() {
    local out
    if out="$("$ROOT/scripts/ensure_dockerd.sh" 2>&1)"; then
        echo "docker: $(tail -n 1 <<<"$out")"
        return
    fi
    printf '  %s\n' "${out//$'\n'/$'\n'  }" >&2
    if [[ "${AIRLOCK_REQUIRE_DOCKER:-0}" == 1 ]]; then
        die "docker: no Docker engine (AIRLOCK_REQUIRE_DOCKER=1)"
    fi
    echo "docker: WARNING: no Docker engine; plan mode works, running commands in the sandbox" \
        "does not (set AIRLOCK_REQUIRE_DOCKER=1 to make this fatal)" >&2
}

# ------------------------------------------------------------------------------- models
step_models() {
    if ! python3 "$ROOT/scripts/fetch_models.py" "${FETCH_ARGS[@]}" 2>&1 | sed 's/^/  /'; then
        die "models: could not fetch the models (see the messages above)"
    fi
    echo "models: ok"
}

# ----------------------------------------------------------------------------------- ui
step_ui() {
    if [[ ! -f ui/package-lock.json ]]; then
        echo "ui: no ui/package-lock.json; skipped"
        return
    fi
    if [[ -f ui/node_modules/.package-lock.json && ui/node_modules/.package-lock.json -nt ui/package-lock.json ]]; then
        echo "ui: deps up to date"
        return
    fi
    command -v npm >/dev/null 2>&1 || die "ui: npm is not installed (apt-get install npm)"
    local node_version
    node_version="$(node --version 2>/dev/null || echo none)"
    if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number);
                  process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null; then
        die "ui: Node.js $node_version is too old; the UI build (Vite 7) needs Node 20.19 or" \
            "newer. Debian 12's nodejs package is 18: install Node 20 LTS or newer (its npm" \
            "package works: 'npm install -g node@20') and run make setup again"
    fi
    echo "ui: installing dependencies (npm ci)"
    (cd ui && npm ci --no-audit --no-fund) ||
        die "ui: npm ci failed (see npm's message above). If it says package.json and" \
            "package-lock.json are out of sync, run 'npm install' in ui/ and commit the lock" \
            "file; otherwise check that the npm registry is reachable"
    echo "ui: deps installed"
}

step_apt
step_rust
step_docker
step_models
step_ui
