//! `list_files`: the entries of one directory of the read-only simulator tree (`sim/`).
//!
//! The tree is a jail: a path is relative to `sim/`, `..` and absolute paths are refused, and
//! every directory is resolved (symlinks included) and checked to lie inside `sim/` before it
//! is read. Entries that are symlinks leading outside are left out of listings.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use airlock_core::{Tool, ToolEffect, ToolError, ToolSpec};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::args::{invalid, reject_unknown, required_str};
use super::{Fixtures, LIST_FILES};

/// Longest `path`, in characters.
const MAX_PATH_CHARS: usize = 128;

/// The specification of `list_files`.
pub(crate) fn spec() -> ToolSpec {
    ToolSpec {
        name: LIST_FILES.to_owned(),
        description: "List the files and folders in one directory of the read-only simulator \
                      directory (configuration, spool areas, MES line files). Use path \"/\" \
                      for its top level."
            .to_owned(),
        parameters: json!({
            "type": "object",
            "properties": {
                "path": {
                    "type": "string",
                    "maxLength": MAX_PATH_CHARS,
                    "description": "Directory relative to the simulator directory, e.g. \
                                    \"etc\" or \"opt/mes/line3\"; \"/\" for the top level."
                }
            },
            "required": ["path"],
            "additionalProperties": false
        }),
        effect: ToolEffect::Read,
        target: super::plant_ops(),
    }
}

/// What `list_files` returns.
#[derive(Debug, Serialize)]
struct Listing {
    /// The directory listed, relative to the simulator directory (`/` for its top level).
    path: String,
    /// Its entries, sorted by name.
    entries: Vec<Entry>,
}

/// One directory entry.
#[derive(Debug, Serialize, PartialEq, Eq)]
struct Entry {
    /// File or directory name.
    name: String,
    /// `file` or `dir`.
    kind: EntryKind,
    /// Size in bytes; 0 for directories.
    size: u64,
}

/// Whether an entry is a file or a directory.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum EntryKind {
    File,
    Dir,
}

/// The executable `list_files` tool.
pub(crate) struct ListFilesTool {
    spec: ToolSpec,
    fixtures: Arc<Fixtures>,
}

impl ListFilesTool {
    pub(crate) fn new(fixtures: Arc<Fixtures>) -> Self {
        Self {
            spec: spec(),
            fixtures,
        }
    }

    /// The simulator directory, canonical.
    fn jail(&self) -> Result<PathBuf, ToolError> {
        let sim = self.fixtures.sim_dir();
        sim.canonicalize().map_err(|source| ToolError::Io {
            context: format!(
                "opening the simulator directory {}: restore fixtures/sim or pass the \
                 repository's fixtures with --fixtures-dir",
                sim.display()
            ),
            source,
        })
    }
}

impl Tool for ListFilesTool {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn invoke(&self, args: &Map<String, Value>) -> Result<Value, ToolError> {
        reject_unknown(args, &["path"])?;
        let raw = required_str(args, "path", MAX_PATH_CHARS)?;
        let relative = relative_path(raw)?;
        let shown = display(&relative);
        tracing::debug!(path = %shown, "list_files");

        let jail = self.jail()?;
        let dir = resolve_inside(&jail, &relative, raw)?;
        let entries = list(&jail, &dir).map_err(|source| ToolError::Io {
            context: format!("listing {shown} in the simulator directory"),
            source,
        })?;
        let listing = Listing {
            path: shown,
            entries,
        };
        serde_json::to_value(listing).map_err(|e| ToolError::BadData(e.to_string()))
    }
}

/// `raw` as a path below the simulator directory, or why it is refused.
///
/// `""` and `"/"` are the top level. Any other absolute path, `..`, backslashes and NUL are
/// refused; `.` components are dropped.
fn relative_path(raw: &str) -> Result<PathBuf, ToolError> {
    if raw.is_empty() || raw == "/" {
        return Ok(PathBuf::new());
    }
    if raw.contains('\0') {
        return Err(invalid("path", "contains a NUL character"));
    }
    if raw.contains('\\') {
        return Err(invalid(
            "path",
            format!("`{raw}` contains `\\`; separate folders with `/`, e.g. `opt/mes`"),
        ));
    }
    let mut relative = PathBuf::new();
    for component in Path::new(raw).components() {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                tracing::warn!(path = raw, "list_files refused a parent-directory path");
                return Err(invalid(
                    "path",
                    format!(
                        "`{raw}` uses `..`; only the simulator directory can be listed, give \
                         a path inside it such as `etc` or `/` for the top level"
                    ),
                ));
            }
            Component::RootDir | Component::Prefix(_) => {
                tracing::warn!(path = raw, "list_files refused an absolute path");
                return Err(invalid(
                    "path",
                    format!(
                        "`{raw}` is absolute; give a path relative to the simulator directory, \
                         e.g. `etc` rather than `/etc`, or `/` for the top level"
                    ),
                ));
            }
        }
    }
    Ok(relative)
}

/// How a relative path is shown back: `/` for the top level, else `a/b`.
fn display(relative: &Path) -> String {
    if relative.as_os_str().is_empty() {
        return "/".to_owned();
    }
    let parts: Vec<_> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// `relative` resolved below `jail` (canonical), refusing anything that leads outside it,
/// does not exist or is not a directory.
fn resolve_inside(jail: &Path, relative: &Path, raw: &str) -> Result<PathBuf, ToolError> {
    let target = jail.join(relative);
    let resolved = match target.canonicalize() {
        Ok(path) => path,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(invalid(
                "path",
                format!(
                    "no directory `{raw}` in the simulator directory; list `/` to see what exists"
                ),
            ))
        }
        Err(source) => {
            return Err(ToolError::Io {
                context: format!("resolving `{raw}` in the simulator directory"),
                source,
            })
        }
    };
    if !resolved.starts_with(jail) {
        tracing::warn!(
            path = raw,
            "list_files refused a path that leads outside the simulator directory"
        );
        return Err(invalid(
            "path",
            format!(
                "`{raw}` leads outside the simulator directory; only paths inside it can be listed"
            ),
        ));
    }
    if !resolved.is_dir() {
        return Err(invalid(
            "path",
            format!("`{raw}` is a file, not a directory; list the directory that contains it"),
        ));
    }
    Ok(resolved)
}

/// The entries of `dir` (inside `jail`), sorted by name. Symlinks are followed only when they
/// stay inside `jail`; others, and anything that is neither file nor directory, are left out.
fn list(jail: &Path, dir: &Path) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let file_type = entry.file_type()?;
        let metadata = if file_type.is_symlink() {
            match entry.path().canonicalize() {
                Ok(target) if target.starts_with(jail) => fs::metadata(&target)?,
                _ => {
                    tracing::warn!(entry = %name, "list_files left out a symlink leading outside the simulator directory");
                    continue;
                }
            }
        } else {
            entry.metadata()?
        };
        let (kind, size) = if metadata.is_dir() {
            (EntryKind::Dir, 0)
        } else if metadata.is_file() {
            (EntryKind::File, metadata.len())
        } else {
            continue;
        };
        entries.push(Entry { name, kind, size });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ops::test_support::{args, tool};

    fn list_files(path: &str) -> Result<Value, ToolError> {
        tool(LIST_FILES).invoke(&args(json!({ "path": path })))
    }

    fn names(out: &Value) -> Vec<&str> {
        out["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect()
    }

    fn assert_refused(result: Result<Value, ToolError>, needle: &str) {
        let err = result.expect_err("must be refused");
        assert!(
            matches!(&err, ToolError::InvalidArgument { name, .. } if name == "path"),
            "{err}"
        );
        assert!(err.to_string().contains(needle), "{err}");
    }

    #[test]
    fn root_lists_the_simulator_top_level_sorted() {
        for root in ["/", ""] {
            let out = list_files(root).unwrap();
            assert_eq!(out["path"], "/");
            assert_eq!(names(&out), ["README.txt", "etc", "logs", "opt", "var"]);
            let readme = &out["entries"][0];
            assert_eq!(readme["kind"], "file");
            assert!(readme["size"].as_u64().unwrap() > 0);
            assert_eq!(out["entries"][1]["kind"], "dir");
        }
    }

    #[test]
    fn subdirectories_are_listed_relative_to_the_simulator() {
        let out = list_files("opt/mes/line3").unwrap();
        assert_eq!(out["path"], "opt/mes/line3");
        assert_eq!(names(&out), ["alarms", "line.conf"]);
        let out = list_files("./var/spool/batch/held/").unwrap();
        assert_eq!(out["path"], "var/spool/batch/held");
        assert_eq!(names(&out), ["PAYROLL02.txt", "PAYRPT01.txt"]);
    }

    #[test]
    fn list_files_refuses_parent_traversal() {
        assert_refused(list_files("../logs"), "`..`");
        assert_refused(list_files(".."), "`..`");
        assert_refused(list_files("etc/../../logs"), "`..`");
        // Even a `..` that would stay inside is refused: paths must be plain.
        assert_refused(list_files("etc/../opt"), "`..`");
    }

    #[test]
    fn list_files_refuses_absolute_paths() {
        assert_refused(list_files("/etc"), "absolute");
        assert_refused(list_files("//etc"), "absolute");
        assert_refused(list_files("/work"), "absolute");
    }

    #[test]
    fn list_files_refuses_backslashes_and_nul() {
        assert_refused(list_files("..\\..\\etc"), "`\\`");
        assert_refused(list_files("etc\0"), "NUL");
    }

    #[test]
    fn list_files_refuses_missing_directories_and_files() {
        assert_refused(list_files("nowhere"), "no directory");
        assert_refused(list_files("README.txt"), "is a file");
    }

    #[test]
    fn list_files_refuses_long_paths_and_extra_arguments() {
        assert!(list_files(&"a/".repeat(65)).is_err());
        let err = tool(LIST_FILES)
            .invoke(&args(json!({"path": "/", "recursive": true})))
            .unwrap_err();
        assert!(matches!(err, ToolError::InvalidArgument { .. }), "{err}");
        assert!(tool(LIST_FILES).invoke(&Map::new()).is_err());
    }

    #[test]
    fn a_missing_simulator_directory_is_an_io_error() {
        let (_guard, root) = crate::ops::test_support::fixtures_copy();
        let sim = crate::ops::OpsSimulator::open(&root).unwrap();
        std::fs::remove_dir_all(root.join("sim")).unwrap();
        let tool = sim
            .tools()
            .into_iter()
            .find(|t| t.spec().name == LIST_FILES)
            .unwrap();
        let err = tool.invoke(&args(json!({ "path": "/" }))).unwrap_err();
        assert!(matches!(err, ToolError::Io { .. }), "{err}");
        assert!(err.to_string().contains("simulator directory"), "{err}");
    }

    #[cfg(unix)]
    mod symlinks {
        use std::fs;
        use std::os::unix::fs::symlink;

        use serde_json::json;

        use super::*;
        use crate::ops::test_support::fixtures_copy;
        use crate::ops::OpsSimulator;

        fn list_in(root: &Path, path: &str) -> Result<Value, ToolError> {
            let sim = OpsSimulator::open(root).unwrap();
            let tool = sim
                .tools()
                .into_iter()
                .find(|t| t.spec().name == LIST_FILES)
                .unwrap();
            tool.invoke(&args(json!({ "path": path })))
        }

        #[test]
        fn list_files_refuses_a_symlink_leading_outside() {
            let (guard, root) = fixtures_copy();
            let outside = guard.path().join("outside");
            fs::create_dir(&outside).unwrap();
            fs::write(outside.join("secret.txt"), "not for the model").unwrap();
            symlink(&outside, root.join("sim/escape")).unwrap();
            symlink("../../status.json", root.join("sim/etc/status.json")).unwrap();

            assert_refused(list_in(&root, "escape"), "outside");
            assert_refused(list_in(&root, "etc/status.json"), "outside");
            // Nor does the link show up in its parent's listing.
            let top = list_in(&root, "/").unwrap();
            assert!(!names(&top).contains(&"escape"), "{top}");
            let etc = list_in(&root, "etc").unwrap();
            assert!(!names(&etc).contains(&"status.json"), "{etc}");
        }

        #[test]
        fn list_files_follows_a_symlink_that_stays_inside() {
            let (_guard, root) = fixtures_copy();
            symlink("opt/mes/line3", root.join("sim/line3")).unwrap();
            let top = list_in(&root, "/").unwrap();
            let link = top["entries"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["name"] == "line3")
                .expect("inside link listed");
            assert_eq!(link["kind"], "dir");
            let out = list_in(&root, "line3").unwrap();
            assert_eq!(names(&out), ["alarms", "line.conf"]);
        }
    }
}
