#!/usr/bin/env bash
# installers/sign and installers/verify on a synthetic dist (a real .deb built with dpkg-deb,
# an AppImage stand-in of random bytes, a tar) signed with throwaway keys: the signed dist
# verifies, and every change to it is caught. One PASS/FAIL line per assertion; the exit
# status is non-zero when any fails.
# Run alone (bash installers/tests/verify_test.sh) or through `make test-scripts`;
# KEEP_TMP=1 keeps the scratch directory (dists, throwaway keys) for inspection.
set -euo pipefail

installers=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
repo_root=$(dirname "$installers")
sign=$installers/sign
verify=$installers/verify

missing=()
for tool in minisign gpg gpgv dpkg-deb python3; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]} > 0)); then
    echo "verify_test: missing ${missing[*]}: apt-get install minisign gnupg gpgv dpkg python3" >&2
    exit 1
fi

tmp=$(mktemp -d)
cleanup() {
    local home
    for home in "$tmp"/gnupg-*; do
        [[ -d "$home" ]] && GNUPGHOME="$home" gpgconf --kill gpg-agent >/dev/null 2>&1
    done
    if [[ -n "${KEEP_TMP:-}" ]]; then
        echo "verify_test: kept $tmp"
    else
        rm -rf -- "$tmp"
    fi
}
trap cleanup EXIT

test_name=verify_test
# shellcheck source=installers/tests/assert.sh
source "$(dirname "${BASH_SOURCE[0]}")/assert.sh"
# CMD exits 0 and its last line is "OK: ...".
expect_ok() { # WHAT CMD...
    local what=$1 out rc=0
    shift
    out=$("$@" 2>&1) || rc=$?
    if ((rc == 0)) && [[ "$(tail -n 1 <<<"$out")" == OK:* ]]; then
        pass "$what"
    else
        fail "$what (exit $rc)" "$out"
    fi
}
# CMD exits non-zero and its FAILED line names FILE.
expect_rejected() { # WHAT FILE CMD...
    local what=$1 file=$2 out rc=0
    shift 2
    out=$("$@" 2>&1) || rc=$?
    if ((rc != 0)) && grep '^FAILED:' <<<"$out" | grep -F -- "$file" >/dev/null; then
        pass "$what"
    else
        fail "$what (exit $rc; expected a FAILED line naming $file)" "$out"
    fi
}

# Development-mode signing, whatever release keys the caller's environment may hold.
sign_dev() { # KEY_DIR DIST
    env -u AIRLOCK_SIGNING_KEY -u AIRLOCK_SIGNING_KEY_PASSWORD -u AIRLOCK_GPG_PRIVATE_KEY \
        -u AIRLOCK_GPG_PASSPHRASE AIRLOCK_DEV_KEYS="$1" "$sign" "$2"
}
must() { # WHAT CMD...: a setup step; the test cannot go on without it
    local what=$1 out
    shift
    out=$("$@" 2>&1) || {
        fail "$what" "$out"
        echo "verify_test: stopped: $failed failure(s)"
        exit 1
    }
}

flip_middle_byte() { # FILE
    local size offset byte
    size=$(stat -c %s -- "$1")
    offset=$((size / 2))
    byte=$(od -An -tu1 -j "$offset" -N 1 -- "$1" | tr -d ' ')
    # shellcheck disable=SC2059 # the format is the octal escape of the new byte
    printf "\\$(printf '%03o' $((byte ^ 1)))" |
        dd of="$1" bs=1 seek="$offset" conv=notrunc status=none
}

# A password-protected secret key as `tauri signer generate -p PASSWORD` writes it (the Rust
# minisign crate: scrypt with opslimit 2^20 and memlimit 32 MiB, i.e. N=2^15, r=8, p=1), made
# from an unencrypted minisign key. minisign's own -G would use 1 GiB and ~5 s per use.
tauri_style_key() { # UNENCRYPTED_KEY PASSWORD
    python3 - "$1" "$2" <<'EOF'
import base64, hashlib, os, struct, sys

raw = base64.b64decode(open(sys.argv[1]).read().splitlines()[1])
assert raw[:6] == b"Ed\0\0B2" and len(raw) == 158, "expected an unencrypted minisign key"
keynum_sk = raw[54:126]  # key id (8 bytes) + Ed25519 secret key (64 bytes)
chk = hashlib.blake2b(b"Ed" + keynum_sk, digest_size=32).digest()
salt = os.urandom(32)
stream = hashlib.scrypt(sys.argv[2].encode(), salt=salt, n=1 << 15, r=8, p=1,
                        maxmem=64 << 20, dklen=len(keynum_sk) + len(chk))
box = bytes(a ^ b for a, b in zip(keynum_sk + chk, stream))
raw = b"EdScB2" + salt + struct.pack("<QQ", 1 << 20, 1 << 25) + box
print("untrusted comment: rsign encrypted secret key")
print(base64.b64encode(raw).decode())
EOF
}

# ------------------------------------------------------------------ the synthetic dist
dist=$tmp/dist
oob=$tmp/out-of-band # public keys as an offline site would hold them
mkdir -p "$dist" "$oob" "$tmp/pkg/DEBIAN" "$tmp/pkg/usr/share/doc/airlock-test"
cat >"$tmp/pkg/DEBIAN/control" <<'EOF'
Package: airlock-test
Version: 0.1.0
Architecture: amd64
Maintainer: Airlock tests <tests@localhost>
Description: signing test package
EOF
echo "a file inside the test package" >"$tmp/pkg/usr/share/doc/airlock-test/README"
must "build the test .deb" \
    dpkg-deb --root-owner-group -Zgzip --build "$tmp/pkg" "$dist/Airlock_0.1.0_amd64.deb"
head -c 65536 /dev/urandom >"$dist/Airlock_0.1.0_amd64.AppImage"
tar -C "$tmp/pkg" -cf "$dist/airlock-docs_0.1.0.tar" usr

keys_a=$tmp/keys-a
must "sign the dist with new development keys" sign_dev "$keys_a" "$dist"
pass "sign the dist with new development keys"
cp "$keys_a/minisign.pub" "$oob/a.pub"
cp "$dist/airlock-signing.pub.b64" "$oob/a.pub.b64"
cp "$dist/airlock-signing.gpg.asc" "$oob/a.gpg.asc"

listed=$(cut -c 67- "$dist/SHA256SUMS" | tr '\n' ' ')
want="Airlock_0.1.0_amd64.AppImage Airlock_0.1.0_amd64.deb Airlock_0.1.0_amd64.deb.asc"
want+=" airlock-docs_0.1.0.tar airlock-signing.gpg.asc airlock-signing.pub airlock-signing.pub.b64 "
if [[ "$listed" == "$want" ]]; then
    pass "SHA256SUMS lists every file but itself and its signature, sorted"
else
    fail "SHA256SUMS lists: $listed; expected: $want"
fi
if out=$(cd "$dist" && sha256sum --strict -c SHA256SUMS 2>&1); then
    pass "SHA256SUMS is in sha256sum -c format"
else
    fail "sha256sum -c SHA256SUMS" "$out"
fi
perms=$(stat -c %a "$keys_a" "$keys_a"/* | sort -u | tr '\n' ' ')
if [[ "$perms" == "600 700 " ]]; then
    pass "development keys are private (directory 700, files 600)"
else
    fail "development key permissions: $perms"
fi

# --------------------------------------------------------------- a good dist verifies
expect_ok "verify with the minisign .pub and the GPG key" \
    "$verify" "$dist" --key "$oob/a.pub" --gpg-key "$oob/a.gpg.asc"
expect_ok "verify with the base64 (Tauri) public key and the GPG key" \
    "$verify" "$dist" --key "$oob/a.pub.b64" --gpg-key "$oob/a.gpg.asc"
expect_ok "verify with the bare public key string" \
    "$verify" "$dist" --key "$(sed -n 2p "$oob/a.pub")"
out=$("$verify" "$dist" --key "$oob/a.pub" 2>&1) || true
if [[ "$(tail -n 1 <<<"$out")" == "OK: "*"GPG signatures were NOT checked"* ]]; then
    pass "without --gpg-key, verify says the .deb signatures were not checked"
else
    fail "verify without --gpg-key" "$out"
fi
if grep -qF "Airlock 0.1.0 SHA256SUMS signed" <<<"$out" && grep -qF "development key" <<<"$out"; then
    pass "the trusted comment names product, version, date and the development key"
else
    fail "trusted comment" "$out"
fi
expect_refused "verify refuses a public key taken from the dist itself" "inside DIST_DIR" \
    "$verify" "$dist" --key "$dist/airlock-signing.pub"
expect_refused "verify refuses a GPG key taken from the dist itself" "inside DIST_DIR" \
    "$verify" "$dist" --key "$oob/a.pub" --gpg-key "$dist/airlock-signing.gpg.asc"

cp -a "$dist" "$tmp/resigned"
must "sign an already signed dist again" sign_dev "$keys_a" "$tmp/resigned"
expect_ok "signing twice reuses the development keys and replaces the old signatures" \
    "$verify" "$tmp/resigned" --key "$oob/a.pub" --gpg-key "$oob/a.gpg.asc"

# ------------------------------------------------------ every changed byte is caught
while IFS= read -r -d '' name; do
    copy=$tmp/tampered/$name
    mkdir -p "$copy"
    cp -a "$dist/." "$copy/"
    flip_middle_byte "$copy/$name"
    expect_rejected "one byte changed in $name" "$name" \
        "$verify" "$copy" --key "$oob/a.pub" --gpg-key "$oob/a.gpg.asc"
done < <(find "$dist" -mindepth 1 -maxdepth 1 -type f -printf '%P\0' | LC_ALL=C sort -z)

copy=$tmp/comment
cp -a "$dist" "$copy"
sed -i 's/^\(trusted comment: Airlock\) 0\.1\.0/\1 9.9.9/' "$copy/SHA256SUMS.minisig"
expect_rejected "an edited trusted comment (version 0.1.0 -> 9.9.9)" SHA256SUMS.minisig \
    "$verify" "$copy" --key "$oob/a.pub"

# ---------------------------------------------------------------- other keys
keys_b=$tmp/keys-b
copy=$tmp/other-key
cp -a "$dist" "$copy"
must "sign a copy with a second development keypair" sign_dev "$keys_b" "$copy"
expect_rejected "a dist signed by another key, checked with the first" SHA256SUMS.minisig \
    "$verify" "$copy" --key "$oob/a.pub" --gpg-key "$oob/a.gpg.asc"

# The right minisign key with another GPG key: only the .deb signature check can catch it.
copy=$tmp/other-gpg-key
cp -a "$dist" "$copy"
must "sign with minisign key A and GPG key B" \
    env -u AIRLOCK_SIGNING_KEY_PASSWORD -u AIRLOCK_GPG_PASSPHRASE AIRLOCK_DEV_KEYS="$tmp/unused" \
    AIRLOCK_SIGNING_KEY="$(base64 -w 0 "$keys_a/minisign.key")" \
    AIRLOCK_GPG_PRIVATE_KEY="$(cat "$keys_b/gpg-secret.asc")" "$sign" "$copy"
expect_rejected "a .deb signed by another GPG key" Airlock_0.1.0_amd64.deb.asc \
    "$verify" "$copy" --key "$oob/a.pub" --gpg-key "$oob/a.gpg.asc"

# ------------------------------------------------------- missing and extra files
copy=$tmp/missing
cp -a "$dist" "$copy"
rm "$copy/Airlock_0.1.0_amd64.AppImage"
expect_rejected "a listed file is missing" Airlock_0.1.0_amd64.AppImage \
    "$verify" "$copy" --key "$oob/a.pub"
copy=$tmp/extra
cp -a "$dist" "$copy"
echo "not signed" >"$copy/install-me-too.sh"
expect_rejected "an extra unlisted file" install-me-too.sh "$verify" "$copy" --key "$oob/a.pub"
copy=$tmp/extra-hidden
cp -a "$dist" "$copy"
echo "not signed" >"$copy/.hidden"
expect_rejected "an extra hidden file" .hidden "$verify" "$copy" --key "$oob/a.pub"
copy=$tmp/extra-dir
cp -a "$dist" "$copy"
mkdir "$copy/payload"
expect_rejected "an extra directory" payload "$verify" "$copy" --key "$oob/a.pub"

# ------------------------------------------------------ release keys from the environment
minisign_password="correct horse battery staple"
gpg_passphrase="release gpg passphrase"
must "make a release minisign key" minisign -G -W -p "$tmp/release.pub" -s "$tmp/release-plain.key"
tauri_style_key "$tmp/release-plain.key" "$minisign_password" >"$tmp/release.key"
export GNUPGHOME=$tmp/gnupg-release
mkdir -m 700 "$GNUPGHOME"
must "make a release GPG key" gpg --batch --quiet --pinentry-mode loopback \
    --passphrase "$gpg_passphrase" --quick-gen-key "Airlock release test <release@localhost>" \
    ed25519 sign never
gpg --batch --quiet --armor --pinentry-mode loopback --passphrase "$gpg_passphrase" \
    --export-secret-keys >"$tmp/release-gpg-secret.asc"
gpg --batch --quiet --armor --export >"$oob/release.gpg.asc"
gpgconf --kill gpg-agent
unset GNUPGHOME

# Tauri prints the key as base64 of the key file (no trailing newline).
release_key=$(printf '%s' "$(cat "$tmp/release.key")" | base64 -w 0)
sign_release() { # DIST MINISIGN_PASSWORD
    env AIRLOCK_DEV_KEYS="$tmp/no-dev-keys" AIRLOCK_SIGNING_KEY="$release_key" \
        AIRLOCK_SIGNING_KEY_PASSWORD="$2" \
        AIRLOCK_GPG_PRIVATE_KEY="$(cat "$tmp/release-gpg-secret.asc")" \
        AIRLOCK_GPG_PASSPHRASE="$gpg_passphrase" "$sign" "$1"
}
copy=$tmp/release
cp -a "$dist" "$copy"
must "sign with release keys from the environment (password-protected)" \
    sign_release "$copy" "$minisign_password"
pass "sign with release keys from the environment (password-protected)"
expect_ok "a release-signed dist verifies with the release keys" \
    "$verify" "$copy" --key "$tmp/release.pub" --gpg-key "$oob/release.gpg.asc"
if [[ ! -e "$tmp/no-dev-keys" ]] && ! grep -q "development" "$copy/SHA256SUMS.minisig"; then
    pass "release signing neither makes nor mentions development keys"
else
    fail "release signing touched development keys" "$(cat "$copy/SHA256SUMS.minisig")"
fi
expect_rejected "a release-signed dist is rejected with the development key" SHA256SUMS.minisig \
    "$verify" "$copy" --key "$oob/a.pub"

out=$(sign_release "$tmp/resigned" "not-the-password-42" 2>&1) && rc=0 || rc=$?
if ((rc != 0)) && grep -qF AIRLOCK_SIGNING_KEY_PASSWORD <<<"$out" &&
    ! grep -qF -e "not-the-password-42" -e "$minisign_password" -e "$gpg_passphrase" <<<"$out"; then
    pass "a wrong key password fails, names the variable and echoes no secret"
else
    fail "wrong key password (exit $rc)" "$out"
fi
expect_refused "a release key without the GPG key is refused" \
    "AIRLOCK_GPG_PRIVATE_KEY is not" \
    env -u AIRLOCK_GPG_PRIVATE_KEY AIRLOCK_SIGNING_KEY="$release_key" "$sign" "$tmp/resigned"
expect_refused "development keys inside the repository are refused" "inside the repository" \
    sign_dev "$repo_root/installers/tests/keys-must-not-exist" "$tmp/resigned"
if [[ -e "$repo_root/installers/tests/keys-must-not-exist" ]]; then
    fail "a key directory was created inside the repository"
fi

# ------------------------------------------------------------------- lint
if command -v shellcheck >/dev/null 2>&1; then
    if out=$(shellcheck "$sign" "$verify" "${BASH_SOURCE[0]}" 2>&1); then
        pass "shellcheck: sign, verify, verify_test.sh"
    else
        fail "shellcheck" "$out"
    fi
else
    echo "SKIP  shellcheck is missing (apt-get install shellcheck)"
fi

finish
