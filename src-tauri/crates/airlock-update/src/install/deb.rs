//! `linux-deb-amd64`: the package's control fields checked with `dpkg-deb`, then `dpkg -i`,
//! through `pkexec` unless already root.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use semver::Version;

use super::{output_text, InstallOutcome};
use crate::UpdateError;

/// The Debian package name of Airlock.
pub(crate) const PACKAGE: &str = "airlock";

/// pkexec's exit statuses when the administrator did not authenticate or is not allowed.
const PKEXEC_NOT_AUTHORIZED: [i32; 2] = [126, 127];

/// Checks the package, then installs it.
pub(super) fn install(deb: &Path, version: &Version) -> Result<InstallOutcome, UpdateError> {
    check_package(deb, version)?;
    let argv = install_argv(deb, is_root(), find_program)?;
    let command = display(&argv);
    tracing::info!(command, "installing the update");
    let output = Command::new(&argv[0])
        .args(&argv[1..])
        .output()
        .map_err(|source| UpdateError::Spawn {
            command: command.clone(),
            source,
        })?;
    let text = output_text(&output);
    if output.status.success() {
        return Ok(InstallOutcome {
            version: version.clone(),
            command,
            output: text,
        });
    }
    let via_pkexec = argv[0].to_string_lossy().ends_with("pkexec");
    match output.status.code() {
        Some(code) if via_pkexec && PKEXEC_NOT_AUTHORIZED.contains(&code) => {
            Err(UpdateError::NotAuthorized { output: text })
        }
        _ => Err(UpdateError::InstallFailed {
            command,
            status: output.status.to_string(),
            output: text,
        }),
    }
}

/// Refuses a package whose control fields are not `Package: airlock` and the manifest's
/// version: the signed manifest speaks for the bundle, and the package must agree with it.
pub(crate) fn check_package(deb: &Path, version: &Version) -> Result<(), UpdateError> {
    let output = Command::new("dpkg-deb")
        .arg("-f")
        .arg(deb)
        .args(["Package", "Version"])
        .output()
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => UpdateError::ToolMissing {
                tool: "dpkg-deb",
                hint: "this is not a Debian system, or dpkg is broken: `apt-get install dpkg`",
            },
            _ => UpdateError::Spawn {
                command: "dpkg-deb -f".into(),
                source,
            },
        })?;
    if !output.status.success() {
        return Err(UpdateError::BadPackage {
            reason: format!("dpkg-deb: {}", output_text(&output)),
        });
    }
    let fields = String::from_utf8_lossy(&output.stdout);
    let field = |name: &str| {
        fields
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .map(|value| value.trim().to_owned())
            .unwrap_or_default()
    };
    let expected_version = version.to_string();
    for (name, found, want) in [
        ("Package", field("Package"), PACKAGE),
        ("Version", field("Version"), expected_version.as_str()),
    ] {
        if found != want {
            return Err(UpdateError::PackageMismatch {
                field: name,
                found,
                expected_package: PACKAGE,
                expected_version: expected_version.clone(),
            });
        }
    }
    Ok(())
}

/// The installer's argv: `dpkg -i DEB` as root, else `pkexec dpkg -i DEB`; programs by
/// absolute path (`find` looks them up in PATH).
pub(crate) fn install_argv(
    deb: &Path,
    root: bool,
    find: impl Fn(&str) -> Option<PathBuf>,
) -> Result<Vec<OsString>, UpdateError> {
    let dpkg = find("dpkg").ok_or(UpdateError::ToolMissing {
        tool: "dpkg",
        hint: "Airlock's offline updates install Debian packages: `apt-get install dpkg`",
    })?;
    let mut argv = Vec::new();
    if !root {
        let pkexec = find("pkexec").ok_or(UpdateError::ToolMissing {
            tool: "pkexec",
            hint: "installing needs administrator rights: `apt-get install pkexec` (from your \
                   offline mirror), or run `sudo airlock update apply FILE`",
        })?;
        argv.push(pkexec.into_os_string());
    }
    argv.extend([
        dpkg.into_os_string(),
        "-i".into(),
        deb.as_os_str().to_owned(),
    ]);
    Ok(argv)
}

/// A program in PATH.
fn find_program(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn display(argv: &[OsString]) -> String {
    argv.iter()
        .map(|arg| arg.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real .deb, built with dpkg-deb --build.
    fn build_deb(dir: &Path, package: &str, version: &str) -> PathBuf {
        let root = dir.join(format!("{package}-{version}"));
        std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
        std::fs::create_dir_all(root.join("usr/share/doc").join(package)).unwrap();
        std::fs::write(
            root.join("DEBIAN/control"),
            format!(
                "Package: {package}\nVersion: {version}\nArchitecture: amd64\n\
                 Maintainer: Airlock tests <tests@localhost>\nDescription: update test\n"
            ),
        )
        .unwrap();
        std::fs::write(root.join("usr/share/doc").join(package).join("README"), "x").unwrap();
        let deb = dir.join(format!("{package}_{version}_amd64.deb"));
        let status = Command::new("dpkg-deb")
            .args(["--root-owner-group", "-Zgzip", "--build"])
            .arg(&root)
            .arg(&deb)
            .output()
            .expect("dpkg-deb is needed for these tests: apt-get install dpkg");
        assert!(status.status.success(), "{}", output_text(&status));
        deb
    }

    #[test]
    fn the_package_must_be_airlock_at_the_manifest_version() {
        let dir = tempfile::tempdir().unwrap();
        let version = Version::new(0, 2, 0);
        let good = build_deb(dir.path(), "airlock", "0.2.0");
        check_package(&good, &version).unwrap();

        let other_version = build_deb(dir.path(), "airlock", "0.2.1");
        let err = check_package(&other_version, &version).unwrap_err();
        assert!(
            matches!(&err, UpdateError::PackageMismatch { field: "Version", found, .. } if found == "0.2.1"),
            "{err}"
        );
        let other_package = build_deb(dir.path(), "airlock-evil", "0.2.0");
        let err = check_package(&other_package, &version).unwrap_err();
        assert!(
            matches!(&err, UpdateError::PackageMismatch { field: "Package", found, .. } if found == "airlock-evil"),
            "{err}"
        );
        assert!(err.to_string().contains("nothing was installed"), "{err}");

        let junk = dir.path().join("junk.deb");
        std::fs::write(&junk, b"!<arch>\nnot really").unwrap();
        let err = check_package(&junk, &version).unwrap_err();
        assert!(matches!(err, UpdateError::BadPackage { .. }), "{err}");
    }

    #[test]
    fn root_runs_dpkg_and_anyone_else_goes_through_pkexec() {
        let deb = Path::new("/var/lib/airlock/updates/airlock-update-x.deb");
        let all = |name: &str| Some(PathBuf::from("/usr/bin").join(name));
        let as_root = install_argv(deb, true, all).unwrap();
        assert_eq!(
            display(&as_root),
            format!("/usr/bin/dpkg -i {}", deb.display())
        );
        let as_user = install_argv(deb, false, all).unwrap();
        assert_eq!(
            display(&as_user),
            format!("/usr/bin/pkexec /usr/bin/dpkg -i {}", deb.display())
        );

        let no_pkexec =
            |name: &str| (name != "pkexec").then(|| PathBuf::from("/usr/bin").join(name));
        assert!(install_argv(deb, true, no_pkexec).is_ok());
        let err = install_argv(deb, false, no_pkexec).unwrap_err().to_string();
        assert!(
            err.contains("apt-get install pkexec") && err.contains("sudo airlock update apply"),
            "{err}"
        );
        let err = install_argv(deb, true, |_| None).unwrap_err();
        assert!(
            matches!(err, UpdateError::ToolMissing { tool: "dpkg", .. }),
            "{err}"
        );
    }
}
