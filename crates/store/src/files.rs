//! Where a store's files live: a local folder or an S3 prefix, behind the few operations ingest
//! needs. Both publish a file whole: locally by writing a hidden file and renaming it, on S3
//! because an object becomes visible only once all of it is stored.

use std::fmt;
use std::path::{Path, PathBuf};

use ctq_s3::{S3Location, S3Trail};

use crate::{EVENT_ACCOUNT_COLUMN, StoreError, io_error};

/// Held by the one `ctq ingest` writing a local store.
const WRITER_LOCK: &str = "_ctq/writer.lock";

/// A store's place, as given on the command line: a folder or `s3://bucket/prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    Local(PathBuf),
    S3(S3Location),
}

impl StoreLocation {
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        if S3Location::is_s3_url(text) {
            Ok(StoreLocation::S3(text.parse()?))
        } else {
            Ok(StoreLocation::Local(PathBuf::from(text)))
        }
    }
}

impl From<&Path> for StoreLocation {
    fn from(path: &Path) -> Self {
        StoreLocation::Local(path.to_path_buf())
    }
}

impl From<&PathBuf> for StoreLocation {
    fn from(path: &PathBuf) -> Self {
        StoreLocation::Local(path.clone())
    }
}

impl From<PathBuf> for StoreLocation {
    fn from(path: PathBuf) -> Self {
        StoreLocation::Local(path)
    }
}

impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::Local(path) => write!(f, "{}", path.display()),
            StoreLocation::S3(location) => write!(f, "{location}"),
        }
    }
}

/// A store opened for ingest.
#[derive(Debug, Clone)]
pub enum Store {
    Local(PathBuf),
    /// A prefix of a bucket; `runtime` runs its requests, from threads that may block.
    S3 {
        bucket: Box<S3Trail>,
        runtime: tokio::runtime::Handle,
    },
}

impl From<&Path> for Store {
    fn from(path: &Path) -> Self {
        Store::Local(path.to_path_buf())
    }
}

impl From<&PathBuf> for Store {
    fn from(path: &PathBuf) -> Self {
        Store::Local(path.clone())
    }
}

impl From<PathBuf> for Store {
    fn from(path: PathBuf) -> Self {
        Store::Local(path)
    }
}

impl Store {
    /// How a file of the store is named in messages: its path or its URL.
    pub fn describe(&self, name: &str) -> PathBuf {
        match self {
            Store::Local(root) => root.join(name),
            Store::S3 { bucket, .. } => {
                PathBuf::from(bucket.location().url_of(&bucket.key_of(name)))
            }
        }
    }

    /// The store as the command line names it: its folder or its URL.
    pub fn name(&self) -> String {
        match self {
            Store::Local(root) => root.display().to_string(),
            Store::S3 { bucket, .. } => bucket.location().to_string(),
        }
    }

    pub(crate) fn prepare(&self) -> Result<(), StoreError> {
        match self {
            Store::Local(root) => {
                Ok(std::fs::create_dir_all(root).map_err(io_error("create", root))?)
            }
            Store::S3 { .. } => Ok(()),
        }
    }

    /// The file `name` (relative to the store, `/`-separated), or `None` when there is none.
    pub(crate) fn read(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Store::Local(root) => {
                let path = root.join(name);
                match std::fs::read(&path) {
                    Ok(bytes) => Ok(Some(bytes)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(io_error("read", &path)(e).into()),
                }
            }
            Store::S3 { bucket, runtime } => Ok(runtime.block_on(bucket.get_if_exists(name))?),
        }
    }

    /// Publishes `bytes` as `name`, whole: a crash leaves the old file or the new one.
    pub(crate) fn write(&self, name: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        match self {
            Store::Local(root) => {
                let path = root.join(name);
                let dir = path.parent().expect("store files are in a folder");
                std::fs::create_dir_all(dir).map_err(io_error("create", dir))?;
                // Written under a hidden name without the .parquet extension: neither Hive
                // readers nor DataFusion's listing pick up a file still being written.
                Ok(ctq_fs::write_file(path, &bytes)?)
            }
            Store::S3 { bucket, runtime } => Ok(runtime.block_on(bucket.put(name, bytes))?),
        }
    }

    /// Removes `name`; one already gone is not an error.
    pub(crate) fn remove(&self, name: &str) -> Result<(), StoreError> {
        match self {
            Store::Local(root) => {
                let path = root.join(name);
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        Err(io_error("remove", &path)(e).into())
                    }
                    _ => Ok(()),
                }
            }
            Store::S3 { bucket, runtime } => Ok(runtime.block_on(bucket.delete(name))?),
        }
    }

    /// Every file under the store, relative and `/`-separated, with its size.
    pub fn list(&self) -> Result<Vec<(String, u64)>, StoreError> {
        match self {
            Store::Local(root) => list_local(root),
            Store::S3 { bucket, runtime } => Ok(runtime.block_on(bucket.list_all())?),
        }
    }

    /// Makes this run the store's only writer until the guard is dropped. Two runs at once would
    /// each commit a manifest without the other's files, and each would remove the other's
    /// uncommitted files as leftovers. A local store is locked with an advisory file lock, which
    /// the system releases when the process ends, however it ends. S3 has no lock: one writer per
    /// S3 store is the operator's to ensure.
    pub(crate) fn lock_for_writing(&self) -> Result<Option<std::fs::File>, StoreError> {
        let Store::Local(root) = self else {
            return Ok(None);
        };
        let path = root.join(WRITER_LOCK);
        let dir = path.parent().expect("the lock is in _ctq");
        std::fs::create_dir_all(dir).map_err(io_error("create", dir))?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_error("open", &path))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Busy {
                store: root.display().to_string(),
            }),
            Err(std::fs::TryLockError::Error(e)) => Err(io_error("lock", &path)(e).into()),
        }
    }

    /// Whether `name` is a finished data file (not one being written, nor the manifest).
    pub fn is_data_file(name: &str) -> bool {
        Self::is_ours(name)
            && !name.starts_with("_ctq/")
            && !Self::is_temporary(name)
            && name.ends_with(".parquet")
    }

    /// Whether ingest wrote `name`: a data file, finished or half-written, in a partition
    /// folder, or the manifest. Anything else under the store is someone else's.
    pub(crate) fn is_ours(name: &str) -> bool {
        if name.starts_with("_ctq/") {
            return true;
        }
        let file_name = name.rsplit('/').next().unwrap_or(name);
        let data_file = |file_name: &str| file_name.ends_with(".parquet");
        name.starts_with(&format!("{EVENT_ACCOUNT_COLUMN}="))
            && (data_file(file_name)
                || ctq_fs::temporary_destination(file_name).is_some_and(data_file)
                // Named so by ctq versions before ctq_fs.
                || file_name.contains(".parquet.tmp"))
    }

    /// Whether `name` is a file still being written (or left so by a killed run).
    pub(crate) fn is_temporary(name: &str) -> bool {
        let file_name = name.rsplit('/').next().unwrap_or(name);
        ctq_fs::temporary_destination(file_name).is_some() || file_name.contains(".tmp-")
    }
}

/// Every file under the local store `root`, relative and `/`-separated, with its size; none when
/// the folder does not exist yet.
pub fn list_local(root: &Path) -> Result<Vec<(String, u64)>, StoreError> {
    let mut names = Vec::new();
    if !root.exists() {
        return Ok(names);
    }
    for entry in walkdir::WalkDir::new(root).min_depth(1) {
        let entry = entry.map_err(|e| StoreError::Io {
            action: "list",
            path: root.to_path_buf(),
            source: e.into(),
        })?;
        if entry.file_type().is_file() {
            let size = entry
                .metadata()
                .map_err(|e| StoreError::Io {
                    action: "read",
                    path: entry.path().to_path_buf(),
                    source: e.into(),
                })?
                .len();
            let relative = entry.path().strip_prefix(root).expect("under the store");
            names.push((relative.to_string_lossy().replace('\\', "/"), size));
        }
    }
    Ok(names)
}
