#!/usr/bin/env bash
# installers/make-update and `airlock update verify` together: a real .deb built with
# dpkg-deb, bundled and signed with a throwaway development key, verified by the real
# `airlock` binary against that key; then each kind of tampering is refused. One PASS/FAIL
# line per assertion; the exit status is non-zero when any fails. Nothing is installed.
# Run alone (bash installers/tests/update_test.sh) or through `make test-scripts`;
# AIRLOCK_BIN is the airlock binary (default: the debug build in
# ${CARGO_TARGET_DIR:-/var/cache/airlock/target}); KEEP_TMP=1 keeps the scratch directory.
set -euo pipefail

installers=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
make_update=$installers/make-update
keys=$installers/keys.sh
bin=${AIRLOCK_BIN:-${CARGO_TARGET_DIR:-/var/cache/airlock/target}/debug/airlock}

missing=()
for tool in minisign dpkg-deb python3 tar; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]} > 0)); then
    echo "update_test: missing ${missing[*]}: apt-get install minisign dpkg python3 tar" >&2
    exit 1
fi
if [[ ! -x "$bin" ]]; then
    echo "update_test: $bin is missing: build it (cargo build --workspace --bin airlock) or set" \
        "AIRLOCK_BIN" >&2
    exit 1
fi

tmp=$(mktemp -d)
cleanup() {
    if [[ -n "${KEEP_TMP:-}" ]]; then
        echo "update_test: kept $tmp"
    else
        rm -rf -- "$tmp"
    fi
}
trap cleanup EXIT

test_name=update_test
# shellcheck source=installers/tests/assert.sh
source "$(dirname "${BASH_SOURCE[0]}")/assert.sh"
must() { # WHAT CMD...: a setup step; the test cannot go on without it
    local what=$1 out
    shift
    out=$("$@" 2>&1) || {
        fail "$what" "$out"
        echo "update_test: stopped: $failed failure(s)"
        exit 1
    }
}
# CMD exits 0 and prints TEXT.
expect_ok() { # WHAT TEXT CMD...
    local what=$1 text=$2 out rc=0
    shift 2
    out=$("$@" 2>&1) || rc=$?
    if ((rc == 0)) && grep -qF -- "$text" <<<"$out"; then
        pass "$what"
    else
        fail "$what (exit $rc; expected '$text')" "$out"
    fi
}

# Development-mode keys in KEY_DIR, whatever release keys the caller's environment holds.
dev() { # KEY_DIR CMD...
    local key_dir=$1
    shift
    env -u AIRLOCK_SIGNING_KEY -u AIRLOCK_SIGNING_KEY_PASSWORD -u AIRLOCK_GPG_PRIVATE_KEY \
        -u AIRLOCK_GPG_PASSPHRASE AIRLOCK_DEV_KEYS="$key_dir" "$@"
}
# The airlock binary with the throwaway update key and a scratch data directory.
airlock() {
    env -u AIRLOCK_DATA_DIR AIRLOCK_UPDATE_KEY_DIR="$tmp/update-key" "$bin" \
        --data-dir "$tmp/data" "$@"
}
build_deb() { # PACKAGE VERSION OUT
    local root=$tmp/pkg-$1-$2
    mkdir -p "$root/DEBIAN" "$root/usr/share/doc/$1"
    cat >"$root/DEBIAN/control" <<EOF
Package: $1
Version: $2
Architecture: amd64
Maintainer: Airlock tests <tests@localhost>
Description: update bundle test package
EOF
    echo "a file inside the test package" >"$root/usr/share/doc/$1/README"
    dpkg-deb --root-owner-group -Zgzip --build "$root" "$3" >/dev/null
}
# The byte offset of a member's data in a tar.
data_offset() { # TAR MEMBER
    python3 -c 'import sys, tarfile; print(tarfile.open(sys.argv[1]).getmember(sys.argv[2]).offset_data)' "$1" "$2"
}
flip_byte() { # FILE OFFSET
    local byte
    byte=$(od -An -tu1 -j "$2" -N 1 -- "$1" | tr -d ' ')
    # shellcheck disable=SC2059 # the format is the octal escape of the new byte
    printf "\\$(printf '%03o' $((byte ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# Re-archives the unpacked bundle DIR (make-update's tar options) as OUT, files in order.
retar() { # DIR OUT FILE...
    local dir=$1 out=$2
    shift 2
    tar --format=ustar --owner=0 --group=0 --numeric-owner -cf "$out" -C "$dir" "$@"
}

# ------------------------------------------------------------------ a bundle is made
current=$("$bin" --version | awk '{ print $2 }')
[[ "$current" =~ ^([0-9]+)\. ]] || {
    echo "update_test: cannot read the version from \`$bin --version\`" >&2
    exit 1
}
next="$((BASH_REMATCH[1] + 1)).0.0"
keys_a=$tmp/keys-a
out=$tmp/out
mkdir -p "$out" "$tmp/update-key" "$tmp/notes"
printf 'Fixes the label printer restart.\nSecond line.\n' >"$tmp/notes/notes.txt"
build_deb airlock "$next" "$tmp/Airlock_${next}_amd64.deb"
must "make-update signs a bundle with a new development key" \
    dev "$keys_a" "$make_update" "$tmp/Airlock_${next}_amd64.deb" "$out" "$tmp/notes/notes.txt"
pass "make-update signs a bundle with a new development key"
bundle=$out/airlock-$next-linux-deb-amd64.airlock-update
if [[ -f "$bundle" ]]; then
    pass "the bundle is named airlock-<version>-linux-deb-amd64.airlock-update"
else
    fail "no $bundle" "$(ls -l "$out")"
fi
members=$(tar -tf "$bundle" | tr '\n' ' ')
if [[ "$members" == "update.json update.json.minisig Airlock_${next}_amd64.deb " ]]; then
    pass "the bundle holds update.json, its signature and the package, nothing else"
else
    fail "bundle members: $members"
fi
manifest=$(tar -xOf "$bundle" update.json)
if python3 - "$manifest" "$next" "$tmp/Airlock_${next}_amd64.deb" <<'PY'; then
import hashlib, json, os, sys
m = json.loads(sys.argv[1])
deb = sys.argv[3]
assert m["format"] == 1 and m["product"] == "airlock" and m["target"] == "linux-deb-amd64"
assert m["version"] == sys.argv[2], m["version"]
assert m["notes"] == "Fixes the label printer restart.\nSecond line.", m["notes"]
assert m["payload"] == {
    "name": os.path.basename(deb),
    "sha256": hashlib.sha256(open(deb, "rb").read()).hexdigest(),
    "size": os.path.getsize(deb),
}, m["payload"]
PY
    pass "update.json names the version, target, notes and the package's SHA-256 and size"
else
    fail "update.json" "$manifest"
fi

must "keys.sh public-key writes the key make-update signed with" \
    dev "$keys_a" "$keys" public-key "$tmp/update-key/airlock-signing.pub"
if cmp -s "$tmp/update-key/airlock-signing.pub" "$keys_a/minisign.pub"; then
    pass "keys.sh public-key writes the key make-update signed with"
else
    fail "keys.sh public-key differs from $keys_a/minisign.pub"
fi

# ------------------------------------------------------------------ airlock verifies it
expect_ok "airlock update verify accepts the bundle" "OK: the bundle verifies" \
    airlock update verify "$bundle"
expect_ok "it shows the version, the notes and the signed comment" \
    "Airlock $next update linux-deb-amd64 signed" airlock update verify "$bundle"
expect_ok "--json says ok with the manifest" "\"version\": \"$next\"" \
    airlock update verify --json "$bundle"

# ------------------------------------------------------------------ tampering is refused
tampered=$tmp/tampered
mkdir -p "$tampered"
for member in update.json update.json.minisig "Airlock_${next}_amd64.deb"; do
    copy=$tampered/$member.airlock-update
    cp "$bundle" "$copy"
    size=$(tar -tvf "$bundle" "$member" | awk '{ print $3 }')
    flip_byte "$copy" $(($(data_offset "$bundle" "$member") + size / 2))
    case "$member" in
    *.deb) text="does not match the signed update.json" ;;
    *) text="not signed by this Airlock's update key" ;;
    esac
    expect_refused "one byte changed in $member" "$text" airlock update verify "$copy"
done

unpacked=$tmp/unpacked
mkdir -p "$unpacked"
tar -xf "$bundle" -C "$unpacked"
sed -i 's/"notes": "Fixes/"notes": "Breaks/' "$unpacked/update.json"
retar "$unpacked" "$tampered/notes.airlock-update" update.json update.json.minisig \
    "Airlock_${next}_amd64.deb"
expect_refused "edited release notes" "not signed by this Airlock's update key" \
    airlock update verify "$tampered/notes.airlock-update"
# The genuine signed manifest, with another package under the name it signs.
tar -xf "$bundle" -C "$unpacked" update.json
build_deb airlock-other "$next" "$unpacked/Airlock_${next}_amd64.deb"
retar "$unpacked" "$tampered/swapped.airlock-update" update.json update.json.minisig \
    "Airlock_${next}_amd64.deb"
expect_refused "another package under the signed name" "does not match the signed update.json" \
    airlock update verify "$tampered/swapped.airlock-update"

cp "$bundle" "$tampered/extra.airlock-update"
echo "extra" >"$unpacked/usr-share-doc-extra"
tar --format=ustar -rf "$tampered/extra.airlock-update" -C "$unpacked" usr-share-doc-extra
expect_refused "an extra file appended to the bundle" "usr-share-doc-extra" \
    airlock update verify "$tampered/extra.airlock-update"

gzip -c "$bundle" >"$tampered/compressed.airlock-update"
expect_refused "a compressed bundle" "is not an Airlock update bundle" \
    airlock update verify "$tampered/compressed.airlock-update"

expect_refused "--json reports a refusal as ok: false" '"ok":false' \
    airlock update verify --json "$tampered/notes.airlock-update"

# ------------------------------------------------------------------ other keys, versions
keys_b=$tmp/keys-b
mkdir -p "$tmp/out-b"
must "make-update with a second key" \
    dev "$keys_b" "$make_update" "$tmp/Airlock_${next}_amd64.deb" "$tmp/out-b"
expect_refused "a bundle signed by another key" "signed by key" \
    airlock update verify "$tmp/out-b/airlock-$next-linux-deb-amd64.airlock-update"

build_deb airlock "$current" "$tmp/Airlock_${current}_amd64.deb"
mkdir -p "$tmp/out-same"
must "make-update of the running version" \
    dev "$keys_a" "$make_update" "$tmp/Airlock_${current}_amd64.deb" "$tmp/out-same"
same=$tmp/out-same/airlock-$current-linux-deb-amd64.airlock-update
expect_refused "the running version is refused by verify" "not newer than the installed" \
    airlock update verify "$same"
expect_refused "the running version is refused by apply, before installing" \
    "not newer than the installed" airlock update apply "$same"

mkdir -p "$tmp/no-key"
expect_refused "without an update key nothing is verified" "no update key at" \
    env AIRLOCK_UPDATE_KEY_DIR="$tmp/no-key" "$bin" --data-dir "$tmp/data" update verify "$bundle"

if [[ -z "$(ls -A "$tmp/data/updates" 2>/dev/null)" ]]; then
    pass "nothing is left in the staging directory"
else
    fail "left in $tmp/data/updates" "$(ls -la "$tmp/data/updates")"
fi

# ------------------------------------------------------------------ make-update refuses
build_deb airlock-test "$next" "$tmp/other.deb"
expect_refused "make-update refuses a package other than airlock" "not airlock" \
    dev "$keys_a" "$make_update" "$tmp/other.deb" "$out"
build_deb airlock 1.0 "$tmp/short.deb"
expect_refused "make-update refuses a version that is not semantic" "not a semantic version" \
    dev "$keys_a" "$make_update" "$tmp/short.deb" "$out"
expect_refused "make-update refuses a key directory inside OUT_DIR" "inside OUT_DIR" \
    dev "$out/keys" "$make_update" "$tmp/Airlock_${next}_amd64.deb" "$out"

# ------------------------------------------------------------------- lint
if command -v shellcheck >/dev/null 2>&1; then
    if out=$(shellcheck "$make_update" "$keys" "${BASH_SOURCE[0]}" 2>&1); then
        pass "shellcheck: make-update, keys.sh, update_test.sh"
    else
        fail "shellcheck" "$out"
    fi
else
    echo "SKIP  shellcheck is missing (apt-get install shellcheck)"
fi

finish
