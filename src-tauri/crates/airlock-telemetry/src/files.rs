//! The trace directory: file names, appending whole lines, rotation by size.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use time::macros::format_description;
use time::OffsetDateTime;

use crate::error::TelemetryError;

const PREFIX: &str = "traces-";
const SUFFIX: &str = ".jsonl";

/// Creates the trace directory if missing (mode 0700 on Unix; an existing directory is left
/// as it is).
pub(crate) fn create_dir(dir: &Path) -> Result<(), TelemetryError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|source| TelemetryError::CreateDir {
            path: dir.to_owned(),
            source,
        })
}

/// The trace files in `dir`, oldest first; none when the directory does not exist.
pub(crate) fn trace_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry?;
        if let Some(name) = entry.file_name().to_str().and_then(FileName::parse) {
            files.push((name, entry.path()));
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files.into_iter().map(|(_, path)| path).collect())
}

/// Appends traces to the newest file of a directory, rotating by size.
#[derive(Debug)]
pub(crate) struct TraceFiles {
    dir: PathBuf,
    max_file_bytes: u64,
    max_files: usize,
}

impl TraceFiles {
    /// The trace files of `dir` (which must exist).
    pub(crate) fn new(dir: PathBuf, max_file_bytes: u64, max_files: usize) -> Self {
        Self {
            dir,
            max_file_bytes,
            max_files,
        }
    }

    /// Appends `line` (one trace ending in `\n`) with a single `write_all`. The newest file
    /// is looked up on every call, so processes sharing the directory append to the same
    /// file.
    pub(crate) fn append(&self, line: &[u8]) -> io::Result<()> {
        let files = trace_files(&self.dir)?;
        let newest = files.last().filter(|path| self.has_room(path, line.len()));
        let mut file = match newest {
            Some(path) => open_append(path, false)?,
            None => {
                let file = self.create_next(files.last())?;
                self.prune()?;
                file
            }
        };
        file.write_all(line)?;
        file.flush()
    }

    /// Whether `line_len` more bytes keep `path` within the limit (an empty file takes any
    /// line).
    fn has_room(&self, path: &Path, line_len: usize) -> bool {
        fs::metadata(path).is_ok_and(|meta| {
            meta.len() == 0 || meta.len().saturating_add(line_len as u64) <= self.max_file_bytes
        })
    }

    /// Creates a file whose name sorts after `newest`.
    fn create_next(&self, newest: Option<&PathBuf>) -> io::Result<File> {
        let newest = newest
            .and_then(|path| path.file_name()?.to_str())
            .and_then(FileName::parse);
        let mut name = FileName::now();
        if let Some(newest) = newest.filter(|newest| name <= *newest) {
            name = newest.next();
        }
        loop {
            match open_append(&self.dir.join(name.to_string()), true) {
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => name = name.next(),
                other => return other,
            }
        }
    }

    /// Deletes the oldest files beyond `max_files`.
    fn prune(&self) -> io::Result<()> {
        let files = trace_files(&self.dir)?;
        let excess = files.len().saturating_sub(self.max_files);
        for path in &files[..excess] {
            match fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }
}

/// Opens `path` for appending (mode 0600 on Unix when created); `new` insists on creating it.
fn open_append(path: &Path, new: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.append(true);
    if new {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// `traces-YYYYMMDD-HHMMSS-NNNNNN.jsonl`, ordered by time, then sequence number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct FileName {
    stamp: String,
    seq: u64,
}

impl FileName {
    fn now() -> Self {
        let stamp = OffsetDateTime::now_utc()
            .format(format_description!(
                "[year][month][day]-[hour][minute][second]"
            ))
            .unwrap_or_else(|_| "00000000-000000".to_owned());
        Self { stamp, seq: 0 }
    }

    fn next(&self) -> Self {
        Self {
            stamp: self.stamp.clone(),
            seq: self.seq + 1,
        }
    }

    fn parse(name: &str) -> Option<Self> {
        let rest = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
        let (stamp, seq) = rest.rsplit_once('-')?;
        let (date, clock) = stamp.split_once('-')?;
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(date, 8) || !digits(clock, 6) || !digits(seq, seq.len()) || seq.is_empty() {
            return None;
        }
        Some(Self {
            stamp: stamp.to_owned(),
            seq: seq.parse().ok()?,
        })
    }
}

impl std::fmt::Display for FileName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{PREFIX}{}-{:06}{SUFFIX}", self.stamp, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_round_trip_and_sort_by_time_then_sequence() {
        let a = FileName::parse("traces-20250101-120000-000009.jsonl").unwrap();
        let b = FileName::parse("traces-20250101-120000-000010.jsonl").unwrap();
        let c = FileName::parse("traces-20250101-120001-000000.jsonl").unwrap();
        assert!(a < b && b < c);
        assert_eq!(a.to_string(), "traces-20250101-120000-000009.jsonl");
        for other in [
            "traces.jsonl",
            "traces-2025-120000-1.jsonl",
            "traces-20250101-120000-.jsonl",
            "x-20250101-120000-1.jsonl",
        ] {
            assert!(FileName::parse(other).is_none(), "{other}");
        }
    }

    #[test]
    fn a_new_file_sorts_after_a_newest_file_from_the_future() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("traces-99991231-235959-000004.jsonl"),
            b"x\n",
        )
        .unwrap();
        let files = TraceFiles::new(dir.path().to_owned(), 1, 8);
        files.append(b"y\n").unwrap();
        let names: Vec<_> = trace_files(dir.path())
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            names,
            [
                "traces-99991231-235959-000004.jsonl",
                "traces-99991231-235959-000005.jsonl"
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_directory_and_files_are_private_to_their_owner() {
        use std::os::unix::fs::PermissionsExt;
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("a/traces");
        create_dir(&dir).unwrap();
        TraceFiles::new(dir.clone(), 1024, 8)
            .append(b"{}\n")
            .unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&trace_files(&dir).unwrap()[0]), 0o600);
    }
}
