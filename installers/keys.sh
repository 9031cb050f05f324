#!/usr/bin/env bash
# Which signing keys the installer scripts use, in one place: sourced by installers/sign and
# installers/make-update so that both sign with the same minisign key.
#   Release: AIRLOCK_SIGNING_KEY (the minisign secret key file, base64; + its password in
#     AIRLOCK_SIGNING_KEY_PASSWORD) and AIRLOCK_GPG_PRIVATE_KEY (+ AIRLOCK_GPG_PASSPHRASE).
#     Setting either one means a release: never a silent fall-back to a development key.
#   Development (neither set): keys without passwords made on first use in
#     ${AIRLOCK_DEV_KEYS:-~/.local/share/airlock/dev-keys} (mode 700), reused after.
# See installers/README.md, "Keys".
#
# Run directly, it writes the public key of the minisign key the scripts would sign with
# (making a development key on first use), e.g. for installers/bundle to ship it in the
# package before anything is signed:
#   installers/keys.sh public-key OUT_FILE
#
# Sourcing: the caller defines die() and sets keys_prog (its name, for messages),
# keys_repo_root (key files never go there) and optionally keys_out_dir/keys_out_name (the
# directory it writes, where key files never go either), then calls
#   keys_select_minisign TMP   sets minisign_key, minisign_password, key_origin
#   keys_load_gpg TMP          (sign only) the GPG key into the GNUPGHOME the caller exported
#   keys_minisign_public OUT   the public key of minisign_key (derived, so it always matches)
# TMP is the caller's private temporary directory (mode 700, removed on exit).

# minisign 0.11 has no password option but reads the password as one line from stdin (fgets:
# no terminal needed, no newline possible in the password). It is always given there through
# a process substitution: never a file, and no pipefail error when minisign does not read it
# (an unencrypted key never does). A key made by `tauri signer generate` with an empty
# password is unencrypted (newer tauri-cli) or encrypted with "" (older): the empty line
# sent when no password is set covers both.

# A key file must never land where it could be committed or shipped.
keys_refuse_location() { # PATH WHAT
    local path
    path=$(realpath -m -- "$1")
    case "$path/" in
    "$keys_repo_root"/*) die "$2 ($path) is inside the repository ($keys_repo_root); key files never go there" ;;
    esac
    if [[ -n "${keys_out_dir:-}" ]]; then
        case "$path/" in
        "$keys_out_dir"/*) die "$2 ($path) is inside ${keys_out_name:-the output directory}; key files never go there" ;;
        esac
    fi
}

# True when the environment asks for release keys.
keys_release() {
    [[ -n "${AIRLOCK_SIGNING_KEY:-}" || -n "${AIRLOCK_GPG_PRIVATE_KEY:-}" ]]
}

keys_dev_dir() {
    printf '%s\n' "${AIRLOCK_DEV_KEYS:-$HOME/.local/share/airlock/dev-keys}"
}

# The development key directory, created private if missing; refuses one that is not private.
keys_dev_dir_ready() { # DIR
    keys_refuse_location "$1" "the development key directory (AIRLOCK_DEV_KEYS)"
    if [[ ! -d "$1" ]]; then
        mkdir -p -- "$(dirname -- "$1")"
        mkdir -m 700 -- "$1"
    elif [[ "$(stat -c %a -- "$1")" != 700 ]]; then
        die "$1 holds signing keys and must be private: chmod 700 '$1'"
    fi
}

keys_select_minisign() { # TMP
    # shellcheck disable=SC2034 # minisign_key, minisign_password and key_origin are the caller's
    if keys_release; then
        [[ -n "${AIRLOCK_SIGNING_KEY:-}" ]] ||
            die "AIRLOCK_GPG_PRIVATE_KEY is set but AIRLOCK_SIGNING_KEY is not; a release needs both"
        key_origin="release key"
        minisign_key="$1/minisign.key"
        if ! printf '%s' "$AIRLOCK_SIGNING_KEY" | base64 -d >"$minisign_key" 2>/dev/null ||
            [[ "$(head -c 19 "$minisign_key")" != "untrusted comment: " ]]; then
            die "AIRLOCK_SIGNING_KEY is not a base64-encoded minisign secret key file (the private" \
                "key \`tauri signer generate\` prints, or \`base64 -w0 minisign.key\`); it must hold" \
                "the key itself, not a path"
        fi
        minisign_password=${AIRLOCK_SIGNING_KEY_PASSWORD:-}
    else
        local key_dir
        key_dir=$(keys_dev_dir)
        keys_dev_dir_ready "$key_dir"
        key_origin="development key"
        minisign_key="$key_dir/minisign.key"
        minisign_password=""
        if [[ ! -f "$minisign_key" ]]; then
            echo "$keys_prog: creating a development minisign key in $key_dir (no password)"
            minisign -G -f -W -p "$key_dir/minisign.pub" -s "$minisign_key" >/dev/null
        fi
    fi
}

keys_load_gpg() { # TMP
    # shellcheck disable=SC2034 # gpg_passphrase is the caller's
    if keys_release; then
        [[ -n "${AIRLOCK_GPG_PRIVATE_KEY:-}" ]] ||
            die "AIRLOCK_SIGNING_KEY is set but AIRLOCK_GPG_PRIVATE_KEY is not; a release needs both"
        gpg_passphrase=${AIRLOCK_GPG_PASSPHRASE:-}
        printf '%s\n' "$AIRLOCK_GPG_PRIVATE_KEY" |
            gpg --batch --quiet --pinentry-mode loopback --passphrase-fd 3 --import \
                3< <(printf '%s' "$gpg_passphrase") 2>"$1/gpg.err" ||
            die "AIRLOCK_GPG_PRIVATE_KEY could not be imported (expected an armoured secret key," \
                "\`gpg --armor --export-secret-keys KEYID\`): $(tail -n 1 "$1/gpg.err")"
    else
        local key_dir
        key_dir=$(keys_dev_dir)
        keys_dev_dir_ready "$key_dir"
        gpg_passphrase=""
        if [[ ! -f "$key_dir/gpg-secret.asc" ]]; then
            echo "$keys_prog: creating a development GPG key in $key_dir (no passphrase)"
            gpg --batch --quiet --pinentry-mode loopback --passphrase '' --quick-gen-key \
                "Airlock development signing key (not for release) <airlock-dev@localhost>" \
                ed25519 sign never 2>"$1/gpg.err" ||
                die "gpg could not create the development key: $(tail -n 1 "$1/gpg.err")"
            gpg --batch --armor --pinentry-mode loopback --passphrase '' --export-secret-keys \
                >"$key_dir/gpg-secret.asc"
        fi
        gpg --batch --quiet --import "$key_dir/gpg-secret.asc" 2>"$1/gpg.err" ||
            die "gpg could not import $key_dir/gpg-secret.asc: $(tail -n 1 "$1/gpg.err")"
    fi
}

# The public key is derived from the secret key, so the two can never disagree.
keys_minisign_public() { # OUT
    local err
    err=$(minisign -R -s "$minisign_key" -p "$1" < <(printf '%s\n' "$minisign_password") 2>&1 \
        >/dev/null) ||
        die "minisign could not read the signing key ($(tail -n 1 <<<"$err"));" \
            "a wrong or missing AIRLOCK_SIGNING_KEY_PASSWORD?"
}

# ------------------------------------------------------------- run directly: public-key OUT
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    umask 077
    keys_prog=keys.sh
    die() {
        echo "$keys_prog: error: $*" >&2
        exit 1
    }
    if [[ $# -ne 2 || "$1" != public-key ]]; then
        echo "usage: installers/keys.sh public-key OUT_FILE   (the minisign public key that" \
            "installers/sign and installers/make-update sign with)" >&2
        exit 2
    fi
    command -v minisign >/dev/null 2>&1 || die "minisign is missing: apt-get install minisign"
    keys_repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
    keys_tmp=$(mktemp -d)
    trap 'rm -rf -- "$keys_tmp"' EXIT
    keys_select_minisign "$keys_tmp"
    keys_minisign_public "$keys_tmp/minisign.pub"
    cp -- "$keys_tmp/minisign.pub" "$2"
    chmod 644 -- "$2" # a public key
    echo "$keys_prog: $2: $(sed -n '1s/^untrusted comment: //p' "$2") ($key_origin)"
fi
