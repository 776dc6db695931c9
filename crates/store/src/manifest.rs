//! The manifest: which source files the store holds, and in which data files their rows are.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::StoreError;
use crate::files::Store;

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
    /// The file's size when published: a file of another size is damaged. Stores written before
    /// sizes were recorded have none, and are checked for presence only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
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
    /// Data files this manifest no longer lists and that are to be removed: retired by the last
    /// run (removed after its last commit, so a run killed before leaves them) or superseded
    /// ones found by a rebuild. The next run removes them; any other unlisted file of an earlier
    /// run is one the store cannot account for, and is not removed without `--force`.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub retiring: BTreeSet<String>,
}

impl Manifest {
    /// The manifest's name within the store.
    pub const NAME: &str = "_ctq/manifest.json";

    /// The manifest version this ctq writes, and the newest it reads: a newer ctq may store
    /// what this one would misread, or remove as leftovers.
    pub const VERSION: u32 = 1;

    pub fn path(store: &Path) -> PathBuf {
        store.join(Self::NAME)
    }

    /// The manifest of the local store `store`, or an empty one for a new store.
    pub fn load(store: &Path) -> Result<Self, StoreError> {
        Self::load_from(&Store::from(store))
    }

    /// The manifest of `store`, or an empty one for a new store.
    pub fn load_from(store: &Store) -> Result<Self, StoreError> {
        Ok(Self::load_existing(store)?.unwrap_or_else(Self::empty))
    }

    /// An empty manifest, of a store with nothing in it yet.
    pub fn empty() -> Self {
        Manifest {
            version: Self::VERSION,
            ..Manifest::default()
        }
    }

    /// The manifest of `store`, or `None` when it has none.
    pub fn load_existing(store: &Store) -> Result<Option<Self>, StoreError> {
        store
            .read(Self::NAME)?
            .map(|bytes| Self::from_bytes(&bytes, &store.name()))
            .transpose()
    }

    /// Reads `bytes`, the manifest of the store `store` (its folder or URL, for messages).
    pub fn from_bytes(bytes: &[u8], store: &str) -> Result<Self, StoreError> {
        // The version first: a newer manifest may not parse as this one.
        Self::check_version(bytes, store)?;
        serde_json::from_slice(bytes).map_err(|e| StoreError::Manifest {
            path: Path::new(store).join(Self::NAME),
            reason: e.to_string(),
        })
    }

    /// Whether this ctq understands `bytes`, the manifest of the store `store` (its folder or
    /// URL, for messages): an error for a manifest a newer ctq wrote, or one without a version.
    /// Reads the version only: for readers, such as queries, that need nothing else.
    pub fn check_version(bytes: &[u8], store: &str) -> Result<(), StoreError> {
        #[derive(serde::Deserialize)]
        struct Versioned {
            version: u32,
        }
        let found = serde_json::from_slice::<Versioned>(bytes)
            .map_err(|e| StoreError::Manifest {
                path: Path::new(store).join(Self::NAME),
                reason: e.to_string(),
            })?
            .version;
        if found > Self::VERSION {
            return Err(StoreError::NewerManifest {
                store: store.to_string(),
                found,
                supported: Self::VERSION,
            });
        }
        Ok(())
    }

    /// Replaces the manifest atomically: a crash leaves the old one or the new one, whole.
    pub fn commit(&self, store: &Store) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec_pretty(self).expect("a manifest serializes");
        store.write(Self::NAME, bytes)
    }

    /// The run that wrote the data file `name` (`part-<run>-<n>.parquet`), if it is named so.
    pub fn run_of(name: &str) -> Option<u64> {
        let file_name = name.rsplit('/').next()?;
        let rest = file_name.strip_prefix("part-")?;
        rest.split('-').next()?.parse().ok()
    }

    /// Rows the store holds, by the manifest.
    pub fn rows(&self) -> u64 {
        self.files.values().map(|f| f.rows).sum()
    }
}
