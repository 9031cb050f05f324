//! Command guard for the `run_command` tool.
//!
//! The command runs in a sandbox where the plant fixtures are mounted read-only at
//! [`SANDBOX_ROOT`] (`/sim`). The guard accepts one simple command — a bare program name from
//! an allowlist followed by plain words — and refuses everything a shell would interpret:
//!
//! * shell metacharacters `; | & $ ( ) ` < > # !`, newline, carriage return and NUL, **anywhere**,
//!   even inside quotes (a quoted metacharacter is harmless to a real shell, but refusing it
//!   keeps the rule simple to state and removes any dependence on how the command is run later);
//! * glob characters `* ? [ ] { }` and `~`, anywhere: the sandbox does not expand them, so the
//!   model has to name files explicitly;
//! * other control characters.
//!
//! The rest is split into words like a POSIX shell does: single quotes keep everything
//! literally, double quotes keep everything but `\"` and `\\`, a backslash outside quotes
//! escapes the next character; an unterminated quote or a trailing backslash is refused.
//!
//! The program must be a bare name (no `/`), must not be on the blocklist (the blocklist wins
//! over the allowlist) and must be on the allowlist. Every argument that looks like a path —
//! it starts with `/`, contains `/`, or is `.` or `..` — and every path attached to an option
//! (`--file=/sim/x`) must be absolute under `/sim`, without `..`, and must stay inside the jail
//! once symbolic links are resolved on the host. An option with a path glued to it without
//! `=` (`-f/etc/passwd`) is refused: the path has to be given as its own argument.
//!
//! Words without `/` (`syslog`, `-n`, `20`) are not paths to this guard: the sandbox must run
//! the command with `/sim` as its working directory.
//!
//! Paths are checked against the host file system at check time; the fixtures are read-only,
//! so they cannot change between the check and the run.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Violation;

/// Where the sandbox mounts the plant fixtures; every path argument must be under it.
pub const SANDBOX_ROOT: &str = "/sim";

/// Characters a shell interprets, refused anywhere in the command (rule `command.metacharacter`).
pub const METACHARACTERS: &[char] = &[
    ';', '|', '&', '$', '(', ')', '`', '<', '>', '#', '!', '\n', '\r', '\0',
];

/// Glob and home-directory characters, refused anywhere in the command (rule `command.glob`).
pub const GLOB_CHARACTERS: &[char] = &['*', '?', '[', ']', '{', '}', '~'];

/// Settings of the command guard (the `[command]` section of `policy/guards.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CommandGuardConfig {
    /// Programs that may run, as bare names.
    pub allowed_programs: Vec<String>,
    /// Programs that never run, even if also allowlisted. An entry also blocks its versioned
    /// forms: `python` blocks `python3` and `python3.11`, `mkfs` blocks `mkfs.ext4`.
    pub blocked_programs: Vec<String>,
    /// Longest accepted command, in bytes.
    pub max_length: usize,
    /// Most arguments accepted after the program name.
    pub max_args: usize,
}

impl Default for CommandGuardConfig {
    fn default() -> Self {
        Self {
            allowed_programs: to_strings(&[
                "cat", "ls", "head", "tail", "grep", "wc", "echo", "date", "hostname",
            ]),
            blocked_programs: to_strings(&[
                // deleting, moving and changing files
                "rm",
                "rmdir",
                "mv",
                "cp",
                "ln",
                "dd",
                "shred",
                "truncate",
                "touch",
                "mkdir",
                "install",
                "tee",
                "chmod",
                "chown",
                "chgrp",
                "chattr",
                "mkfs",
                "mount",
                "umount",
                "fdisk",
                "parted",
                // processes and power
                "kill",
                "killall",
                "pkill",
                "shutdown",
                "reboot",
                "halt",
                "poweroff",
                "init",
                "systemctl",
                "service",
                // network
                "curl",
                "wget",
                "nc",
                "ncat",
                "netcat",
                "socat",
                "ssh",
                "scp",
                "sftp",
                "ftp",
                "telnet",
                "rsync",
                // shells, interpreters and programs that run other programs
                "sh",
                "bash",
                "dash",
                "zsh",
                "ksh",
                "csh",
                "tcsh",
                "fish",
                "busybox",
                "env",
                "exec",
                "eval",
                "source",
                "xargs",
                "find",
                "nohup",
                "timeout",
                "nice",
                "watch",
                "sudo",
                "su",
                "doas",
                "python",
                "perl",
                "ruby",
                "node",
                "php",
                "lua",
                "awk",
                "gawk",
                "mawk",
                "sed",
                "vi",
                "vim",
                "less",
                "more",
                "crontab",
                "at",
            ]),
            max_length: 1024,
            max_args: 32,
        }
    }
}

fn to_strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// A command the guard accepted, split into words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckedCommand {
    /// The program, a bare name from the allowlist.
    pub program: String,
    /// The arguments after the program, unquoted, as the program will receive them.
    pub args: Vec<String>,
    /// Every path found in the arguments, as a normalised sandbox path under `/sim`.
    pub paths: Vec<String>,
}

/// The command guard; build it once from its config and the host directory behind `/sim`.
#[derive(Debug, Clone)]
pub struct CommandGuard {
    allowed: BTreeSet<String>,
    blocked: BTreeSet<String>,
    max_length: usize,
    max_args: usize,
    jail_root: PathBuf,
}

impl CommandGuard {
    /// A guard with `config`, where `jail_root` is the host directory the sandbox mounts at
    /// `/sim`. The jail root is resolved at every check, so a guard built before the fixtures are
    /// mounted works once they are; while it cannot be resolved, every path is refused.
    #[must_use]
    pub fn new(config: CommandGuardConfig, jail_root: PathBuf) -> Self {
        Self {
            allowed: config.allowed_programs.into_iter().collect(),
            blocked: config
                .blocked_programs
                .into_iter()
                .map(|p| p.to_lowercase())
                .collect(),
            max_length: config.max_length,
            max_args: config.max_args,
            jail_root,
        }
    }

    /// Checks `command` and returns it split into words, or the first rule it breaks.
    pub fn check(&self, command: &str) -> Result<CheckedCommand, Violation> {
        if command.len() > self.max_length {
            return Err(Violation::new(
                "command.too_long",
                format!(
                    "the command is {} bytes long; at most {} are accepted",
                    command.len(),
                    self.max_length
                ),
            ));
        }
        if command.trim().is_empty() {
            return Err(Violation::new(
                "command.empty",
                "the command is empty; give a program and its arguments, e.g. `tail -n 20 /sim/logs/syslog`",
            ));
        }
        check_characters(command)?;
        let words = tokenize(command)?;
        let Some((program, args)) = words.split_first() else {
            return Err(Violation::new(
                "command.empty",
                "the command has no words; give a program and its arguments",
            ));
        };
        if args.len() > self.max_args {
            return Err(Violation::new(
                "command.too_many_args",
                format!(
                    "the command has {} arguments; at most {} are accepted",
                    args.len(),
                    self.max_args
                ),
            ));
        }
        self.check_program(program)?;

        let mut paths = Vec::new();
        let mut jail: Option<PathBuf> = None;
        for arg in args {
            if let Some(path) = path_in_argument(arg)? {
                let jail = match &jail {
                    Some(jail) => jail,
                    None => jail.insert(self.canonical_jail()?),
                };
                paths.push(check_path(path, jail)?);
            }
        }
        Ok(CheckedCommand {
            program: program.clone(),
            args: args.to_vec(),
            paths,
        })
    }

    fn check_program(&self, program: &str) -> Result<(), Violation> {
        let base = program.rsplit('/').next().unwrap_or(program);
        if self.is_blocked(base) {
            return Err(Violation::new(
                "command.program_blocked",
                format!(
                    "`{program}` is blocked; use one of the allowed programs: {}",
                    self.allowed_list()
                ),
            ));
        }
        if program.contains('/') {
            return Err(Violation::new(
                "command.program_path",
                format!(
                    "give the program as a bare name, not a path (`{program}`); allowed programs: {}",
                    self.allowed_list()
                ),
            ));
        }
        if !self.allowed.contains(program) {
            return Err(Violation::new(
                "command.program_not_allowed",
                format!(
                    "`{program}` is not an allowed program; use one of: {}",
                    self.allowed_list()
                ),
            ));
        }
        Ok(())
    }

    /// Whether `program` is a blocklist entry or a versioned form of one (`python3`,
    /// `mkfs.ext4`). Case is ignored.
    fn is_blocked(&self, program: &str) -> bool {
        let program = program.to_lowercase();
        if self.blocked.contains(&program) {
            return true;
        }
        self.blocked.iter().any(|entry| {
            program
                .strip_prefix(entry.as_str())
                .and_then(|rest| rest.chars().next())
                .is_some_and(|c| c.is_ascii_digit() || c == '.' || c == '-')
        })
    }

    fn allowed_list(&self) -> String {
        let names: Vec<&str> = self
            .allowed
            .iter()
            .filter(|p| !self.is_blocked(p))
            .map(String::as_str)
            .collect();
        names.join(", ")
    }

    fn canonical_jail(&self) -> Result<PathBuf, Violation> {
        std::fs::canonicalize(&self.jail_root).map_err(|_| {
            Violation::new(
                "command.path_escape",
                format!(
                    "the sandbox directory behind {SANDBOX_ROOT} is not available, so no path can be checked; run the command without path arguments"
                ),
            )
        })
    }
}

/// Refuses metacharacters, glob characters and control characters anywhere in `command`.
fn check_characters(command: &str) -> Result<(), Violation> {
    for (index, c) in command.char_indices() {
        if METACHARACTERS.contains(&c) {
            return Err(Violation::new(
                "command.metacharacter",
                format!(
                    "the shell metacharacter {} at byte {index} is not accepted, even inside quotes; run one simple command without ; | & $ ( ) < > # ! backquotes or line breaks",
                    describe(c)
                ),
            ));
        }
        if GLOB_CHARACTERS.contains(&c) {
            return Err(Violation::new(
                "command.glob",
                format!(
                    "{} at byte {index} is not accepted, even inside quotes: nothing is expanded, so name each file by its full path under {SANDBOX_ROOT} and avoid `* ? [ ] {{ }} ~`",
                    describe(c)
                ),
            ));
        }
        if c.is_control() && c != '\t' {
            return Err(Violation::new(
                "command.control_character",
                format!(
                    "the control character {} at byte {index} is not accepted; use plain text separated by spaces",
                    describe(c)
                ),
            ));
        }
    }
    Ok(())
}

fn describe(c: char) -> String {
    match c {
        '\n' => "newline".to_owned(),
        '\r' => "carriage return".to_owned(),
        '\0' => "NUL".to_owned(),
        c if c.is_control() => format!("U+{:04X}", u32::from(c)),
        c => format!("`{c}`"),
    }
}

/// Splits `command` into words like a POSIX shell (without any expansion).
///
/// Single quotes keep everything up to the next single quote; double quotes keep everything up
/// to the next unescaped double quote, where a backslash escapes only `"` and `\`; a backslash
/// outside quotes escapes the next character. An unterminated quote or a trailing backslash is
/// refused. Spaces and tabs separate words; an empty quoted word (`''`) is a word.
///
/// This never panics on any input.
pub fn tokenize(command: &str) -> Result<Vec<String>, Violation> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(unterminated("single quote")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(unterminated("double quote")),
                        },
                        Some(c) => word.push(c),
                        None => return Err(unterminated("double quote")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => {
                        return Err(Violation::new(
                            "command.unterminated_quote",
                            "the command ends with a backslash that escapes nothing; remove it",
                        ))
                    }
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

fn unterminated(quote: &str) -> Violation {
    Violation::new(
        "command.unterminated_quote",
        format!("a {quote} is never closed; close every quote you open"),
    )
}

/// The path an argument carries, if any: the argument itself when it looks like a path, the
/// value after `=` for an option. Refuses an option with a path glued to it without `=`.
fn path_in_argument(arg: &str) -> Result<Option<&str>, Violation> {
    if arg.starts_with('-') && arg.len() > 1 {
        if let Some((_, value)) = arg.split_once('=') {
            return Ok(looks_like_path(value).then_some(value));
        }
        if arg.contains('/') || arg.contains("..") {
            return Err(Violation::new(
                "command.path_escape",
                format!(
                    "the option `{arg}` has a path attached; give the path as its own argument (`-f {SANDBOX_ROOT}/...`) or after `=` (`--file={SANDBOX_ROOT}/...`)"
                ),
            ));
        }
        return Ok(None);
    }
    Ok(looks_like_path(arg).then_some(arg))
}

/// Whether a word is a path to this guard: it starts with `/`, contains `/`, or is `.`/`..`.
fn looks_like_path(word: &str) -> bool {
    word.contains('/') || word == "." || word == ".."
}

/// Checks one path argument against the jail and returns it as a normalised `/sim/...` path.
fn check_path(path: &str, jail: &Path) -> Result<String, Violation> {
    let escape = |why: &str| {
        Violation::new(
            "command.path_escape",
            format!(
                "the path `{path}` {why}; give an absolute path under {SANDBOX_ROOT}, e.g. {SANDBOX_ROOT}/logs/syslog.log"
            ),
        )
    };
    let Some(rest) = path.strip_prefix('/') else {
        return Err(escape("is relative"));
    };
    let mut parts = rest.split('/').filter(|p| !p.is_empty() && *p != ".");
    if parts.next() != Some(&SANDBOX_ROOT[1..]) {
        return Err(escape(&format!("is outside {SANDBOX_ROOT}")));
    }
    let parts: Vec<&str> = parts.collect();
    if parts.contains(&"..") {
        return Err(escape("contains `..`"));
    }

    let mut host = jail.to_path_buf();
    host.extend(&parts);
    // Resolve the deepest part of the path that exists: a path below a symbolic link that leads
    // out of the jail escapes even if its last part does not exist (yet).
    for candidate in host.ancestors() {
        match std::fs::canonicalize(candidate) {
            Ok(resolved) => {
                if !resolved.starts_with(jail) {
                    return Err(escape(&format!(
                        "resolves (through a symbolic link) to a place outside {SANDBOX_ROOT}"
                    )));
                }
                break;
            }
            Err(_) => {
                // Present but not resolvable (a dangling link, a loop, no permission): refuse
                // rather than guess where it leads.
                if std::fs::symlink_metadata(candidate).is_ok() {
                    return Err(escape("cannot be resolved (a broken or looping link?)"));
                }
            }
        }
        if candidate == jail {
            break;
        }
    }

    let mut sandbox = String::from(SANDBOX_ROOT);
    for part in &parts {
        sandbox.push('/');
        sandbox.push_str(part);
    }
    Ok(sandbox)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::time::{Duration, Instant};

    fn jail() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("logs")).expect("mkdir");
        std::fs::write(dir.path().join("logs/syslog"), "line\n").expect("write");
        dir
    }

    fn guard(dir: &tempfile::TempDir) -> CommandGuard {
        CommandGuard::new(CommandGuardConfig::default(), dir.path().to_path_buf())
    }

    fn rule(result: Result<CheckedCommand, Violation>) -> String {
        result.expect_err("expected a violation").rule
    }

    #[test]
    fn accepts_a_simple_command_and_reports_its_paths() {
        let dir = jail();
        let checked = guard(&dir)
            .check("tail -n 20 /sim/logs/syslog")
            .expect("accepted");
        assert_eq!(checked.program, "tail");
        assert_eq!(checked.args, ["-n", "20", "/sim/logs/syslog"]);
        assert_eq!(checked.paths, ["/sim/logs/syslog"]);
    }

    #[test]
    fn accepts_commands_without_paths_and_missing_files_under_sim() {
        let dir = jail();
        let g = guard(&dir);
        assert!(g.check("date").is_ok());
        assert!(g.check("hostname").is_ok());
        assert_eq!(
            g.check("cat /sim/logs/not-there.log").expect("ok").paths,
            ["/sim/logs/not-there.log"]
        );
    }

    #[test]
    fn denies_every_metacharacter_one_by_one() {
        let dir = jail();
        let g = guard(&dir);
        for c in METACHARACTERS {
            let bare = format!("echo a{c}b");
            assert_eq!(rule(g.check(&bare)), "command.metacharacter", "{c:?}");
            let single = format!("echo 'a{c}b'");
            assert_eq!(rule(g.check(&single)), "command.metacharacter", "{c:?}");
            let double = format!("echo \"a{c}b\"");
            assert_eq!(rule(g.check(&double)), "command.metacharacter", "{c:?}");
            let escaped = format!("echo a\\{c}b");
            assert_eq!(rule(g.check(&escaped)), "command.metacharacter", "{c:?}");
        }
    }

    #[test]
    fn denies_globs_and_tilde_even_inside_quotes() {
        let dir = jail();
        let g = guard(&dir);
        for c in GLOB_CHARACTERS {
            assert_eq!(
                rule(g.check(&format!("ls /sim/logs/{c}"))),
                "command.glob",
                "{c:?}"
            );
            assert_eq!(
                rule(g.check(&format!("grep 'a{c}' /sim/logs/syslog"))),
                "command.glob",
                "{c:?}"
            );
        }
        assert_eq!(rule(g.check("cat ~/.ssh/id_rsa")), "command.glob");
    }

    #[test]
    fn denies_control_characters() {
        let dir = jail();
        assert_eq!(
            rule(guard(&dir).check("echo a\u{1b}[2Jb")),
            "command.control_character"
        );
        assert_eq!(
            rule(guard(&dir).check("echo a\u{7f}")),
            "command.control_character"
        );
    }

    #[test]
    fn denies_rm_even_inside_quotes() {
        let dir = jail();
        let g = guard(&dir);
        assert_eq!(
            rule(g.check("'rm' /sim/logs/syslog")),
            "command.program_blocked"
        );
        assert_eq!(rule(g.check("\"rm\" -f x")), "command.program_blocked");
        assert_eq!(rule(g.check("r\\m x")), "command.program_blocked");
        assert_eq!(rule(g.check("r''m x")), "command.program_blocked");
    }

    #[test]
    fn tokenizes_quotes_and_escapes_like_a_posix_shell() {
        assert_eq!(
            tokenize(r#"grep "a b" 'c  d' e\ f "x\"y" "p\q" '' 'it''s'"#).expect("ok"),
            ["grep", "a b", "c  d", "e f", "x\"y", "p\\q", "", "its"]
        );
        assert_eq!(tokenize("  a\t b  ").expect("ok"), ["a", "b"]);
        assert_eq!(tokenize(r"'a\b'").expect("ok"), [r"a\b"]);
        assert!(tokenize("").expect("ok").is_empty());
    }

    #[test]
    fn refuses_unterminated_quotes_and_trailing_backslash() {
        let dir = jail();
        let g = guard(&dir);
        for command in ["echo 'abc", "echo \"abc", "echo \"abc\\\"", "echo abc\\"] {
            assert_eq!(
                rule(g.check(command)),
                "command.unterminated_quote",
                "{command}"
            );
        }
    }

    #[test]
    fn denies_blocked_programs_even_when_allowlisted() {
        let dir = jail();
        let mut config = CommandGuardConfig::default();
        config.allowed_programs.push("rm".to_owned());
        config.allowed_programs.push("python3".to_owned());
        let g = CommandGuard::new(config, dir.path().to_path_buf());
        assert_eq!(rule(g.check("rm -rf /sim")), "command.program_blocked");
        assert_eq!(rule(g.check("python3 -c 1")), "command.program_blocked");
        assert_eq!(rule(g.check("RM x")), "command.program_blocked");
        let message = g.check("rm x").expect_err("refused").message;
        assert!(
            message.contains("cat") && !message.contains("rm,"),
            "{message}"
        );
    }

    #[test]
    fn blocks_versioned_forms_of_blocked_programs() {
        let dir = jail();
        let g = guard(&dir);
        for program in ["python3", "python3.11", "mkfs.ext4", "perl5.36", "bash5"] {
            assert_eq!(
                rule(g.check(program)),
                "command.program_blocked",
                "{program}"
            );
        }
        // A longer name that merely starts like a blocked one is not blocked, just unknown.
        assert_eq!(rule(g.check("shutter")), "command.program_not_allowed");
    }

    #[test]
    fn denies_programs_outside_the_allowlist() {
        let dir = jail();
        assert_eq!(
            rule(guard(&dir).check("vmstat 1")),
            "command.program_not_allowed"
        );
    }

    #[test]
    fn denies_programs_given_by_path() {
        let dir = jail();
        let g = guard(&dir);
        assert_eq!(rule(g.check("/bin/rm -rf /sim")), "command.program_blocked");
        assert_eq!(
            rule(g.check("/bin/cat /sim/logs/syslog")),
            "command.program_path"
        );
        assert_eq!(rule(g.check("./x")), "command.program_path");
        assert_eq!(rule(g.check("bin/ls")), "command.program_path");
    }

    #[test]
    fn denies_paths_outside_sim_and_relative_paths() {
        let dir = jail();
        let g = guard(&dir);
        for command in [
            "cat /etc/passwd",
            "cat /simulator/x",
            "cat /",
            "ls .",
            "ls ..",
            "cat logs/syslog",
            "cat ./syslog",
        ] {
            assert_eq!(rule(g.check(command)), "command.path_escape", "{command}");
        }
    }

    #[test]
    fn denies_dot_dot_components() {
        let dir = jail();
        let g = guard(&dir);
        for command in [
            "cat /sim/../etc/passwd",
            "cat /sim/logs/../../etc/passwd",
            "cat /sim/logs/..",
            "cat /sim/..",
        ] {
            assert_eq!(rule(g.check(command)), "command.path_escape", "{command}");
        }
    }

    #[test]
    fn normalises_accepted_paths() {
        let dir = jail();
        let checked = guard(&dir)
            .check("cat //sim/./logs//syslog /sim")
            .expect("ok");
        assert_eq!(checked.paths, ["/sim/logs/syslog", "/sim"]);
    }

    #[cfg(unix)]
    #[test]
    fn denies_symlink_escapes() {
        let dir = jail();
        let outside = tempfile::tempdir().expect("tempdir");
        std::fs::write(outside.path().join("secret"), "s").expect("write");
        std::os::unix::fs::symlink(outside.path(), dir.path().join("escape")).expect("symlink");
        std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("file"))
            .expect("symlink");
        std::os::unix::fs::symlink(outside.path().join("gone"), dir.path().join("dangling"))
            .expect("symlink");
        let g = guard(&dir);
        for command in [
            "cat /sim/escape/secret",
            "ls /sim/escape",
            "cat /sim/file",
            "cat /sim/escape/not-there",
            "cat /sim/dangling",
            "grep --file=/sim/escape/secret x",
        ] {
            assert_eq!(rule(g.check(command)), "command.path_escape", "{command}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn accepts_symlinks_that_stay_inside_the_jail() {
        let dir = jail();
        std::os::unix::fs::symlink(dir.path().join("logs"), dir.path().join("current"))
            .expect("symlink");
        let checked = guard(&dir).check("cat /sim/current/syslog").expect("ok");
        assert_eq!(checked.paths, ["/sim/current/syslog"]);
    }

    #[test]
    fn checks_paths_attached_to_options() {
        let dir = jail();
        let g = guard(&dir);
        assert_eq!(
            rule(g.check("grep --file=/etc/passwd x")),
            "command.path_escape"
        );
        assert_eq!(rule(g.check("grep --file=../x y")), "command.path_escape");
        assert_eq!(rule(g.check("grep -f/etc/passwd x")), "command.path_escape");
        assert_eq!(rule(g.check("grep -f.. x")), "command.path_escape");
        let checked = g
            .check("grep --file=/sim/logs/syslog -n --color=never x")
            .expect("ok");
        assert_eq!(checked.paths, ["/sim/logs/syslog"]);
    }

    #[test]
    fn accepts_options_and_numbers() {
        let dir = jail();
        let checked = guard(&dir)
            .check("head -n 5 -c 100 --lines=3 - /sim/logs/syslog")
            .expect("ok");
        assert_eq!(
            checked.args,
            ["-n", "5", "-c", "100", "--lines=3", "-", "/sim/logs/syslog"]
        );
    }

    #[test]
    fn refuses_empty_commands() {
        let dir = jail();
        let g = guard(&dir);
        for command in ["", "   ", "\t"] {
            assert_eq!(rule(g.check(command)), "command.empty", "{command:?}");
        }
        assert_eq!(rule(g.check("''")), "command.program_not_allowed");
    }

    #[test]
    fn refuses_too_many_arguments() {
        let dir = jail();
        let g = guard(&dir);
        let ok = format!("echo{}", " a".repeat(32));
        assert!(g.check(&ok).is_ok());
        let too_many = format!("echo{}", " a".repeat(33));
        assert_eq!(rule(g.check(&too_many)), "command.too_many_args");
    }

    #[test]
    fn refuses_one_megabyte_quickly_by_the_length_limit() {
        let dir = jail();
        let g = guard(&dir);
        let huge = format!("cat {}", "a; rm -rf / ".repeat(90_000));
        assert!(huge.len() > 1_000_000);
        let start = Instant::now();
        assert_eq!(rule(g.check(&huge)), "command.too_long");
        assert!(start.elapsed() < Duration::from_millis(50));
        assert!(g.check(&"a".repeat(1025)).is_err());
    }

    #[test]
    fn refuses_paths_when_the_jail_is_missing() {
        let g = CommandGuard::new(
            CommandGuardConfig::default(),
            PathBuf::from("/nonexistent/airlock/jail"),
        );
        assert_eq!(rule(g.check("cat /sim/logs/syslog")), "command.path_escape");
        assert!(g.check("echo hello").is_ok());
    }

    #[test]
    fn config_rejects_unknown_fields_and_defaults_missing_ones() {
        let config: CommandGuardConfig = toml::from_str("max_args = 4").expect("parse");
        assert_eq!(config.max_args, 4);
        assert_eq!(config.max_length, 1024);
        assert!(toml::from_str::<CommandGuardConfig>("max_argz = 4").is_err());
    }

    proptest! {
        #[test]
        fn tokenizer_never_panics(s in "\\PC*") {
            let _ = tokenize(&s);
        }
    }

    #[test]
    fn check_never_panics() {
        let dir = jail();
        let g = guard(&dir);
        proptest!(|(s in ".{0,200}")| {
            let _ = g.check(&s);
        });
    }

    #[test]
    fn any_command_with_a_metacharacter_is_refused() {
        let dir = jail();
        let g = guard(&dir);
        proptest!(|(
            before in "[a-z /'\"\\-]{0,20}",
            index in 0..METACHARACTERS.len(),
            after in "[a-z /'\"\\-]{0,20}",
        )| {
            let command = format!("echo {before}{}{after}", METACHARACTERS[index]);
            let refused = g.check(&command);
            prop_assert_eq!(refused.map_err(|v| v.rule), Err("command.metacharacter".to_owned()));
        });
    }

    #[cfg(unix)]
    #[test]
    fn accepted_paths_always_start_with_sim_and_stay_in_the_jail() {
        let dir = jail();
        let outside = tempfile::tempdir().expect("tempdir");
        std::os::unix::fs::symlink(outside.path(), dir.path().join("escape")).expect("symlink");
        std::os::unix::fs::symlink(dir.path().join("logs"), dir.path().join("current"))
            .expect("symlink");
        let g = guard(&dir);
        proptest!(|(
            words in proptest::collection::vec(
                "(/|\\.|\\.\\.|sim|logs|syslog|escape|current|-n|--file=|x){1,6}",
                0..6,
            ),
        )| {
            let command = format!("cat {}", words.join(" "));
            if let Ok(checked) = g.check(&command) {
                for path in &checked.paths {
                    prop_assert!(path == SANDBOX_ROOT || path.starts_with("/sim/"), "{}", path);
                    prop_assert!(!path.split('/').any(|p| p == ".." || p == "escape"), "{}", path);
                }
            }
        });
    }
}
