//! The KV cache of shared prompt prefixes, kept on disk between worker processes.
//!
//! A planner prompt starts with ~2,800 tokens that are the same for every request (system
//! prompt, tool specs, examples). A worker keeps their KV cache in memory, but every new
//! process (each `airlock ask`, the first request after the app starts) would process them
//! again: seconds of CPU. The worker stores that prefix's KV cache here once and later
//! processes load it instead.
//!
//! Only prefixes the caller marks as shared are stored (`shared_messages` of a request): they
//! hold nothing of the user's. An entry is one llama.cpp sequence-state file named by a hash of
//! the model's identity and the prefix's tokens, plus a SHA-256 of the file beside it; an entry
//! whose checksum does not match is deleted and rebuilt, never loaded. Entries are written
//! under a temporary name and renamed, so a process killed mid-write leaves no half entry
//! (only a temporary file, removed later). The newest [`KEPT_ENTRIES`] entries are kept.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use llama_cpp_2::token::LlamaToken;
use sha2::{Digest, Sha256};

/// Entries kept; older ones are deleted when a new one is stored.
pub(crate) const KEPT_ENTRIES: usize = 4;
/// Shared prefixes shorter than this are processed rather than stored: reading and checking a
/// file costs about what processing this many tokens does.
pub(crate) const MIN_STORED_TOKENS: usize = 256;
/// A temporary file this old belongs to a process that died while writing it.
const STALE_TEMPORARY: Duration = Duration::from_secs(3600);

const ENTRY_EXTENSION: &str = "kv";
const CHECKSUM_EXTENSION: &str = "sha256";
const TEMPORARY_MARK: &str = ".tmp-";

/// The prompt cache of one loaded model in one directory.
#[derive(Debug, Clone)]
pub(crate) struct PromptCache {
    dir: PathBuf,
    model_key: Vec<u8>,
}

impl PromptCache {
    /// The cache in `dir` (created when missing) for `model` with a context of `n_ctx` tokens.
    /// Entries are keyed by the model file (path, size, modification time) and by this
    /// executable (which carries llama.cpp), so a changed model or an upgraded Airlock never
    /// loads another's cache.
    ///
    /// # Errors
    /// The I/O error when `dir` cannot be created or a file's metadata cannot be read.
    pub(crate) fn open(dir: &Path, model: &Path, n_ctx: u32) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let mut key = Vec::new();
        for file in [model.to_path_buf(), std::env::current_exe()?] {
            let file = fs::canonicalize(&file)?;
            let meta = fs::metadata(&file)?;
            let modified = meta
                .modified()?
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default();
            key.extend_from_slice(file.as_os_str().as_encoded_bytes());
            key.push(0);
            key.extend_from_slice(&meta.len().to_le_bytes());
            key.extend_from_slice(&modified.as_nanos().to_le_bytes());
        }
        key.extend_from_slice(&n_ctx.to_le_bytes());
        Ok(Self {
            dir: dir.to_owned(),
            model_key: key,
        })
    }

    /// Where the entry for the prompt prefix `tokens` is (or would be) stored.
    pub(crate) fn entry_path(&self, tokens: &[LlamaToken]) -> PathBuf {
        let mut hasher = Sha256::new();
        hasher.update(&self.model_key);
        for token in tokens {
            hasher.update(token.0.to_le_bytes());
        }
        let name = hex(&hasher.finalize()[..16]);
        self.dir.join(format!("{name}.{ENTRY_EXTENSION}"))
    }

    /// Whether `entry` exists and matches its checksum. A damaged entry is deleted.
    pub(crate) fn holds(&self, entry: &Path) -> bool {
        if !entry.exists() {
            return false;
        }
        let stored = fs::read_to_string(checksum_path(entry)).unwrap_or_default();
        match file_sha256(entry) {
            Ok(actual) if actual == stored.trim() => {
                // Touched, so eviction keeps the entries in use.
                let _ = fs::File::options()
                    .append(true)
                    .open(entry)
                    .and_then(|file| file.set_modified(SystemTime::now()));
                true
            }
            _ => {
                tracing::warn!(entry = %entry.display(), "prompt cache entry is damaged; it is rebuilt");
                self.discard(entry);
                false
            }
        }
    }

    /// A temporary path to write the entry `entry` to before [`PromptCache::commit`].
    pub(crate) fn temporary_path(entry: &Path) -> PathBuf {
        let mut name = entry.as_os_str().to_owned();
        name.push(format!("{TEMPORARY_MARK}{}", std::process::id()));
        PathBuf::from(name)
    }

    /// Makes the file written at `temporary` the entry `entry`: its checksum first, then the
    /// file under its name, then the oldest entries beyond [`KEPT_ENTRIES`] go.
    ///
    /// # Errors
    /// The I/O error of reading, writing or renaming; nothing half-written is left as an entry.
    pub(crate) fn commit(&self, temporary: &Path, entry: &Path) -> io::Result<()> {
        let result = (|| {
            let checksum = file_sha256(temporary)?;
            let checksum_temporary = Self::temporary_path(&checksum_path(entry));
            fs::write(&checksum_temporary, checksum)?;
            fs::rename(&checksum_temporary, checksum_path(entry))?;
            fs::rename(temporary, entry)
        })();
        if result.is_err() {
            let _ = fs::remove_file(temporary);
        }
        result?;
        self.evict();
        Ok(())
    }

    /// Deletes `entry` and its checksum.
    pub(crate) fn discard(&self, entry: &Path) {
        let _ = fs::remove_file(entry);
        let _ = fs::remove_file(checksum_path(entry));
    }

    /// Deletes all but the newest [`KEPT_ENTRIES`] entries, checksums without an entry, and
    /// stale temporary files.
    fn evict(&self) {
        let Ok(listing) = fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::now();
        let mut entries: Vec<(SystemTime, PathBuf)> = Vec::new();
        for file in listing.flatten() {
            let path = file.path();
            let modified = file
                .metadata()
                .and_then(|meta| meta.modified())
                .unwrap_or(now);
            let name = file.file_name().to_string_lossy().into_owned();
            if name.contains(TEMPORARY_MARK) {
                if now.duration_since(modified).unwrap_or_default() > STALE_TEMPORARY {
                    let _ = fs::remove_file(&path);
                }
            } else if path.extension().is_some_and(|ext| ext == ENTRY_EXTENSION) {
                entries.push((modified, path));
            } else if path
                .extension()
                .is_some_and(|ext| ext == CHECKSUM_EXTENSION)
                && !path.with_extension(ENTRY_EXTENSION).exists()
            {
                let _ = fs::remove_file(&path);
            }
        }
        entries.sort_by_key(|entry| std::cmp::Reverse(entry.0));
        for (_, old) in entries.iter().skip(KEPT_ENTRIES) {
            tracing::debug!(entry = %old.display(), "prompt cache entry evicted");
            self.discard(old);
        }
    }
}

fn checksum_path(entry: &Path) -> PathBuf {
    entry.with_extension(CHECKSUM_EXTENSION)
}

fn file_sha256(path: &Path) -> io::Result<String> {
    let mut hasher = Sha256::new();
    io::copy(&mut fs::File::open(path)?, &mut hasher)?;
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(dir: &Path) -> PromptCache {
        let model = dir.join("model.gguf");
        fs::write(&model, b"GGUF").unwrap();
        PromptCache::open(&dir.join("cache"), &model, 4096).unwrap()
    }

    fn store(cache: &PromptCache, tokens: &[LlamaToken], body: &[u8]) -> PathBuf {
        let entry = cache.entry_path(tokens);
        let temporary = PromptCache::temporary_path(&entry);
        fs::write(&temporary, body).unwrap();
        cache.commit(&temporary, &entry).unwrap();
        entry
    }

    #[test]
    fn a_committed_entry_is_held_and_a_changed_byte_makes_it_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(dir.path());
        let entry = store(&cache, &[LlamaToken(1), LlamaToken(2)], b"kv state");
        assert!(cache.holds(&entry));
        assert!(!PromptCache::temporary_path(&entry).exists());

        fs::write(&entry, b"kv statf").unwrap();
        assert!(!cache.holds(&entry));
        assert!(!entry.exists(), "a damaged entry is deleted");
        assert!(!checksum_path(&entry).exists());
    }

    #[test]
    fn an_entry_without_its_checksum_is_not_held() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(dir.path());
        let entry = store(&cache, &[LlamaToken(7)], b"kv state");
        fs::remove_file(checksum_path(&entry)).unwrap();
        assert!(!cache.holds(&entry));
    }

    #[test]
    fn entries_differ_by_tokens_and_by_model() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(dir.path());
        let a = cache.entry_path(&[LlamaToken(1), LlamaToken(2)]);
        assert_eq!(a, cache.entry_path(&[LlamaToken(1), LlamaToken(2)]));
        assert_ne!(a, cache.entry_path(&[LlamaToken(2), LlamaToken(1)]));

        let other_model = dir.path().join("other.gguf");
        fs::write(&other_model, b"GGUF, another").unwrap();
        let other = PromptCache::open(&dir.path().join("cache"), &other_model, 4096).unwrap();
        assert_ne!(a, other.entry_path(&[LlamaToken(1), LlamaToken(2)]));
        let other_context = PromptCache::open(
            &dir.path().join("cache"),
            &dir.path().join("model.gguf"),
            2048,
        )
        .unwrap();
        assert_ne!(a, other_context.entry_path(&[LlamaToken(1), LlamaToken(2)]));
    }

    #[test]
    fn only_the_newest_entries_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(dir.path());
        let entries: Vec<PathBuf> = (0..KEPT_ENTRIES + 2)
            .map(|i| {
                let token = LlamaToken(i32::try_from(i).unwrap());
                let entry = store(&cache, &[token], b"kv state");
                let age = Duration::from_secs(100 * (KEPT_ENTRIES as u64 + 2 - i as u64));
                fs::File::options()
                    .append(true)
                    .open(&entry)
                    .unwrap()
                    .set_modified(SystemTime::now() - age)
                    .unwrap();
                entry
            })
            .collect();
        store(&cache, &[LlamaToken(99)], b"kv state");
        let kept = entries.iter().filter(|entry| entry.exists()).count();
        assert_eq!(
            kept,
            KEPT_ENTRIES - 1,
            "the newest entry plus the newest older ones"
        );
        assert!(!entries[0].exists() && !checksum_path(&entries[0]).exists());
        assert!(entries.last().unwrap().exists());
    }

    #[test]
    fn a_stale_temporary_file_is_removed_and_a_fresh_one_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(dir.path());
        let stale = PromptCache::temporary_path(&cache.entry_path(&[LlamaToken(3)]));
        let fresh = cache.dir.join(format!("abc.kv{TEMPORARY_MARK}1"));
        fs::write(&stale, b"half").unwrap();
        fs::write(&fresh, b"half").unwrap();
        fs::File::options()
            .append(true)
            .open(&stale)
            .unwrap()
            .set_modified(SystemTime::now() - 2 * STALE_TEMPORARY)
            .unwrap();
        store(&cache, &[LlamaToken(4)], b"kv state");
        assert!(!stale.exists());
        assert!(fresh.exists(), "another process may still be writing it");
    }
}
