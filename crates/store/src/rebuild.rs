//! Rebuilding a lost manifest from the data files. Each data file carries in its Parquet
//! metadata the source files its rows came from, with their versions ([`FileOrigin`]), so the
//! rebuilt manifest knows them as the lost one did and the next run reads only what changed.
//! Data files written before that metadata existed are listed with their rows and no sources;
//! the next run reads the trail's files as new, and drops each event the store already holds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use parquet::file::metadata::{KeyValue, ParquetMetaDataReader};

use crate::files::Store;
use crate::manifest::{DataFile, Manifest, SourceEntry, SourceStatus};
use crate::{StoreError, write};

/// The key of a data file's Parquet metadata that holds its [`FileOrigin`].
pub const ORIGIN_KEY: &str = "ctq.sources";

/// The source files whose rows a data file holds, by key, with their versions and row counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct FileOrigin {
    sources: BTreeMap<String, OriginSource>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct OriginSource {
    size: u64,
    modified_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    rows: u64,
}

impl FileOrigin {
    /// The origin of a data file holding `rows` of each source, as `manifest` knows the sources.
    pub fn of(manifest: &Manifest, rows: &BTreeMap<String, u64>) -> FileOrigin {
        let sources = rows
            .iter()
            .filter_map(|(key, &rows)| {
                let entry = manifest.sources.get(key)?;
                Some((
                    key.clone(),
                    OriginSource {
                        size: entry.size,
                        modified_ms: entry.modified_ms,
                        etag: entry.etag.clone(),
                        rows,
                    },
                ))
            })
            .collect();
        FileOrigin { sources }
    }

    pub fn key_value(&self) -> KeyValue {
        KeyValue::new(
            ORIGIN_KEY.to_string(),
            serde_json::to_string(self).expect("an origin serializes"),
        )
    }
}

/// What a rebuild found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RebuildSummary {
    /// Data files listed in the new manifest.
    pub files: usize,
    pub rows: u64,
    /// Source files the new manifest knows, so the next run does not read them again.
    pub sources: usize,
    /// Listed data files that do not say which sources they hold (written by an older ctq).
    pub files_without_origin: usize,
    /// Data files whose events a newer data file holds too: replaced by a run that was stopped
    /// before it removed them. Left out, and removed by the next run.
    pub superseded: Vec<String>,
    /// Data files that are not readable Parquet, with the reason: left out (under `force`, to be
    /// removed by the next run).
    pub damaged: Vec<(PathBuf, String)>,
}

/// One data file as read back.
struct Found {
    name: String,
    run: u64,
    rows: u64,
    bytes: u64,
    origin: Option<FileOrigin>,
}

/// Writes a new manifest for `store` from its data files. Damaged data files stop the rebuild
/// (they would be left unaccounted for) unless `force`, which lists them for removal. Entries of
/// the old manifest, if there is one, are kept for the sources no data file holds (damaged
/// sources and files of no events), so those are not read again.
pub fn rebuild_manifest(store: &Store, force: bool) -> Result<RebuildSummary, StoreError> {
    let _lock = store.lock_for_writing()?;
    let existing = store.list()?;
    let old = Manifest::load_existing(store).ok().flatten();
    let mut summary = RebuildSummary::default();
    let mut found = Vec::new();
    let mut damaged = Vec::new();
    for (name, size) in existing.iter().filter(|(n, _)| Store::is_data_file(n)) {
        let Some(bytes) = store.read(name)? else {
            continue;
        };
        match read_back(name, bytes) {
            Ok(file) => found.push(Found {
                bytes: *size,
                ..file
            }),
            Err(reason) => damaged.push((name.clone(), reason)),
        }
    }
    if let (false, Some((name, reason))) = (force, damaged.first()) {
        return Err(StoreError::UnreadableDataFiles {
            store: store.name(),
            count: damaged.len(),
            first: format!("{}: {reason}", store.describe(name).display()),
        });
    }
    let superseded = superseded(store, &found)?;
    let mut manifest = Manifest::empty();
    manifest.run = found.iter().map(|f| f.run).max().unwrap_or(0);
    for file in found {
        if superseded.contains(&file.name) {
            manifest.retiring.insert(file.name);
            continue;
        }
        let origin = file.origin.unwrap_or_default();
        if origin.sources.is_empty() {
            summary.files_without_origin += 1;
        }
        for (key, source) in &origin.sources {
            let entry = manifest
                .sources
                .entry(key.clone())
                .or_insert_with(|| SourceEntry {
                    size: source.size,
                    modified_ms: source.modified_ms,
                    etag: source.etag.clone(),
                    status: SourceStatus::Ingested,
                    records: 0,
                    reason: None,
                });
            entry.records += source.rows;
        }
        summary.rows += file.rows;
        manifest.files.insert(
            file.name,
            DataFile {
                rows: file.rows,
                sources: origin.sources.into_keys().collect(),
                bytes: Some(file.bytes),
            },
        );
    }
    for (name, reason) in damaged {
        summary.damaged.push((store.describe(&name), reason));
        manifest.retiring.insert(name);
    }
    if let Some(old) = old {
        for (key, entry) in old.sources {
            if entry.status != SourceStatus::Ingested {
                manifest.sources.entry(key).or_insert(entry);
            }
        }
    }
    summary.files = manifest.files.len();
    summary.sources = manifest.sources.len();
    summary.superseded = superseded.into_iter().collect();
    manifest.commit(store)?;
    Ok(summary)
}

/// A data file's run, rows and origin, from its footer.
fn read_back(name: &str, bytes: Vec<u8>) -> Result<Found, String> {
    let metadata = ParquetMetaDataReader::new()
        .parse_and_finish(&bytes::Bytes::from(bytes))
        .map_err(|e| e.to_string())?;
    let file = metadata.file_metadata();
    let origin = file
        .key_value_metadata()
        .into_iter()
        .flatten()
        .find(|kv| kv.key == ORIGIN_KEY)
        .and_then(|kv| kv.value.as_deref())
        .and_then(|json| serde_json::from_str(json).ok());
    Ok(Found {
        name: name.to_string(),
        run: Manifest::run_of(name).unwrap_or(0),
        rows: u64::try_from(file.num_rows()).map_err(|e| e.to_string())?,
        bytes: 0,
        origin,
    })
}

/// The data files whose events a data file of a later run in the same partition holds too. A
/// store never keeps an event twice, so such a file was replaced by that run, which was stopped
/// before it removed it.
fn superseded(store: &Store, found: &[Found]) -> Result<BTreeSet<String>, StoreError> {
    let mut by_partition: BTreeMap<&str, Vec<&Found>> = BTreeMap::new();
    for file in found {
        let partition = file.name.rsplit_once('/').map_or("", |(dir, _)| dir);
        by_partition.entry(partition).or_default().push(file);
    }
    let mut superseded = BTreeSet::new();
    for files in by_partition.values_mut() {
        if files.len() < 2 {
            continue;
        }
        files.sort_by(|a, b| b.run.cmp(&a.run).then_with(|| a.name.cmp(&b.name)));
        let mut kept = write::EventIds::default();
        for file in files.iter() {
            let mut ids = write::EventIds::default();
            write::read_event_ids_of(store, &file.name, &mut ids)?;
            if ids.overlaps(&kept) {
                superseded.insert(file.name.clone());
            } else {
                kept.extend(ids);
            }
        }
    }
    Ok(superseded)
}
