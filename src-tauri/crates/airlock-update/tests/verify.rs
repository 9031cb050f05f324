//! `UpdateBundle::verify` on real signed bundles: what passes, and every way a bundle can be
//! wrong, each refused with nothing left in the staging directory.

mod common;

use airlock_update::semver::Version;
use airlock_update::{
    Limits, Target, TrustedKey, UpdateBundle, UpdateError, VerifiedUpdate, VerifyOptions,
};
use common::{
    flip_byte, good_members, manifest, members_for, payload_bytes, write_tar, Member, Scratch,
    Signer, PAYLOAD_NAME,
};

type Edit = fn(&mut serde_json::Value);

fn current() -> Version {
    Version::new(0, 1, 0)
}

fn options() -> VerifyOptions {
    VerifyOptions {
        target: Target::LinuxDebAmd64,
        limits: Limits::default(),
    }
}

fn verify(scratch: &Scratch, key: &TrustedKey) -> Result<VerifiedUpdate, UpdateError> {
    UpdateBundle::verify_with(
        &scratch.bundle(),
        key,
        &current(),
        &scratch.staging(),
        &options(),
    )
}

/// Verifies a bundle that must be refused; checks the staging directory is left empty.
fn refused(scratch: &Scratch, key: &TrustedKey) -> UpdateError {
    let err = match verify(scratch, key) {
        Ok(update) => panic!("accepted: {:?}", update.manifest()),
        Err(err) => err,
    };
    assert!(
        scratch.staged_files().is_empty(),
        "left behind after '{err}': {:?}",
        scratch.staged_files()
    );
    err
}

#[test]
fn a_good_bundle_verifies_in_any_order_and_stages_the_exact_package() {
    let signer = Signer::new();
    let payload = payload_bytes(300_000);
    let [m, s, p] = <[Member; 3]>::try_from(good_members(&signer, "0.2.0", &payload)).unwrap();
    for order in [
        vec![m.clone(), s.clone(), p.clone()],
        vec![p.clone(), s.clone(), m.clone()],
        vec![s.clone(), p.clone(), m.clone()],
        vec![m.clone(), p.clone(), s.clone()],
    ] {
        let scratch = Scratch::new();
        write_tar(&scratch.bundle(), &order);
        let update = verify(&scratch, &signer.trusted_key()).unwrap();
        assert_eq!(update.manifest().version, Version::new(0, 2, 0));
        assert_eq!(update.manifest().target, Target::LinuxDebAmd64);
        assert_eq!(update.manifest().notes, "Fixes the label printer restart.");
        assert_eq!(update.manifest().payload.name, PAYLOAD_NAME);
        assert_eq!(
            update.trusted_comment(),
            "Airlock 0.2.0 update signed 2026-03-01T12:00:00Z"
        );
        assert_eq!(update.key_id(), signer.trusted_key().key_id());
        assert!(update.payload_path().is_absolute());
        assert_eq!(std::fs::read(update.payload_path()).unwrap(), payload);
        assert_eq!(
            scratch.staged_files(),
            vec![update.payload_path().to_owned()]
        );
        drop(update);
        assert!(
            scratch.staged_files().is_empty(),
            "the staged package outlives its update"
        );
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn verify_uses_this_platforms_target() {
    let signer = Signer::new();
    let scratch = Scratch::new();
    write_tar(&scratch.bundle(), &good_members(&signer, "0.2.0", b"deb"));
    let update = UpdateBundle::verify(
        &scratch.bundle(),
        &signer.trusted_key(),
        &current(),
        &scratch.staging(),
    )
    .unwrap();
    assert_eq!(update.manifest().target, Target::LinuxDebAmd64);
}

#[test]
fn one_changed_byte_in_any_file_is_refused() {
    let signer = Signer::new();
    let key = signer.trusted_key();
    let payload = payload_bytes(10_000);
    let members = good_members(&signer, "0.2.0", &payload);
    let signature = String::from_utf8(members[1].data.clone()).unwrap();
    let lines: Vec<&str> = signature.lines().collect();
    // Offsets inside the signature: a character of the Ed25519 signature (past the key id),
    // one of the trusted comment, one of the global signature.
    let line_start = |n: usize| lines[..n].iter().map(|l| l.len() + 1).sum::<usize>() as u64;
    let cases = [
        ("update.json", 0, 40, "signature"),
        (
            "update.json",
            0,
            members[0].data.len() as u64 - 2,
            "signature",
        ),
        ("signature", 1, line_start(1) + 40, "signature"),
        ("trusted comment", 1, line_start(2) + 25, "signature"),
        ("global signature", 1, line_start(3) + 40, "signature"),
        ("package start", 2, 0, "payload"),
        ("package middle", 2, 5_000, "payload"),
        ("package end", 2, 9_999, "payload"),
    ];
    for (what, member, offset, expected) in cases {
        let scratch = Scratch::new();
        let starts = write_tar(&scratch.bundle(), &members);
        flip_byte(&scratch.bundle(), starts[member] + offset);
        let err = refused(&scratch, &key);
        let ok = match expected {
            "signature" => matches!(err, UpdateError::BadSignature { .. }),
            _ => matches!(err, UpdateError::PayloadMismatch { .. }),
        };
        assert!(ok, "{what}: {err}");
    }
}

#[test]
fn a_signature_by_another_key_is_refused_naming_both_keys() {
    let signer = Signer::new();
    let stranger = Signer::new();
    let payload = payload_bytes(1000);
    let scratch = Scratch::new();
    write_tar(
        &scratch.bundle(),
        &good_members(&stranger, "0.2.0", &payload),
    );
    let key = signer.trusted_key();
    let err = refused(&scratch, &key);
    let message = err.to_string();
    assert!(matches!(err, UpdateError::BadSignature { .. }), "{message}");
    assert!(
        message.contains(key.key_id()) && message.contains(stranger.trusted_key().key_id()),
        "{message}"
    );
    assert!(message.contains("do not install it"), "{message}");
}

#[test]
fn a_signature_over_other_bytes_with_the_right_key_is_refused() {
    // The real signature of another manifest (e.g. an older release's), with this manifest.
    let signer = Signer::new();
    let payload = payload_bytes(1000);
    let mut members = good_members(&signer, "0.2.0", &payload);
    let other = manifest("0.2.0", &payload, |v| v["notes"] = "other notes".into());
    members[1].data = signer.sign(&other, "Airlock 0.2.0 update");
    let scratch = Scratch::new();
    write_tar(&scratch.bundle(), &members);
    let err = refused(&scratch, &signer.trusted_key());
    assert!(matches!(err, UpdateError::BadSignature { .. }), "{err}");
}

#[test]
fn the_same_or_an_older_version_is_refused_naming_both() {
    let signer = Signer::new();
    for version in ["0.1.0", "0.0.9", "0.1.0-beta.1"] {
        let scratch = Scratch::new();
        write_tar(&scratch.bundle(), &good_members(&signer, version, b"deb"));
        let err = refused(&scratch, &signer.trusted_key());
        let message = err.to_string();
        assert!(matches!(err, UpdateError::NotNewer { .. }), "{message}");
        assert!(
            message.contains(&format!("Airlock {version}")) && message.contains("Airlock 0.1.0"),
            "{message}"
        );
    }
}

#[test]
fn another_product_target_or_format_is_refused_although_signed() {
    let signer = Signer::new();
    let payload = b"deb".to_vec();
    let edits: [(&str, Edit); 4] = [
        ("product", |v| v["product"] = "airlock-evil".into()),
        ("target", |v| v["target"] = "linux-appimage-amd64".into()),
        ("windows", |v| v["target"] = "windows-msi-amd64".into()),
        ("format", |v| v["format"] = 2.into()),
    ];
    for (what, edit) in edits {
        let scratch = Scratch::new();
        let manifest = manifest("0.2.0", &payload, edit);
        write_tar(
            &scratch.bundle(),
            &members_for(&signer, &manifest, &payload),
        );
        let err = refused(&scratch, &signer.trusted_key());
        let ok = match what {
            "product" => matches!(err, UpdateError::WrongProduct { .. }),
            "format" => matches!(err, UpdateError::UnsupportedFormat { found: 2, .. }),
            _ => {
                matches!(&err, UpdateError::WrongTarget { expected, .. } if expected == "linux-deb-amd64")
            }
        };
        assert!(ok, "{what}: {err}");
    }
}

#[test]
fn extra_duplicate_linked_and_escaping_entries_are_refused() {
    let signer = Signer::new();
    let payload = payload_bytes(2000);
    let good = good_members(&signer, "0.2.0", &payload);
    let with = |extra: Member, at: usize| {
        let mut members = good.clone();
        members.insert(at, extra);
        members
    };
    let cases: Vec<(&str, Vec<Member>)> = vec![
        (
            "extra file",
            with(Member::file("install.sh", b"#!/bin/sh\n"), 3),
        ),
        (
            "extra file first",
            with(Member::file("README", b"hello"), 0),
        ),
        (
            "second package",
            with(Member::file("Other_0.2.0_amd64.deb", b"x"), 3),
        ),
        ("parent path", with(Member::file("../x", b"x"), 1)),
        (
            "nested parent path",
            with(Member::file("a/../../x.deb", b"x"), 0),
        ),
        (
            "absolute path",
            with(Member::file("/etc/cron.d/x", b"x"), 0),
        ),
        ("path", with(Member::file("dir/update.json", b"x"), 3)),
        (
            "dot path",
            with(Member::file("./Airlock_0.2.0_amd64.deb", b"x"), 3),
        ),
        ("directory", with(Member::file("update", b"").kind(b'5'), 0)),
        (
            "symlink",
            with(
                Member::file("evil.deb", b"")
                    .kind(b'2')
                    .link_to("/etc/shadow"),
                0,
            ),
        ),
        (
            "hard link",
            with(
                Member::file("evil.deb", b"")
                    .kind(b'1')
                    .link_to("update.json"),
                3,
            ),
        ),
        ("fifo", with(Member::file("pipe", b"").kind(b'6'), 0)),
        (
            "pax header",
            with(
                Member::file("PaxHeaders/x", b"20 path=update.json\n").kind(b'x'),
                0,
            ),
        ),
        (
            "gnu long name",
            with(
                Member::file("././@LongLink", b"update.json\0").kind(b'L'),
                0,
            ),
        ),
        ("duplicate manifest", with(good[0].clone(), 3)),
        ("duplicate signature", with(good[1].clone(), 2)),
        ("duplicate package", with(good[2].clone(), 3)),
    ];
    for (what, members) in cases {
        let scratch = Scratch::new();
        write_tar(&scratch.bundle(), &members);
        let err = refused(&scratch, &signer.trusted_key());
        assert!(
            matches!(err, UpdateError::UnexpectedEntry { .. }),
            "{what}: {err}"
        );
    }

    // The payload as a symlink under its own name.
    let mut members = good.clone();
    members[2] = Member::file(PAYLOAD_NAME, b"")
        .kind(b'2')
        .link_to("/etc/shadow");
    let scratch = Scratch::new();
    write_tar(&scratch.bundle(), &members);
    let err = refused(&scratch, &signer.trusted_key());
    assert!(err.to_string().contains("a link"), "{err}");
}

#[test]
fn a_package_other_than_the_one_named_is_refused_in_either_order() {
    let signer = Signer::new();
    let payload = payload_bytes(2000);
    let mut members = good_members(&signer, "0.2.0", &payload);
    members[2].name = b"Airlock_0.2.0_amd64-other.deb".to_vec();
    for reversed in [false, true] {
        let mut members = members.clone();
        if reversed {
            members.reverse();
        }
        let scratch = Scratch::new();
        write_tar(&scratch.bundle(), &members);
        let err = refused(&scratch, &signer.trusted_key());
        assert!(
            matches!(err, UpdateError::UnexpectedEntry { .. }),
            "reversed {reversed}: {err}"
        );
    }
}

#[test]
fn missing_files_are_refused() {
    let signer = Signer::new();
    let payload = payload_bytes(2000);
    let good = good_members(&signer, "0.2.0", &payload);
    for missing in 0..3 {
        let mut members = good.clone();
        members.remove(missing);
        let scratch = Scratch::new();
        write_tar(&scratch.bundle(), &members);
        let err = refused(&scratch, &signer.trusted_key());
        assert!(
            matches!(err, UpdateError::MissingEntry { .. }),
            "{missing}: {err}"
        );
    }
    let scratch = Scratch::new();
    write_tar(&scratch.bundle(), &[]);
    let err = refused(&scratch, &signer.trusted_key());
    assert!(
        matches!(err, UpdateError::MissingEntry { .. }),
        "empty: {err}"
    );
}

#[test]
fn oversize_entries_are_refused_before_they_are_read() {
    let signer = Signer::new();
    let payload = payload_bytes(1000);
    let key = signer.trusted_key();

    // A signed update.json over 64 KiB.
    let big_notes = manifest("0.2.0", &payload, |v| {
        v["notes"] = "x".repeat(70_000).into();
    });
    let scratch = Scratch::new();
    write_tar(
        &scratch.bundle(),
        &members_for(&signer, &big_notes, &payload),
    );
    let err = refused(&scratch, &key);
    assert!(
        matches!(&err, UpdateError::TooLarge { name, limit: 65_536, .. } if name == "update.json"),
        "{err}"
    );

    // A signature over 4 KiB (a huge untrusted comment).
    let mut members = good_members(&signer, "0.2.0", &payload);
    let mut signature = format!("untrusted comment: {}\n", "y".repeat(5000)).into_bytes();
    let original = members[1].data.clone();
    let rest = original
        .split(|&b| b == b'\n')
        .skip(1)
        .collect::<Vec<_>>()
        .join(&b'\n');
    signature.extend_from_slice(&rest);
    members[1].data = signature;
    let scratch = Scratch::new();
    write_tar(&scratch.bundle(), &members);
    let err = refused(&scratch, &key);
    assert!(
        matches!(&err, UpdateError::TooLarge { name, limit: 4096, .. } if name == "update.json.minisig"),
        "{err}"
    );

    // A package header declaring more than 2 GiB: refused from the header alone, before
    // anything is staged (the data is not even there).
    for first in [false, true] {
        let mut members = good_members(&signer, "0.2.0", &payload);
        members[2] = Member::file(PAYLOAD_NAME, b"").declaring((2 << 30) + 1);
        if first {
            members.rotate_right(1);
        }
        let scratch = Scratch::new();
        write_tar(&scratch.bundle(), &members);
        let err = refused(&scratch, &key);
        assert!(
            matches!(err, UpdateError::TooLarge { limit, .. } if limit == 2 << 30),
            "first {first}: {err}"
        );
    }

    // A signed manifest announcing more than the cap.
    let huge = manifest("0.2.0", &payload, |v| {
        v["payload"]["size"] = (3u64 << 30).into();
    });
    let scratch = Scratch::new();
    write_tar(&scratch.bundle(), &members_for(&signer, &huge, &payload));
    let err = refused(&scratch, &key);
    assert!(matches!(err, UpdateError::Manifest { .. }), "{err}");

    // A real package over a smaller cap, before the manifest (which would announce it as too
    // big, see above).
    let scratch = Scratch::new();
    let mut members = good_members(&signer, "0.2.0", &payload);
    members.rotate_right(1);
    write_tar(&scratch.bundle(), &members);
    let small = VerifyOptions {
        limits: Limits {
            payload: 999,
            ..Limits::default()
        },
        ..options()
    };
    let err = UpdateBundle::verify_with(
        &scratch.bundle(),
        &key,
        &current(),
        &scratch.staging(),
        &small,
    )
    .unwrap_err();
    assert!(
        matches!(err, UpdateError::TooLarge { size: 1000, .. }),
        "{err}"
    );
    assert!(scratch.staged_files().is_empty());
}

#[test]
fn a_staged_package_is_removed_when_a_later_check_fails() {
    // The package comes first and is staged; the signature after it is bad.
    let signer = Signer::new();
    let stranger = Signer::new();
    let payload = payload_bytes(100_000);
    let mut members = good_members(&stranger, "0.2.0", &payload);
    members.rotate_right(1);
    let scratch = Scratch::new();
    write_tar(&scratch.bundle(), &members);
    let err = refused(&scratch, &signer.trusted_key());
    assert!(matches!(err, UpdateError::BadSignature { .. }), "{err}");

    // The package's size differs from the signed manifest's (a package from another build).
    let mut members = good_members(&signer, "0.2.0", &payload);
    members[2].data.truncate(99_999);
    members.rotate_right(1);
    let scratch = Scratch::new();
    write_tar(&scratch.bundle(), &members);
    let err = refused(&scratch, &signer.trusted_key());
    assert!(matches!(err, UpdateError::PayloadMismatch { .. }), "{err}");
}

#[test]
fn a_truncated_or_compressed_file_is_not_a_bundle() {
    let signer = Signer::new();
    let payload = payload_bytes(50_000);
    let scratch = Scratch::new();
    write_tar(&scratch.bundle(), &good_members(&signer, "0.2.0", &payload));
    let bytes = std::fs::read(scratch.bundle()).unwrap();
    std::fs::write(scratch.bundle(), &bytes[..bytes.len() - 30_000]).unwrap();
    let err = refused(&scratch, &signer.trusted_key());
    assert!(
        matches!(
            err,
            UpdateError::NotABundle { .. } | UpdateError::Read { .. }
        ),
        "{err}"
    );

    let gzip = [0x1f, 0x8b, 0x08, 0x00].repeat(200);
    std::fs::write(scratch.bundle(), gzip).unwrap();
    let err = refused(&scratch, &signer.trusted_key());
    assert!(matches!(err, UpdateError::NotABundle { .. }), "{err}");

    std::fs::remove_file(scratch.bundle()).unwrap();
    let err = refused(&scratch, &signer.trusted_key());
    assert!(matches!(err, UpdateError::Read { .. }), "{err}");
}

#[test]
fn install_refuses_a_staged_package_changed_after_verification() {
    let signer = Signer::new();
    let payload = payload_bytes(5000);
    let scratch = Scratch::new();
    write_tar(&scratch.bundle(), &good_members(&signer, "0.2.0", &payload));
    let update = verify(&scratch, &signer.trusted_key()).unwrap();
    flip_byte(update.payload_path(), 100);
    // Random bytes, not a .deb: even if this check were missing, dpkg-deb would refuse the
    // package before anything could be installed.
    let err = update.install().unwrap_err();
    assert!(
        matches!(err, UpdateError::StagedPayloadChanged { .. }),
        "{err}"
    );
}
