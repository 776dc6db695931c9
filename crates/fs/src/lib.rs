//! Publishing local files and folders whole: a reader sees the old version or the new one,
//! never part of either, and a crash leaves at worst a temporary the next run removes.
//!
//! This crate owns the one way ctq replaces something on a local disk: write to a hidden
//! temporary sibling (`.NAME.ctq-partial-PID`), fsync it, rename it over `NAME`, fsync the
//! folder so the rename itself survives a power loss. A run killed before its rename leaves the
//! temporary behind; the next run publishing the same `NAME` removes it once the process that
//! wrote it is gone ([`AtomicFile::create`], [`write_dir`]). It also owns the error naming the
//! path and the action that failed ([`FsError`]) and [`sync_dir`].
//!
//! It does not know what the files hold, does not create missing parent folders, and does not
//! lock: two runs publishing the same name at once each publish whole, the last rename wins.
//! Objects on S3 need none of this (a PUT is visible only once complete) and are not handled
//! here.

use std::ffi::OsString;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// An I/O operation that failed, with what was being done and to which path.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {}", path.display())]
pub struct FsError {
    /// What was being done, as a verb phrase: "write", "rename into place", "sync"...
    pub action: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Turns an [`std::io::Error`] of `action` on `path` into an [`FsError`]; for `map_err`.
pub fn io_error(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> FsError {
    let path = path.to_path_buf();
    move |source| FsError {
        action,
        path,
        source,
    }
}

/// Makes a rename or a new entry in `dir` durable: the folder's entry, not only the file, must
/// reach the disk.
pub fn sync_dir(dir: &Path) -> Result<(), FsError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error("sync", dir))
}

/// Marks the temporary a file or folder is written to before its rename: `.NAME` + mark + PID.
const PARTIAL_MARK: &str = ".ctq-partial-";
/// Marks the previous version of a folder, moved aside while the new one is renamed in.
const PREVIOUS_MARK: &str = ".ctq-previous-";
/// What ctq versions before this crate named their temporaries, as (prefix, mark) around the
/// name, followed by a PID: the output sink, the report folder, the store.
const LEGACY_MARKS: [(&str, &str); 4] = [
    ("", ".partial-"),
    (".", ".partial-"),
    (".", ".previous-"),
    (".", ".tmp-"),
];

/// The name `file_name` publishes to, when it is one of ctq's temporaries (a file or folder
/// being written, or a folder's previous version moved aside); `None` for any other name.
pub fn temporary_destination(file_name: &str) -> Option<&str> {
    let rest = file_name.strip_prefix('.')?;
    [PARTIAL_MARK, PREVIOUS_MARK].iter().find_map(|mark| {
        let (name, pid) = rest.rsplit_once(mark)?;
        (!name.is_empty() && parse_pid(pid).is_some()).then_some(name)
    })
}

fn parse_pid(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The folder `destination` is in and its name in it.
fn parent_and_name(destination: &Path) -> Result<(PathBuf, OsString), FsError> {
    let name = destination.file_name().ok_or_else(|| FsError {
        action: "write",
        path: destination.to_path_buf(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path does not end in a file or folder name",
        ),
    })?;
    let parent = match destination.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name.to_os_string()))
}

/// `.NAME` + mark + this process's id.
fn sibling(parent: &Path, name: &OsString, mark: &str) -> PathBuf {
    let mut file_name = OsString::from(".");
    file_name.push(name);
    file_name.push(format!("{mark}{}", std::process::id()));
    parent.join(file_name)
}

/// Whether a process with this id is running. Only Linux says (through `/proc`); elsewhere every
/// other process's temporary counts as stale.
fn is_running(pid: u32) -> bool {
    pid == std::process::id()
        || (cfg!(target_os = "linux") && Path::new("/proc").join(pid.to_string()).exists())
}

/// Removes from `parent` the temporaries earlier runs left for `name`: ours whose process is
/// gone, and those of ctq versions before this crate. Best effort: one that cannot be removed
/// stays for a later run.
fn remove_stale_temporaries(parent: &Path, name: &OsString) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let name = name.to_string_lossy();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        let stale = if let Some(rest) = file_name
            .strip_prefix('.')
            .and_then(|rest| rest.strip_prefix(name.as_ref()))
            && let Some(pid) = [PARTIAL_MARK, PREVIOUS_MARK]
                .iter()
                .find_map(|mark| parse_pid(rest.strip_prefix(mark)?))
        {
            !is_running(pid)
        } else {
            LEGACY_MARKS.iter().any(|(prefix, mark)| {
                file_name
                    .strip_prefix(prefix)
                    .and_then(|rest| rest.strip_prefix(name.as_ref()))
                    .and_then(|rest| rest.strip_prefix(mark))
                    .and_then(parse_pid)
                    .is_some()
            })
        };
        if stale {
            let path = entry.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}

/// A file being written under a temporary name next to its destination. [`AtomicFile::commit`]
/// publishes it; dropping it uncommitted removes the temporary and leaves the destination as it
/// was.
///
/// ```
/// use std::io::Write;
///
/// let dir = std::env::temp_dir().join(format!("ctq-fs-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let destination = dir.join("denials.csv");
///
/// let mut file = ctq_fs::AtomicFile::create(&destination)?;
/// file.write_all(b"principal,count\n")?;
/// drop(file); // not committed: nothing appears under the name asked for
/// assert!(!destination.exists());
///
/// let mut file = ctq_fs::AtomicFile::create(&destination)?;
/// file.write_all(b"principal,count\n")?;
/// file.commit()?;
/// assert_eq!(std::fs::read_to_string(&destination)?, "principal,count\n");
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct AtomicFile {
    /// `None` once committed.
    writer: Option<BufWriter<File>>,
    temporary: PathBuf,
    destination: PathBuf,
    parent: PathBuf,
    published: bool,
}

impl AtomicFile {
    /// Starts writing `destination` (whose folder must exist), first removing the temporaries a
    /// killed earlier run left for it.
    pub fn create(destination: impl Into<PathBuf>) -> Result<Self, FsError> {
        let destination = destination.into();
        let (parent, name) = parent_and_name(&destination)?;
        remove_stale_temporaries(&parent, &name);
        let temporary = sibling(&parent, &name, PARTIAL_MARK);
        let file = File::create(&temporary).map_err(io_error("create", &temporary))?;
        Ok(AtomicFile {
            writer: Some(BufWriter::new(file)),
            temporary,
            destination,
            parent,
            published: false,
        })
    }

    /// Where the file goes when committed.
    pub fn destination(&self) -> &Path {
        &self.destination
    }

    /// Flushes the file to disk, renames it over the destination and makes the rename durable.
    pub fn commit(mut self) -> Result<(), FsError> {
        let writer = self
            .writer
            .take()
            .expect("an uncommitted file has its writer");
        let file = writer
            .into_inner()
            .map_err(|e| io_error("write", &self.temporary)(e.into_error()))?;
        file.sync_all()
            .map_err(io_error("write", &self.temporary))?;
        drop(file);
        std::fs::rename(&self.temporary, &self.destination)
            .map_err(io_error("rename into place", &self.destination))?;
        self.published = true;
        sync_dir(&self.parent)
    }

    /// Drops the file: the destination stays as it was. The same as dropping it.
    pub fn discard(self) {}
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer
            .as_mut()
            .expect("an uncommitted file has its writer")
            .write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.writer
            .as_mut()
            .expect("an uncommitted file has its writer")
            .write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer
            .as_mut()
            .expect("an uncommitted file has its writer")
            .flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.published {
            self.writer = None;
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

/// Publishes `bytes` as the file `destination` whole; see [`AtomicFile`].
pub fn write_file(destination: impl Into<PathBuf>, bytes: &[u8]) -> Result<(), FsError> {
    let mut file = AtomicFile::create(destination)?;
    let temporary = file.temporary.clone();
    file.write_all(bytes)
        .map_err(io_error("write", &temporary))?;
    file.commit()
}

/// Publishes the folder `out` holding `files` (name, content), replacing whatever folder is
/// there. The files are written into a hidden temporary folder next to `out` and flushed to
/// disk; the old folder is moved aside, the new one renamed into place, the parent synced, and
/// only then the old one removed. Whoever decides that `out` may be replaced is the caller.
pub fn write_dir<N, B>(out: &Path, files: impl IntoIterator<Item = (N, B)>) -> Result<(), FsError>
where
    N: AsRef<Path>,
    B: AsRef<[u8]>,
{
    let (parent, name) = parent_and_name(out)?;
    remove_stale_temporaries(&parent, &name);
    let staging = sibling(&parent, &name, PARTIAL_MARK);
    let written = (|| -> Result<(), FsError> {
        std::fs::create_dir(&staging).map_err(io_error("create", &staging))?;
        for (file_name, bytes) in files {
            let path = staging.join(file_name);
            File::create(&path)
                .and_then(|mut f| {
                    f.write_all(bytes.as_ref())?;
                    f.sync_all()
                })
                .map_err(io_error("write", &path))?;
        }
        sync_dir(&staging)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }

    let previous = sibling(&parent, &name, PREVIOUS_MARK);
    let had_previous = out.exists();
    if had_previous {
        std::fs::rename(out, &previous).map_err(io_error("move aside", out))?;
    }
    if let Err(e) = std::fs::rename(&staging, out) {
        if had_previous {
            let _ = std::fs::rename(&previous, out);
        }
        let _ = std::fs::remove_dir_all(&staging);
        return Err(io_error("rename into place", out)(e));
    }
    sync_dir(&parent)?;
    if had_previous {
        let _ = std::fs::remove_dir_all(&previous);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process id no process has (Linux caps them at 2^22).
    const DEAD_PID: u32 = 999_999_999;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_crash_before_commit_leaves_the_destination_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.csv");
        std::fs::write(&out, "old").unwrap();
        let mut file = AtomicFile::create(&out).unwrap();
        file.write_all(b"new, but never committed").unwrap();
        // A killed process runs no destructor.
        std::mem::forget(file);
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "old");
        let temporary = format!(".out.csv.ctq-partial-{}", std::process::id());
        assert_eq!(names(dir.path()), [temporary.as_str(), "out.csv"]);
    }

    #[test]
    fn dropping_uncommitted_removes_the_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.csv");
        let mut file = AtomicFile::create(&out).unwrap();
        file.write_all(b"half").unwrap();
        file.discard();
        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn the_next_run_cleans_the_stale_temporaries_of_its_destination_only() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.csv");
        let stale = [
            format!(".out.csv.ctq-partial-{DEAD_PID}"),
            // Left by ctq versions before this crate.
            "out.csv.partial-12".to_string(),
            ".out.csv.tmp-12".to_string(),
        ];
        for name in &stale {
            std::fs::write(dir.path().join(name), "half").unwrap();
        }
        let kept = [
            format!(".other.csv.ctq-partial-{DEAD_PID}"),
            ".out.csv.ctq-partial-notapid".to_string(),
        ];
        for name in &kept {
            std::fs::write(dir.path().join(name), "someone else's").unwrap();
        }
        write_file(&out, b"whole").unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "whole");
        let mut expected = vec![kept[0].as_str(), kept[1].as_str(), "out.csv"];
        expected.sort_unstable();
        assert_eq!(names(dir.path()), expected);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_temporary_of_a_running_process_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.csv");
        // Process 1 always runs.
        let running = ".out.csv.ctq-partial-1";
        std::fs::write(dir.path().join(running), "being written").unwrap();
        write_file(&out, b"whole").unwrap();
        assert_eq!(names(dir.path()), [running, "out.csv"]);
    }

    #[test]
    fn overwrite_replaces_the_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("manifest.json");
        write_file(&out, b"first, and longer than the second").unwrap();
        let mut file = AtomicFile::create(&out).unwrap();
        file.write_all(b"second").unwrap();
        // Until the commit, readers see the first version whole.
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "first, and longer than the second"
        );
        file.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "second");
        assert_eq!(names(dir.path()), ["manifest.json"]);
    }

    #[test]
    fn a_relative_destination_in_the_working_folder_has_a_parent() {
        let (parent, name) = parent_and_name(Path::new("out.csv")).unwrap();
        assert_eq!(
            (parent, name),
            (PathBuf::from("."), OsString::from("out.csv"))
        );
        assert!(parent_and_name(Path::new("/")).is_err());
    }

    #[test]
    fn a_folder_is_replaced_whole_and_stale_staging_is_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("nightly");
        write_dir(&out, [("a.txt", "one"), ("b.txt", "one")]).unwrap();
        std::fs::create_dir(dir.path().join(format!(".nightly.ctq-partial-{DEAD_PID}"))).unwrap();
        std::fs::create_dir(dir.path().join(format!(".nightly.ctq-previous-{DEAD_PID}"))).unwrap();
        write_dir(&out, [("a.txt", "two")]).unwrap();
        assert_eq!(names(&out), ["a.txt"]);
        assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "two");
        assert_eq!(names(dir.path()), ["nightly"]);
    }

    #[test]
    fn temporaries_are_recognised_by_name() {
        assert_eq!(
            temporary_destination(".part-1-00002.parquet.ctq-partial-42"),
            Some("part-1-00002.parquet")
        );
        assert_eq!(
            temporary_destination(".nightly.ctq-previous-7"),
            Some("nightly")
        );
        assert_eq!(temporary_destination("part-1-00002.parquet"), None);
        assert_eq!(temporary_destination(".x.ctq-partial-"), None);
        assert_eq!(temporary_destination(".ctq-partial-1"), None);
    }

    #[test]
    fn errors_name_the_action_and_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("missing-folder/out.csv");
        let error = write_file(&out, b"x").unwrap_err();
        assert_eq!(error.action, "create");
        let text = error.to_string();
        assert!(text.starts_with("cannot create "), "{text}");
        assert!(text.contains(".out.csv.ctq-partial-"), "{text}");
    }
}
