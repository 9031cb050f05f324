//! Fuzzes `CommandGuard::check` and asserts what an accepted command guarantees.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use airlock_policy::guards::command::{
    tokenize, CommandGuard, CommandGuardConfig, GLOB_CHARACTERS, METACHARACTERS, SANDBOX_ROOT,
};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    guard: CommandGuard,
    jail: PathBuf,
    allowed: Vec<String>,
}

/// A jail with a file, a symbolic link inside it and one leading out of it; the same directory
/// is reused by every run.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let base = std::env::temp_dir().join("airlock-policy-fuzz-command");
        let jail = base.join("jail");
        let outside = base.join("outside");
        std::fs::create_dir_all(jail.join("logs")).expect("create the jail");
        std::fs::create_dir_all(&outside).expect("create the outside directory");
        std::fs::write(jail.join("logs/syslog"), "line\n").expect("write a fixture");
        std::fs::write(outside.join("secret"), "secret\n").expect("write a fixture");
        for (link, target) in [("escape", outside.clone()), ("current", jail.join("logs"))] {
            let link = jail.join(link);
            if std::fs::symlink_metadata(&link).is_err() {
                std::os::unix::fs::symlink(target, link).expect("create a symbolic link");
            }
        }
        let config = CommandGuardConfig::default();
        let allowed = config.allowed_programs.clone();
        Fixture {
            guard: CommandGuard::new(config, jail.clone()),
            jail: std::fs::canonicalize(&jail).expect("canonical jail"),
            allowed,
        }
    })
}

fn assert_sandbox_path(path: &str, jail: &Path) {
    assert!(
        path == SANDBOX_ROOT || path.starts_with("/sim/"),
        "path outside /sim: {path:?}"
    );
    let parts: Vec<&str> = path.split('/').skip(2).collect();
    assert!(!parts.contains(&".."), "`..` in an accepted path: {path:?}");
    let host = jail.join(parts.join("/"));
    if let Ok(resolved) = std::fs::canonicalize(&host) {
        assert!(
            resolved.starts_with(jail),
            "{path:?} resolves to {resolved:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(command) = std::str::from_utf8(data) else {
        return;
    };
    let fixture = fixture();
    let Ok(checked) = fixture.guard.check(command) else {
        return;
    };
    assert!(command.len() <= 1024);
    for c in command.chars() {
        assert!(
            !METACHARACTERS.contains(&c),
            "metacharacter {c:?} accepted in {command:?}"
        );
        assert!(
            !GLOB_CHARACTERS.contains(&c),
            "glob {c:?} accepted in {command:?}"
        );
        assert!(
            c == '\t' || !c.is_control(),
            "control {c:?} accepted in {command:?}"
        );
    }
    assert!(fixture.allowed.contains(&checked.program));
    assert!(!checked.program.contains('/'));
    assert!(checked.args.len() <= 32);
    let words = tokenize(command).expect("an accepted command tokenizes");
    assert_eq!(words.first(), Some(&checked.program));
    assert_eq!(&words[1..], checked.args.as_slice());
    for path in &checked.paths {
        assert_sandbox_path(path, &fixture.jail);
    }
    // Every path-like argument was reported as a path.
    let mut expected_paths = 0;
    for arg in &checked.args {
        let value = if arg.starts_with('-') && arg.len() > 1 {
            match arg.split_once('=') {
                Some((_, value)) => value,
                None => {
                    assert!(!arg.contains('/') && !arg.contains(".."), "{arg:?}");
                    continue;
                }
            }
        } else {
            arg.as_str()
        };
        if value.contains('/') || value == "." || value == ".." {
            expected_paths += 1;
        }
    }
    assert_eq!(expected_paths, checked.paths.len(), "{command:?}");
});
