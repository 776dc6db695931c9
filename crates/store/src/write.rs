//! `ingest`: source log files in, Parquet files and a manifest out.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, RecordBatch, StringArray, TimestampMillisecondArray, UInt32Array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use ctq_ingest::{FileOutcome, Pruning, TrailBatchBuilder, TrailFile, cloudtrail_schema};
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use rayon::prelude::*;

use crate::files::Store;
use crate::manifest::{DataFile, Manifest, SourceEntry, SourceStatus};
use crate::{EVENT_TIMESTAMP_COLUMN, PARTITION_COLUMNS, StoreError, io_error};

/// How an ingest runs.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Fail at the first damaged source file instead of recording it.
    pub strict: bool,
    /// Read again the source files an earlier run recorded as damaged.
    pub retry_damaged: bool,
    /// Source files per commit: the manifest is committed after each group, so an interrupted
    /// run keeps what it finished, and memory stays bounded by the group, not the trail.
    pub files_per_commit: usize,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            strict: false,
            retry_damaged: false,
            files_per_commit: 512,
            row_group_rows: 32 * 1024,
        }
    }
}

/// What one ingest did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Source files found.
    pub sources: usize,
    /// Read in this run (new, changed, retried, or sharing a data file with a changed one).
    pub read: usize,
    /// Already in the store and unchanged.
    pub unchanged: usize,
    /// Changed since they were stored: their rows were replaced.
    pub changed: usize,
    /// Damaged files, with the reason, recorded in the manifest.
    pub damaged: Vec<(PathBuf, String)>,
    pub records_written: u64,
    /// Records whose eventID the store already held: CloudTrail delivers some events twice.
    pub duplicates_dropped: u64,
    pub files_written: usize,
    /// Files left by an interrupted run, removed.
    pub leftovers_removed: usize,
}

/// The schema of the store's files: the `cloudtrail` columns and `eventts`.
pub fn store_schema() -> SchemaRef {
    let mut fields: Vec<Field> = cloudtrail_schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(
        EVENT_TIMESTAMP_COLUMN,
        DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        true,
    ));
    Arc::new(Schema::new(fields))
}

/// One source file and what identifies its content: size with modification time (local files)
/// or ETag (S3 objects).
#[derive(Debug, Clone)]
struct SourceFile {
    file: TrailFile,
    version: Version,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Version {
    size: u64,
    modified_ms: i64,
    etag: Option<String>,
}

impl Version {
    fn of(entry: &SourceEntry) -> Version {
        Version {
            size: entry.size,
            modified_ms: entry.modified_ms,
            etag: entry.etag.clone(),
        }
    }
}

/// Reads a chunk of source files: each one's bytes, or why it could not be read.
type ReadChunk<'a> = dyn Fn(&[TrailFile]) -> Vec<Result<Vec<u8>, String>> + 'a;

/// Converts the trail files under `sources` (local folders or files) that the store does not
/// hold yet, or that changed, into Parquet files under `store`.
pub fn ingest(
    sources: &[PathBuf],
    store: impl Into<Store>,
    options: &IngestOptions,
) -> Result<IngestReport, StoreError> {
    // Keys are absolute, so running from another folder does not make every file look new.
    let sources: Vec<PathBuf> = sources
        .iter()
        .map(|s| std::fs::canonicalize(s).unwrap_or_else(|_| s.clone()))
        .collect();
    let discovery = ctq_ingest::discover(&sources, &Pruning::default())?;
    let files = discovery
        .files
        .into_iter()
        .map(|file| {
            let version = local_version(&file.path)?;
            Ok(SourceFile { file, version })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let read = |chunk: &[TrailFile]| -> Vec<Result<Vec<u8>, String>> {
        chunk
            .par_iter()
            .map(|f| std::fs::read(&f.path).map_err(|e| format!("cannot read: {e}")))
            .collect()
    };
    ingest_files(files, &read, &store.into(), options)
}

/// Converts the objects of an S3 trail that the store does not hold yet, or whose ETag changed.
/// `runtime` runs the S3 requests; call from a thread that may block.
pub fn ingest_s3(
    trail: &ctq_s3::S3Trail,
    runtime: &tokio::runtime::Handle,
    store: impl Into<Store>,
    options: &IngestOptions,
) -> Result<IngestReport, StoreError> {
    let mut listing = runtime.block_on(trail.list(&Pruning::default()))?;
    let files = listing
        .files
        .drain(..)
        .map(|file| {
            let listed = listing.versions.remove(&file.path);
            let version = Version {
                size: listed.as_ref().map_or(0, |v| v.size),
                modified_ms: 0,
                etag: listed.and_then(|v| v.etag),
            };
            SourceFile { file, version }
        })
        .collect();
    let read = |chunk: &[TrailFile]| -> Vec<Result<Vec<u8>, String>> {
        let mut fetched: HashMap<PathBuf, Result<Vec<u8>, String>> = runtime.block_on(async {
            let (sender, mut receiver) = tokio::sync::mpsc::channel(64);
            let fetch = trail.fetch(chunk.to_vec(), sender);
            let collect = async {
                let mut all = HashMap::new();
                while let Some((file, bytes)) = receiver.recv().await {
                    all.insert(file.path, bytes.map_err(|damage| damage.to_string()));
                }
                all
            };
            tokio::join!(fetch, collect).1
        });
        chunk
            .iter()
            .map(|f| {
                fetched
                    .remove(&f.path)
                    .unwrap_or_else(|| Err("not fetched".to_string()))
            })
            .collect()
    };
    ingest_files(files, &read, &store.into(), options)
}

fn ingest_files(
    files: Vec<SourceFile>,
    read_chunk: &ReadChunk,
    store: &Store,
    options: &IngestOptions,
) -> Result<IngestReport, StoreError> {
    let listed = store.list()?;
    refuse_foreign_folder(store, &listed)?;
    store.prepare()?;
    // Held to the end of the run. A store that takes the lock is listed again under it: a run
    // that held it a moment ago may have changed what is there.
    let writer = store.lock_for_writing()?;
    let existing = if writer.is_some() {
        store.list()?
    } else {
        listed
    };
    let mut manifest = Manifest::load_from(store)?;
    let mut report = IngestReport {
        leftovers_removed: remove_unlisted_files(store, &existing, &manifest)?,
        sources: files.len(),
        ..IngestReport::default()
    };

    let mut to_read: Vec<SourceFile> = Vec::new();
    let mut changed: HashSet<String> = HashSet::new();
    let mut by_key: HashMap<String, SourceFile> = HashMap::new();
    for source in files {
        let key = source.file.path.to_string_lossy().into_owned();
        match manifest.sources.get(&key) {
            None => to_read.push(source),
            Some(entry) if Version::of(entry) != source.version => {
                changed.insert(key);
                to_read.push(source);
            }
            Some(entry) if entry.status == SourceStatus::Damaged && options.retry_damaged => {
                to_read.push(source)
            }
            Some(_) => {
                by_key.insert(key, source);
            }
        }
    }
    report.changed = changed.len();

    // A changed file's rows share data files with other sources: drop those files whole and read
    // their other sources again, so no row is lost and none is kept twice.
    let dropped: BTreeSet<String> = manifest
        .files
        .iter()
        .filter(|(_, data)| data.sources.iter().any(|s| changed.contains(s)))
        .map(|(name, _)| name.clone())
        .collect();
    for name in &dropped {
        for source in &manifest.files[name].sources {
            if let Some(source) = by_key.remove(source) {
                to_read.push(source);
            }
        }
    }
    report.unchanged = report.sources - to_read.len();
    report.read = to_read.len();
    if to_read.is_empty() && dropped.is_empty() {
        return Ok(report);
    }

    manifest.run += 1;
    let mut writer = PartitionWriter {
        store,
        run: manifest.run,
        next_file: 0,
        options,
        event_ids: HashMap::new(),
        dropped: &dropped,
        duplicates: 0,
    };
    let mut pending_drop = Some(dropped.clone());
    let chunk_size = options.files_per_commit.max(1);
    for (index, chunk) in to_read.chunks(chunk_size).enumerate() {
        let files: Vec<TrailFile> = chunk.iter().map(|s| s.file.clone()).collect();
        let raw = read_chunk(&files);
        let decoded: Vec<Result<Option<RecordBatch>, String>> = raw
            .into_par_iter()
            .zip(files.par_iter())
            .map(|(bytes, file)| decode(bytes?, file))
            .collect();
        let mut batches = Vec::new();
        for (source, outcome) in chunk.iter().zip(decoded) {
            let file = &source.file;
            let key = file.path.to_string_lossy().into_owned();
            let (status, reason) = match outcome {
                Ok(Some(batch)) => {
                    batches.push((key.clone(), batch));
                    (SourceStatus::Ingested, None)
                }
                Ok(None) => (SourceStatus::NotEvents, None),
                Err(reason) => {
                    if options.strict {
                        return Err(StoreError::Damaged {
                            path: file.path.clone(),
                            reason,
                        });
                    }
                    report.damaged.push((file.path.clone(), reason.clone()));
                    (SourceStatus::Damaged, Some(reason))
                }
            };
            manifest.sources.insert(
                key,
                SourceEntry {
                    size: source.version.size,
                    modified_ms: source.version.modified_ms,
                    etag: source.version.etag.clone(),
                    status,
                    records: 0,
                    reason,
                },
            );
        }
        // The first commit also retires the dropped files: their sources are re-read in it or in
        // a later chunk, and until then the manifest must not list rows it is about to replace.
        if let Some(dropped) = pending_drop.take() {
            for name in &dropped {
                manifest.files.remove(name);
            }
            // Sources still to be read lose their entries with it: their rows may have been in
            // the retired files, and a run killed before it reads them must read them again.
            for later in &to_read[((index + 1) * chunk_size).min(to_read.len())..] {
                manifest
                    .sources
                    .remove(later.file.path.to_string_lossy().as_ref());
            }
        }
        let written = writer.write(&manifest, batches)?;
        for (name, data, per_source) in written {
            for (source, records) in per_source {
                if let Some(entry) = manifest.sources.get_mut(&source) {
                    entry.records += records;
                }
            }
            report.records_written += data.rows;
            report.files_written += 1;
            manifest.files.insert(name, data);
        }
        manifest.commit(store)?;
    }
    report.duplicates_dropped = writer.duplicates_dropped();
    for name in &dropped {
        store.remove(name)?;
    }
    Ok(report)
}

/// A store is a new or empty folder, or one holding only what ingest writes (a run killed before
/// its first commit leaves partition folders and no manifest yet): ingesting into a folder of
/// other files (the trail itself, say) would mix the two.
fn refuse_foreign_folder(store: &Store, existing: &[String]) -> Result<(), StoreError> {
    if existing.iter().any(|name| name == Manifest::NAME) {
        return Ok(());
    }
    if existing.iter().any(|name| !Store::is_ours(name)) {
        return Err(StoreError::NotAStore {
            path: store.describe(""),
        });
    }
    Ok(())
}

fn local_version(path: &Path) -> Result<Version, StoreError> {
    let meta = std::fs::metadata(path).map_err(io_error("read", path))?;
    let modified_ms = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as i64);
    Ok(Version {
        size: meta.len(),
        modified_ms,
        etag: None,
    })
}

/// One source file's records as one batch; `None` for a file of no events; `Err` the reason it
/// is damaged.
fn decode(raw: Vec<u8>, file: &TrailFile) -> Result<Option<RecordBatch>, String> {
    let mut builder = TrailBatchBuilder::new();
    match ctq_ingest::decode_file_bytes(raw, &file.partition, &mut builder) {
        Ok(FileOutcome::Read { .. }) => builder.finish().map(Some).map_err(|e| e.to_string()),
        Ok(FileOutcome::NonEvent(_)) => Ok(None),
        Ok(FileOutcome::Damaged(reason)) => Err(reason),
        Err(damage) => Err(damage.to_string()),
    }
}

/// Removes data files under `store` that the manifest does not list: half-written files and
/// files published by a run that was interrupted before its manifest commit.
fn remove_unlisted_files(
    store: &Store,
    existing: &[String],
    manifest: &Manifest,
) -> Result<usize, StoreError> {
    let mut removed = 0;
    for name in existing {
        let leftover = if name.starts_with("_ctq/") {
            name.contains(".tmp-")
        } else {
            Store::is_ours(name) && !manifest.files.contains_key(name)
        };
        if leftover {
            store.remove(name)?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// (account, region, date) of a row.
type PartitionKey = (String, String, String);

struct PartitionWriter<'a> {
    store: &'a Store,
    run: u64,
    next_file: usize,
    options: &'a IngestOptions,
    /// EventIDs stored per partition, loaded when a partition is first written in this run.
    event_ids: HashMap<PartitionKey, HashSet<String>>,
    /// Data files on their way out: their IDs do not count as stored.
    dropped: &'a BTreeSet<String>,
    duplicates: u64,
}

/// A data file written: its name, its manifest entry, and rows per source.
type Written = (String, DataFile, BTreeMap<String, u64>);

impl PartitionWriter<'_> {
    fn duplicates_dropped(&self) -> u64 {
        self.duplicates
    }

    fn write(
        &mut self,
        manifest: &Manifest,
        batches: Vec<(String, RecordBatch)>,
    ) -> Result<Vec<Written>, StoreError> {
        let schema = store_schema();
        // Each event time is parsed once, into `eventts`; the partition day is read from it.
        let batches = batches
            .into_iter()
            .map(|(source, batch)| Ok((source, with_event_timestamp(&batch, &schema)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        // Rows of every batch, grouped by partition: (batch index, row indices).
        let mut groups: BTreeMap<PartitionKey, Vec<(usize, Vec<u32>)>> = BTreeMap::new();
        for (index, (_, batch)) in batches.iter().enumerate() {
            let keys = partition_keys(batch);
            let mut rows_by_key: BTreeMap<PartitionKey, Vec<u32>> = BTreeMap::new();
            for (row, key) in keys.into_iter().enumerate() {
                rows_by_key.entry(key).or_default().push(row as u32);
            }
            for (key, rows) in rows_by_key {
                groups.entry(key).or_default().push((index, rows));
            }
        }
        let mut written = Vec::new();
        for (key, parts) in groups {
            let known = self.known_ids(manifest, &key)?;
            let mut pieces = Vec::new();
            let mut per_source: BTreeMap<String, u64> = BTreeMap::new();
            let mut duplicates = 0;
            for (index, rows) in parts {
                let (source, batch) = &batches[index];
                let ids = string_column(batch, "eventid");
                let total = rows.len();
                let kept: Vec<u32> = rows
                    .into_iter()
                    .filter(|&row| {
                        let row = row as usize;
                        !ids.is_valid(row) || known.insert(ids.value(row).to_string())
                    })
                    .collect();
                duplicates += (total - kept.len()) as u64;
                if kept.is_empty() {
                    continue;
                }
                *per_source.entry(source.clone()).or_default() += kept.len() as u64;
                pieces.push(take_rows(batch, &kept)?);
            }
            self.duplicates += duplicates;
            if pieces.is_empty() {
                continue;
            }
            let all = arrow_select::concat::concat_batches(&schema, &pieces)?;
            let sorted = sort_by_time(&all)?;
            let (name, rows) = self.write_file(&key, &sorted)?;
            written.push((
                name,
                DataFile {
                    rows,
                    sources: per_source.keys().cloned().collect(),
                },
                per_source,
            ));
        }
        Ok(written)
    }

    /// The eventIDs the store holds in a partition (outside the files being replaced).
    fn known_ids(
        &mut self,
        manifest: &Manifest,
        key: &PartitionKey,
    ) -> Result<&mut HashSet<String>, StoreError> {
        if !self.event_ids.contains_key(key) {
            let prefix = partition_dir(key);
            let mut ids = HashSet::new();
            for name in manifest.files.keys() {
                if name.starts_with(&prefix) && !self.dropped.contains(name) {
                    read_event_ids(self.store, name, &mut ids)?;
                }
            }
            self.event_ids.insert(key.clone(), ids);
        }
        Ok(self.event_ids.get_mut(key).expect("inserted above"))
    }

    /// Encodes `batch` as Parquet and publishes it whole in the partition's folder.
    fn write_file(
        &mut self,
        key: &PartitionKey,
        batch: &RecordBatch,
    ) -> Result<(String, u64), StoreError> {
        self.next_file += 1;
        let name = format!(
            "{}/part-{:06}-{:05}.parquet",
            partition_dir(key),
            self.run,
            self.next_file
        );
        let properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(
                ZstdLevel::try_new(3).expect("a valid level"),
            ))
            .set_max_row_group_row_count(Some(self.options.row_group_rows.max(1)))
            .set_statistics_enabled(EnabledStatistics::Page)
            .build();
        let parquet_error = |source| StoreError::Parquet {
            path: self.store.describe(&name),
            source,
        };
        let mut writer = ArrowWriter::try_new(Vec::new(), batch.schema(), Some(properties))
            .map_err(parquet_error)?;
        writer.write(batch).map_err(parquet_error)?;
        let bytes = writer.into_inner().map_err(parquet_error)?;
        self.store.write(&name, bytes)?;
        Ok((name, batch.num_rows() as u64))
    }
}

fn partition_dir((account, region, date): &PartitionKey) -> String {
    format!(
        "{}={account}/{}={region}/{}={date}",
        PARTITION_COLUMNS[0], PARTITION_COLUMNS[1], PARTITION_COLUMNS[2]
    )
}

fn read_event_ids(store: &Store, name: &str, ids: &mut HashSet<String>) -> Result<(), StoreError> {
    let parquet_error = |source| StoreError::Parquet {
        path: store.describe(name),
        source,
    };
    // The manifest lists it, so it is there unless someone removed it behind the store's back.
    let bytes = store.read(name)?.ok_or_else(|| StoreError::Manifest {
        path: store.describe(Manifest::NAME),
        reason: format!("it lists {name}, which is missing"),
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
        .map_err(parquet_error)?;
    let mask = ProjectionMask::columns(builder.parquet_schema(), ["eventid"]);
    for batch in builder
        .with_projection(mask)
        .build()
        .map_err(parquet_error)?
    {
        let batch = batch?;
        let column = string_column(&batch, "eventid");
        ids.extend(column.iter().flatten().map(str::to_string));
    }
    Ok(())
}

fn string_column(batch: &RecordBatch, name: &str) -> StringArray {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        .cloned()
        .unwrap_or_else(|| StringArray::new_null(batch.num_rows()))
}

/// Partition values from the event itself (the batch already has `eventts`): recipient account (else the path's account),
/// `awsRegion` (else the path's region), the UTC day of `eventTime`. Missing values are `unknown`.
fn partition_keys(batch: &RecordBatch) -> Vec<PartitionKey> {
    let recipient = string_column(batch, "recipientaccountid");
    let path_account = string_column(batch, "account");
    let aws_region = string_column(batch, "awsregion");
    let path_region = string_column(batch, "region");
    let times = batch
        .column_by_name(EVENT_TIMESTAMP_COLUMN)
        .and_then(|c| c.as_any().downcast_ref::<TimestampMillisecondArray>())
        .expect("batches get eventts before partitioning");
    fn value(a: &StringArray, row: usize) -> Option<&str> {
        a.is_valid(row).then(|| a.value(row))
    }
    (0..batch.num_rows())
        .map(|row| {
            let clean = |v: Option<&str>| {
                v.filter(|v| {
                    !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
                .unwrap_or("unknown")
                .to_string()
            };
            let account = clean(value(&recipient, row).or(value(&path_account, row)));
            let region = clean(value(&aws_region, row).or(value(&path_region, row)));
            // The UTC day of the time a query compares, so a window's days select its rows.
            let date = times
                .is_valid(row)
                .then(|| times.value(row))
                .and_then(chrono::DateTime::from_timestamp_millis)
                .map_or_else(
                    || "unknown".to_string(),
                    |t| t.format("%Y-%m-%d").to_string(),
                );
            (account, region, date)
        })
        .collect()
}

fn take_rows(batch: &RecordBatch, rows: &[u32]) -> Result<RecordBatch, StoreError> {
    let indices = UInt32Array::from(rows.to_vec());
    Ok(arrow_select::take::take_record_batch(batch, &indices)?)
}

fn with_event_timestamp(
    batch: &RecordBatch,
    schema: &SchemaRef,
) -> Result<RecordBatch, StoreError> {
    let times = string_column(batch, "eventtime");
    let millis: TimestampMillisecondArray = times
        .iter()
        .map(|t| t.and_then(ctq_ingest::time::parse_iso8601_millis))
        .collect::<TimestampMillisecondArray>()
        .with_timezone("UTC");
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns.push(Arc::new(millis));
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// Rows by event time, then event ID, so files are ordered and equal inputs give equal files.
fn sort_by_time(batch: &RecordBatch) -> Result<RecordBatch, StoreError> {
    use arrow_ord::sort::{SortColumn, lexsort_to_indices};
    let column = |name: &str| -> ArrayRef {
        batch
            .column_by_name(name)
            .expect("the store schema has it")
            .clone()
    };
    let indices = lexsort_to_indices(
        &[
            SortColumn {
                values: column(EVENT_TIMESTAMP_COLUMN),
                options: None,
            },
            SortColumn {
                values: column("eventid"),
                options: None,
            },
        ],
        None,
    )?;
    Ok(arrow_select::take::take_record_batch(batch, &indices)?)
}
