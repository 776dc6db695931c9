//! The manifest: which source files the store holds, and in which data files their rows are.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{StoreError, io_error};

/// What the store knows of one source file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceEntry {
    /// Size and modification time (or ETag) when it was read: a change means re-ingest.
    pub size: u64,
    pub modified_ms: i64,
    /// The S3 object's ETag; none for local files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    pub status: SourceStatus,
    /// Records stored from it (after removing duplicates of events already stored).
    pub records: u64,
    /// Why it could not be read, for a damaged file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    Ingested,
    /// Holds no events (digest, Insights): nothing to store, nothing to retry.
    NotEvents,
    /// Could not be read; retried only under `--retry-damaged`.
    Damaged,
}

/// A data file of the store and the source files whose rows it holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DataFile {
    pub rows: u64,
    pub sources: Vec<String>,
}

/// The store's manifest, `_ctq/manifest.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub version: u32,
    /// Incremented by each run that changes the store; part of data file names.
    pub run: u64,
    /// Keyed by the source file's path.
    pub sources: BTreeMap<String, SourceEntry>,
    /// Keyed by the data file's path relative to the store.
    pub files: BTreeMap<String, DataFile>,
}

impl Manifest {
    pub fn path(store: &Path) -> PathBuf {
        store.join("_ctq").join("manifest.json")
    }

    /// The manifest of `store`, or an empty one for a new store.
    pub fn load(store: &Path) -> Result<Self, StoreError> {
        let path = Self::path(store);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| StoreError::Manifest {
                path,
                reason: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest {
                version: 1,
                ..Manifest::default()
            }),
            Err(e) => Err(io_error("read", &path)(e)),
        }
    }

    /// Replaces the manifest atomically: a crash leaves the old one or the new one, whole.
    pub fn commit(&self, store: &Path) -> Result<(), StoreError> {
        let path = Self::path(store);
        let dir = path.parent().expect("the manifest is in a folder");
        std::fs::create_dir_all(dir).map_err(io_error("create", dir))?;
        let partial = dir.join(format!(".manifest.json.tmp-{}", std::process::id()));
        let mut file = std::fs::File::create(&partial).map_err(io_error("create", &partial))?;
        let bytes = serde_json::to_vec_pretty(self).expect("a manifest serializes");
        file.write_all(&bytes)
            .and_then(|()| file.sync_all())
            .map_err(io_error("write", &partial))?;
        std::fs::rename(&partial, &path).map_err(io_error("replace", &path))?;
        sync_dir(dir)
    }

    /// Rows the store holds, by the manifest.
    pub fn rows(&self) -> u64 {
        self.files.values().map(|f| f.rows).sum()
    }
}

/// Makes a rename durable: the directory entry, not only the file, must reach the disk.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error("sync", dir))
}
