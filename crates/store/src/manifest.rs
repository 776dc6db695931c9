//! The manifest: which source files the store holds, and in which data files their rows are.

use std::collections::BTreeMap;
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
        match store.read(Self::NAME)? {
            Some(bytes) => {
                let name = match store {
                    Store::Local(root) => root.display().to_string(),
                    Store::S3 { bucket, .. } => bucket.location().to_string(),
                };
                // The version first: a newer manifest may not parse as this one.
                Self::check_version(&bytes, &name)?;
                serde_json::from_slice(&bytes).map_err(|e| StoreError::Manifest {
                    path: store.describe(Self::NAME),
                    reason: e.to_string(),
                })
            }
            None => Ok(Manifest {
                version: Self::VERSION,
                ..Manifest::default()
            }),
        }
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

    /// Rows the store holds, by the manifest.
    pub fn rows(&self) -> u64 {
        self.files.values().map(|f| f.rows).sum()
    }
}
