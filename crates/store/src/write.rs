//! `ingest`: source log files in, Parquet files and a manifest out.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use ctq_ingest::{
    FileOutcome, Pruning, TextRepairs, TrailBatchBuilder, TrailFile, cloudtrail_schema,
};
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::arrow_writer::{ArrowColumnChunk, ArrowLeafColumn, compute_leaves};
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use rayon::prelude::*;

use crate::files::Store;
use crate::health::{DataFileFault, check_listed, verify_footers};
use crate::manifest::{DataFile, Manifest, SourceEntry, SourceStatus};
use crate::plan::{Change, Plan, SourceFile, Version, plan};
use crate::rebuild::FileOrigin;
use crate::{
    EVENT_ACCOUNT_COLUMN, EVENT_DATE_COLUMN, EVENT_REGION_COLUMN, EVENT_TIMESTAMP_COLUMN,
    StoreError, io_error,
};

/// How an ingest runs.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Fail at the first damaged source file instead of recording it.
    pub strict: bool,
    /// Read again the source files an earlier run recorded as damaged.
    pub retry_damaged: bool,
    /// Source files per commit, at most: the manifest is committed after each group, so an
    /// interrupted run keeps what it finished, and memory stays bounded by the group, not the
    /// trail.
    pub files_per_commit: usize,
    /// Source bytes per commit (as listed: gzip for gzip files), at most, unless one file is
    /// larger: a group ends at whichever bound comes first. Memory follows the bytes decoded, and
    /// files differ in size a hundredfold between a quiet account's and a busy one's.
    pub bytes_per_commit: u64,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
    /// How closely the store's data files are checked before the run; a file that fails is
    /// repaired by reading its sources again.
    pub check: DataFileCheck,
    /// The most a gzip source file may inflate to; past it the file is damaged (a gzip bomb).
    pub max_inflated_bytes: usize,
    /// Remove data files the store cannot account for, and drop the rows of damaged data files
    /// whose sources are no longer in the trail, instead of refusing to.
    pub force: bool,
}

/// The default bound on a commit's source bytes, in MiB: on the benchmark trail (about 28 KB of
/// gzip a file) some 220 files, which keeps `ctq ingest`'s peak under 400 MB while one batch is
/// decoded and the one before it encoded.
pub const DEFAULT_MIB_PER_COMMIT: u64 = 6;

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            strict: false,
            retry_damaged: false,
            files_per_commit: 512,
            bytes_per_commit: DEFAULT_MIB_PER_COMMIT << 20,
            row_group_rows: 32 * 1024,
            check: DataFileCheck::Listing,
            max_inflated_bytes: ctq_ingest::DEFAULT_MAX_INFLATED_BYTES,
            force: false,
        }
    }
}

/// How an ingest checks the data files its manifest lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFileCheck {
    /// Each is there at its size: what the store's listing gives, at no cost.
    Listing,
    /// Each has a readable footer with the manifest's row count, too (`--verify`): reads every
    /// footer, on S3 every data object.
    Footers,
}

/// What one ingest did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestSummary {
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
    /// Files whose text needed repairs (invalid UTF-8, say) to be read, with what was repaired:
    /// their records are stored, with U+FFFD where the bad bytes were.
    pub repaired_text: Vec<(PathBuf, TextRepairs)>,
    pub records_written: u64,
    /// Records whose event (ID, time and name) the store already held: CloudTrail delivers some
    /// events twice.
    pub duplicates_dropped: u64,
    pub files_written: usize,
    /// Files left by an interrupted run, removed.
    pub leftovers_removed: usize,
    /// Data files found missing or damaged: replaced by reading their sources again.
    pub repaired: Vec<DataFileFault>,
    /// Sources whose rows were in a repaired data file and that are no longer in the trail: their
    /// rows there are gone (only under `force`).
    pub unrecoverable_sources: usize,
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

/// Reads a chunk of source files: each one's bytes, or why it could not be read.
type ReadChunk<'a> = dyn Fn(&[TrailFile]) -> Vec<ReadSource> + Sync + 'a;

/// A source file's bytes, or why they could not be read.
type ReadSource = Result<Vec<u8>, String>;

/// Converts the trail files under `sources` (local folders or files) that the store does not
/// hold yet, or that changed, into Parquet files under `store`.
pub fn ingest(
    sources: &[PathBuf],
    store: impl Into<Store>,
    options: &IngestOptions,
) -> Result<IngestSummary, StoreError> {
    // Keys are absolute, so running from another folder does not make every file look new.
    let sources: Vec<PathBuf> = sources
        .iter()
        .map(|s| std::fs::canonicalize(s).unwrap_or_else(|_| s.clone()))
        .collect();
    let discovery = ctq_ingest::discover(&sources, &Pruning::default())?;
    // A store keeps no record of entries it could not walk to: rather than archive part of a
    // folder silently, it stops, naming the entry.
    if let Some((path, damage)) = discovery.report.damaged().next() {
        return Err(StoreError::Unwalkable {
            path: path.to_path_buf(),
            reason: damage.to_string(),
        });
    }
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
) -> Result<IngestSummary, StoreError> {
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

/// Opens `store` for writing, plans the run and carries it out.
fn ingest_files(
    sources: Vec<SourceFile>,
    read_chunk: &ReadChunk,
    store: &Store,
    options: &IngestOptions,
) -> Result<IngestSummary, StoreError> {
    let listed = store.list()?;
    refuse_foreign_folder(store, &listed)?;
    store.prepare()?;
    // Held to the end of the run. A store that takes the lock is listed again under it: a run
    // that held it a moment ago may have changed what is there.
    let lock = store.lock_for_writing()?;
    let existing = if lock.is_some() {
        store.list()?
    } else {
        listed
    };
    let manifest = open_manifest(store, &existing, options.force)?;
    let leftovers_removed = remove_unlisted_files(store, &existing, &manifest, options.force)?;

    let mut faults = check_listed(&manifest, &existing);
    if options.check == DataFileCheck::Footers {
        let found: BTreeSet<String> = faults.iter().map(|f| f.name.clone()).collect();
        faults.extend(verify_footers(store, &manifest, &found)?);
    }
    let faulty: BTreeSet<String> = faults.iter().map(|f| f.name.clone()).collect();
    let listed = sources.len();
    let plan = plan(&manifest, sources, options.retry_damaged, &faulty);
    if !plan.unrecoverable.is_empty() && !options.force {
        return Err(unrecoverable(store, &manifest, &plan));
    }
    let mut report = IngestSummary {
        leftovers_removed,
        repaired: faults,
        unrecoverable_sources: plan.unrecoverable.len(),
        ..planned(&plan, listed)
    };
    if !plan.is_empty() {
        apply(&plan, manifest, store, read_chunk, options, &mut report)?;
    }
    drop(lock);
    Ok(report)
}

/// The store's manifest. A store without one is new, and gets an empty one before any data file
/// is published: data files without a manifest are then a lost manifest, not a run killed
/// before its first commit, and are not removed unless `force`.
fn open_manifest(
    store: &Store,
    existing: &[(String, u64)],
    force: bool,
) -> Result<Manifest, StoreError> {
    if let Some(manifest) = Manifest::load_existing(store)? {
        return Ok(manifest);
    }
    let data_files = existing
        .iter()
        .filter(|(name, _)| Store::is_data_file(name))
        .count();
    if data_files > 0 && !force {
        return Err(StoreError::ManifestLost {
            store: store.name(),
            data_files,
        });
    }
    let manifest = Manifest::empty();
    manifest.commit(store)?;
    Ok(manifest)
}

/// The error for a repair that would lose rows: data files `plan` repairs hold rows of sources
/// that are no longer in the trail.
fn unrecoverable(store: &Store, manifest: &Manifest, plan: &Plan) -> StoreError {
    let files: Vec<&String> = plan
        .repair
        .iter()
        .filter(|name| {
            manifest.files[*name]
                .sources
                .iter()
                .any(|s| plan.unrecoverable.contains(s))
        })
        .collect();
    StoreError::Unrecoverable {
        store: store.name(),
        files: files.len(),
        first_file: files.first().map(|s| (*s).clone()).unwrap_or_default(),
        sources: plan.unrecoverable.len(),
        first_source: plan.unrecoverable.first().cloned().unwrap_or_default(),
        rows: files.iter().map(|name| manifest.files[*name].rows).sum(),
    }
}

/// The report of a run of `plan` over `listed` sources, before it reads any.
fn planned(plan: &Plan, listed: usize) -> IngestSummary {
    IngestSummary {
        sources: listed,
        read: plan.to_read.len(),
        unchanged: listed - plan.to_read.len(),
        changed: plan.count(Change::Changed),
        ..IngestSummary::default()
    }
}

/// Carries out `plan`: reads its sources in batches of `files_per_commit` files and
/// `bytes_per_commit` bytes and commits each batch, then removes the data files it retired.
///
/// Crash safety rests on the order: a batch's data files are published before the manifest that
/// lists them, and a retired file is removed only once a committed manifest no longer lists it.
/// A run killed at any point leaves a manifest that lists only whole files, and whatever it
/// does not list is removed by the next run, which reads again every source the manifest lacks.
fn apply(
    plan: &Plan,
    mut manifest: Manifest,
    files: &dyn StoreFiles,
    read_chunk: &ReadChunk,
    options: &IngestOptions,
    report: &mut IngestSummary,
) -> Result<(), StoreError> {
    manifest.run += 1;
    let mut writer = PartitionWriter {
        files,
        run: manifest.run,
        next_file: 0,
        options,
        event_ids: HashMap::new(),
        retired: &plan.retire,
        duplicates: 0,
    };
    // A repair of files whose sources are all gone reads nothing, and still commits once.
    let batches: Vec<&[SourceFile]> = if plan.to_read.is_empty() {
        vec![&[]]
    } else {
        commit_batches(&plan.to_read, options)
    };
    // Each batch is read and decoded while the one before it is encoded and committed: the
    // commit's serial steps (grouping, publishing, the manifest) and its smaller partitions would
    // otherwise leave a core idle. Memory holds two batches' rows at the peak.
    let mut batches = batches.into_iter();
    let mut next = batches
        .next()
        .map(|batch| (batch, decode_sources(batch, read_chunk, options)));
    let mut index = 0;
    while let Some((batch, decoded)) = next.take() {
        let decoded = decoded?;
        report.damaged.extend(decoded.damaged);
        report.repaired_text.extend(decoded.repaired_text);
        manifest.sources.extend(decoded.entries);
        if index == 0 {
            unlist_retired(&mut manifest, plan, &plan.to_read[batch.len()..]);
        }
        let following = batches.next();
        let committed = std::thread::scope(|scope| {
            let decoding = following.map(|batch| {
                scope.spawn(move || (batch, decode_sources(batch, read_chunk, options)))
            });
            let committed =
                commit_batch(files, &mut writer, &mut manifest, decoded.batches, report);
            next = decoding.map(|d| d.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            committed
        });
        committed?;
        index += 1;
    }
    report.duplicates_dropped = writer.duplicates_dropped();
    remove_retired(files, &plan.retire)?;
    if !manifest.retiring.is_empty() {
        manifest.retiring.clear();
        files.commit_manifest(&manifest)?;
    }
    Ok(())
}

/// `sources` in order, cut into batches of at most `files_per_commit` files and
/// `bytes_per_commit` listed bytes; a file larger than that is a batch of its own.
fn commit_batches<'a>(sources: &'a [SourceFile], options: &IngestOptions) -> Vec<&'a [SourceFile]> {
    runs(sources, options.files_per_commit, options.bytes_per_commit)
        .into_iter()
        .map(|run| &sources[run])
        .collect()
}

/// `sources` in order, cut into runs of at most `most_files` files and `most_bytes` listed bytes,
/// as ranges; a file larger than that is a run of its own.
fn runs(sources: &[SourceFile], most_files: usize, most_bytes: u64) -> Vec<Range<usize>> {
    let most_files = most_files.max(1);
    let mut runs = Vec::new();
    let mut start = 0;
    while start < sources.len() {
        let mut end = start + 1;
        let mut bytes = sources[start].version.size;
        while end < sources.len() && end - start < most_files {
            bytes = bytes.saturating_add(sources[end].version.size);
            if bytes > most_bytes {
                break;
            }
            end += 1;
        }
        runs.push(start..end);
        start = end;
    }
    runs
}

/// A batch of sources, read and decoded.
#[derive(Debug)]
struct Decoded {
    /// Each source's manifest entry; its `records` are counted as its rows are written.
    entries: Vec<(String, SourceEntry)>,
    /// The rows of the sources that hold events, a run of consecutive sources to a batch.
    batches: Vec<SourcedBatch>,
    /// The damaged sources, with the reason.
    damaged: Vec<(PathBuf, String)>,
    /// The sources whose text needed repairs to be read, with what was repaired.
    repaired_text: Vec<(PathBuf, TextRepairs)>,
}

/// The rows of a run of consecutive sources, each source's rows together and in the order its
/// file holds them.
#[derive(Debug)]
struct SourcedBatch {
    batch: RecordBatch,
    /// Each source's key and the row after its last, in row order; a source without rows has none.
    sources: Vec<(String, usize)>,
}

impl SourcedBatch {
    /// The place in `sources` of the source of `row`.
    fn source_of(&self, row: usize) -> usize {
        self.sources.partition_point(|(_, end)| *end <= row)
    }
}

/// The listed bytes of sources decoded into one batch, at most (a larger file is a batch of its
/// own). A batch for each file cost each of its 50-odd columns an allocation, a resize and a
/// free per file, and a piece to concatenate: batches of a few files take those costs a few times
/// per commit instead of hundreds. A batch's strings stay far below the 2 GiB an Arrow string
/// column holds: at gzip's highest ratio 512 KiB inflate to about 530 MB.
const BATCH_SOURCE_BYTES: u64 = 512 << 10;

/// What decoding one source gave: its rows (`None` for a file that holds no events) and the
/// repairs its text needed, or why it is damaged.
type SourceOutcome = Result<(Option<usize>, TextRepairs), String>;

/// Reads `sources` with `read_chunk` and decodes them, in parallel, runs of consecutive sources
/// into one batch each. A damaged source is recorded, or under `strict` stops the run.
fn decode_sources(
    sources: &[SourceFile],
    read_chunk: &ReadChunk,
    options: &IngestOptions,
) -> Result<Decoded, StoreError> {
    let files: Vec<TrailFile> = sources.iter().map(|s| s.file.clone()).collect();
    let mut raw = read_chunk(&files).into_iter();
    let read_runs: Vec<(Range<usize>, Vec<ReadSource>)> =
        runs(sources, usize::MAX, BATCH_SOURCE_BYTES)
            .into_iter()
            .map(|run| {
                let bytes = raw.by_ref().take(run.len()).collect();
                (run, bytes)
            })
            .collect();
    // A builder is reused from run to run on each core: one made for each allocated room for
    // every column, and at its end room for a next batch it never held (reusing one took an
    // ingest's CPU down by a twentieth, its peak memory by a sixth).
    let decoded_runs: Vec<(Vec<SourceOutcome>, Option<RecordBatch>)> = read_runs
        .into_par_iter()
        .map_init(TrailBatchBuilder::new, |builder, (run, raw)| {
            let outcomes: Vec<SourceOutcome> = raw
                .into_iter()
                .zip(&files[run])
                .map(|(bytes, file)| {
                    let before = builder.len();
                    append_source(bytes?, file, options.max_inflated_bytes, builder)
                        .map(|(events, repairs)| (events.then(|| builder.len() - before), repairs))
                })
                .collect();
            let batch = (!builder.is_empty()).then(|| builder.finish());
            match batch.transpose() {
                Ok(batch) => (outcomes, batch),
                // Building the batch failed: each source it held is damaged.
                Err(e) => {
                    let failed = outcomes
                        .into_iter()
                        .map(|outcome| match outcome {
                            Ok((Some(rows), _)) if rows > 0 => Err(e.to_string()),
                            other => other,
                        })
                        .collect();
                    (failed, None)
                }
            }
        })
        .collect();
    let mut decoded = Decoded {
        entries: Vec::with_capacity(sources.len()),
        batches: Vec::new(),
        damaged: Vec::new(),
        repaired_text: Vec::new(),
    };
    let mut sources = sources.iter();
    for (outcomes, batch) in decoded_runs {
        let mut held = Vec::new();
        let mut rows = 0;
        // Outcomes first: a zip takes an item from its first iterator before it finds the second
        // one ended.
        for (outcome, source) in outcomes.into_iter().zip(sources.by_ref()) {
            let key = source.key();
            if let Ok((_, repairs)) = &outcome
                && !repairs.is_none()
            {
                decoded
                    .repaired_text
                    .push((source.file.path.clone(), *repairs));
            }
            let (status, reason) = match outcome {
                Ok((Some(events), _)) => {
                    if events > 0 {
                        rows += events;
                        held.push((key.clone(), rows));
                    }
                    (SourceStatus::Ingested, None)
                }
                Ok((None, _)) => (SourceStatus::NotEvents, None),
                Err(reason) => {
                    let path = source.file.path.clone();
                    if options.strict {
                        return Err(StoreError::Damaged { path, reason });
                    }
                    decoded.damaged.push((path, reason.clone()));
                    (SourceStatus::Damaged, Some(reason))
                }
            };
            decoded.entries.push((
                key,
                SourceEntry {
                    size: source.version.size,
                    modified_ms: source.version.modified_ms,
                    etag: source.version.etag.clone(),
                    status,
                    records: 0,
                    reason,
                },
            ));
        }
        if let Some(batch) = batch {
            debug_assert_eq!(batch.num_rows(), rows);
            decoded.batches.push(SourcedBatch {
                batch,
                sources: held,
            });
        }
    }
    Ok(decoded)
}

/// Retiring, on the run's first commit: the retired data files leave the manifest, since the run
/// is about to replace their rows, and are named in its `retiring` list until they are removed.
/// So do the entries of the sources read in later batches: their rows may have been in those
/// files, and a run killed before it reads them must read them again; and those of sources whose
/// rows are lost with a damaged data file.
fn unlist_retired(manifest: &mut Manifest, plan: &Plan, later: &[SourceFile]) {
    for name in &plan.retire {
        manifest.files.remove(name);
    }
    manifest.retiring.clone_from(&plan.retire);
    for source in later {
        manifest.sources.remove(&source.key());
    }
    for source in &plan.unrecoverable {
        manifest.sources.remove(source);
    }
}

/// Commits a batch: publishes its data files, each whole, then the manifest that lists them.
/// `manifest` already holds the batch's source entries; their row counts are added here.
fn commit_batch(
    files: &dyn StoreFiles,
    writer: &mut PartitionWriter,
    manifest: &mut Manifest,
    batches: Vec<SourcedBatch>,
    report: &mut IngestSummary,
) -> Result<(), StoreError> {
    let written = writer.write(manifest, batches)?;
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
    files.commit_manifest(manifest)
}

/// Retiring, after the run's last commit: removes the retired data files, which the committed
/// manifest no longer lists. A run killed before leaves them to the next, as leftovers.
fn remove_retired(files: &dyn StoreFiles, retire: &BTreeSet<String>) -> Result<(), StoreError> {
    for name in retire {
        files.remove_file(name)?;
    }
    Ok(())
}

/// The store's files as a run's commits change them: a [`Store`], or in tests a record of each
/// step.
trait StoreFiles {
    /// How the file `name` is named in messages.
    fn describe_file(&self, name: &str) -> PathBuf;
    fn read_file(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Publishes a data file whole.
    fn publish(&self, name: &str, bytes: Vec<u8>) -> Result<(), StoreError>;
    /// Replaces the manifest atomically.
    fn commit_manifest(&self, manifest: &Manifest) -> Result<(), StoreError>;
    fn remove_file(&self, name: &str) -> Result<(), StoreError>;
}

impl StoreFiles for Store {
    fn describe_file(&self, name: &str) -> PathBuf {
        self.describe(name)
    }

    fn read_file(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(name)
    }

    fn publish(&self, name: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.write(name, bytes)
    }

    fn commit_manifest(&self, manifest: &Manifest) -> Result<(), StoreError> {
        manifest.commit(self)
    }

    fn remove_file(&self, name: &str) -> Result<(), StoreError> {
        self.remove(name)
    }
}

/// A store is a new or empty folder, or one holding only what ingest writes (a run killed before
/// its first commit leaves partition folders and no manifest yet): ingesting into a folder of
/// other files (the trail itself, say) would mix the two.
fn refuse_foreign_folder(store: &Store, existing: &[(String, u64)]) -> Result<(), StoreError> {
    if existing.iter().any(|(name, _)| name == Manifest::NAME) {
        return Ok(());
    }
    if existing.iter().any(|(name, _)| !Store::is_ours(name)) {
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

/// Appends one source file's records to `builder`: whether it holds events, and the repairs its
/// text needed; `Err` the reason it is damaged, with nothing appended.
fn append_source(
    raw: Vec<u8>,
    file: &TrailFile,
    max_inflated_bytes: usize,
    builder: &mut TrailBatchBuilder,
) -> Result<(bool, TextRepairs), String> {
    // The decoder appends a file's records only once all of them are read, so a file it refuses
    // leaves the builder as it was for the next one (a unit test holds it to that).
    match ctq_ingest::decode_file_bytes(raw, &file.partition, max_inflated_bytes, builder) {
        Ok(FileOutcome::Read { repaired, .. }) => Ok((true, repaired)),
        Ok(FileOutcome::NonEvent(_)) => Ok((false, TextRepairs::NONE)),
        Ok(FileOutcome::Damaged(reason)) => Err(reason.to_string()),
        Err(damage) => Err(damage.to_string()),
    }
}

/// Removes the files under `store` that an interrupted run left: half-written files, data files
/// of the run the manifest was last committed by or a later one (published before a commit that
/// did not happen), and retired data files not yet removed. Any other data file the manifest
/// does not list is one the store cannot account for (a manifest restored from an old copy, say):
/// the run stops rather than remove it, unless `force`.
fn remove_unlisted_files(
    store: &Store,
    existing: &[(String, u64)],
    manifest: &Manifest,
    force: bool,
) -> Result<usize, StoreError> {
    let mut leftovers = Vec::new();
    let mut unaccounted = Vec::new();
    for (name, _) in existing {
        if name.starts_with("_ctq/") {
            if Store::is_temporary(name) {
                leftovers.push(name);
            }
            continue;
        }
        if !Store::is_ours(name) || manifest.files.contains_key(name) {
            continue;
        }
        let left_by_a_run = !Store::is_data_file(name)
            || manifest.retiring.contains(name)
            || Manifest::run_of(name).is_some_and(|run| run >= manifest.run);
        if left_by_a_run || force {
            leftovers.push(name);
        } else {
            unaccounted.push(name);
        }
    }
    if let Some(first) = unaccounted.first() {
        return Err(StoreError::Unaccounted {
            store: store.name(),
            count: unaccounted.len(),
            first: (*first).clone(),
        });
    }
    for name in &leftovers {
        store.remove(name)?;
    }
    Ok(leftovers.len())
}

/// (account, region, date) of a row.
type PartitionKey = (String, String, String);

/// What a row's [`PartitionKey`] is made of, as its batch holds it: account, region, UTC day.
type PartitionValues<'a> = (Option<&'a str>, Option<&'a str>, Option<i64>);

struct PartitionWriter<'a> {
    files: &'a dyn StoreFiles,
    run: u64,
    next_file: usize,
    options: &'a IngestOptions,
    /// The events stored per partition, loaded when a partition is first written in this run.
    event_ids: HashMap<PartitionKey, EventIds>,
    /// Data files on their way out: their IDs do not count as stored.
    retired: &'a BTreeSet<String>,
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
        batches: Vec<SourcedBatch>,
    ) -> Result<Vec<Written>, StoreError> {
        let schema = store_schema();
        // Each event time is parsed once, into `eventts`; the partition day is read from it.
        // Each batch's rows are grouped by partition on every core.
        let batches = batches
            .into_par_iter()
            .map(|sourced| {
                let batch = with_event_timestamp(&sourced.batch, &schema)?;
                let rows_by_key = rows_by_partition(&batch);
                Ok((SourcedBatch { batch, ..sourced }, rows_by_key))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        // Rows of every batch, grouped by partition: (batch index, row indices).
        let mut groups: BTreeMap<PartitionKey, Vec<(usize, Vec<u32>)>> = BTreeMap::new();
        let batches: Vec<SourcedBatch> = batches
            .into_iter()
            .enumerate()
            .map(|(index, (batch, rows_by_key))| {
                for (key, rows) in rows_by_key {
                    groups.entry(key).or_default().push((index, rows));
                }
                batch
            })
            .collect();
        // Each partition's stored IDs are loaded first; then the partitions are deduplicated
        // and encoded on every core, each with its own ID set; then published in order,
        // so file names and the manifest do not depend on which core finished first.
        let mut work = Vec::with_capacity(groups.len());
        for (key, parts) in groups {
            self.known_ids(manifest, &key)?;
            let known = self.event_ids.remove(&key).unwrap_or_default();
            let folder = self.files.describe_file(&partition_dir(&key));
            work.push((key, parts, known, folder));
        }
        let row_group_rows = self.options.row_group_rows.max(1);
        let encoded: Vec<(PartitionKey, EventIds, Result<Encoded, StoreError>)> = work
            .into_par_iter()
            .map(|(key, parts, mut known, folder)| {
                let result = encode_partition(
                    &folder,
                    parts,
                    &batches,
                    &mut known,
                    manifest,
                    &schema,
                    row_group_rows,
                );
                (key, known, result)
            })
            .collect();
        let mut written = Vec::new();
        let mut failure = None;
        for (key, known, result) in encoded {
            self.event_ids.insert(key.clone(), known);
            let encoded = match result {
                Ok(encoded) => encoded,
                Err(e) => {
                    failure.get_or_insert(e);
                    continue;
                }
            };
            self.duplicates += encoded.duplicates;
            let Some((bytes, rows)) = encoded.file else {
                continue;
            };
            self.next_file += 1;
            let name = format!(
                "{}/part-{:06}-{:05}.parquet",
                partition_dir(&key),
                self.run,
                self.next_file
            );
            let size = bytes.len() as u64;
            self.files.publish(&name, bytes)?;
            written.push((
                name,
                DataFile {
                    rows,
                    sources: encoded.per_source.keys().cloned().collect(),
                    bytes: Some(size),
                },
                encoded.per_source,
            ));
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(written),
        }
    }

    /// The events the store holds in a partition (outside the files being replaced).
    fn known_ids(
        &mut self,
        manifest: &Manifest,
        key: &PartitionKey,
    ) -> Result<&mut EventIds, StoreError> {
        if !self.event_ids.contains_key(key) {
            let prefix = partition_dir(key);
            let mut ids = EventIds::default();
            for name in manifest.files.keys() {
                if name.starts_with(&prefix) && !self.retired.contains(name) {
                    read_event_ids(self.files, name, &mut ids)?;
                }
            }
            self.event_ids.insert(key.clone(), ids);
        }
        Ok(self.event_ids.get_mut(key).expect("inserted above"))
    }
}

/// A partition's share of a commit, ready to publish.
struct Encoded {
    /// The Parquet file and its rows; `None` when every row was stored already.
    file: Option<(Vec<u8>, u64)>,
    per_source: BTreeMap<String, u64>,
    duplicates: u64,
}

/// Drops the rows of `parts` whose event the partition holds (adding the others to `known`),
/// and encodes the rest, in the order of the commit's sources, as one Parquet file with where its
/// rows came from in its metadata. `folder` names the partition in errors.
fn encode_partition(
    folder: &Path,
    parts: Vec<(usize, Vec<u32>)>,
    batches: &[SourcedBatch],
    known: &mut EventIds,
    manifest: &Manifest,
    schema: &SchemaRef,
    row_group_rows: usize,
) -> Result<Encoded, StoreError> {
    let mut rows: Vec<(usize, usize)> = Vec::new();
    let mut per_source: BTreeMap<String, u64> = BTreeMap::new();
    let mut duplicates = 0;
    for (index, part) in parts {
        let sourced = &batches[index];
        let batch = &sourced.batch;
        let ids = string_column(batch, "eventid");
        let (times, names) = (
            string_column(batch, "eventtime"),
            string_column(batch, "eventname"),
        );
        // Rows kept of each of the batch's sources, by place.
        let mut kept = vec![0u64; sourced.sources.len()];
        for row in part {
            let row = row as usize;
            if !ids.is_valid(row)
                || known.insert(ids.value(row), cell(&times, row), cell(&names, row))
            {
                rows.push((index, row));
                kept[sourced.source_of(row)] += 1;
            } else {
                duplicates += 1;
            }
        }
        for ((source, _), kept) in sourced.sources.iter().zip(kept) {
            if kept > 0 {
                *per_source.entry(source.clone()).or_default() += kept;
            }
        }
    }
    if rows.is_empty() {
        return Ok(Encoded {
            file: None,
            per_source,
            duplicates,
        });
    }
    // The partition's rows in commit order: source files in order, each file's rows as written.
    // A batch whose rows all stay is used as it is; the others give up the rows they lose. The
    // pieces are encoded as they are, never concatenated: the column writers take them one after
    // another (a copy of every value of the partition was 4.5% of an ingest's CPU, and memory
    // held it next to the pieces).
    let pieces = kept_pieces(&rows, batches)?;
    let origin = FileOrigin::of(manifest, &per_source);
    let parquet_error = |source| StoreError::Parquet {
        path: folder.to_path_buf(),
        source,
    };
    let bytes = encode_parquet(schema, &pieces, writer_properties(&origin, row_group_rows))
        .map_err(parquet_error)?;
    let rows = rows.len() as u64;
    Ok(Encoded {
        file: Some((bytes, rows)),
        per_source,
        duplicates,
    })
}

/// Columns whose values are about as many as the rows: a dictionary of them costs its hashing and
/// is then dropped for plain pages once it outgrows its page, so they are written plain from the
/// start (faster, and the files came out smaller: 150 against 157 MB on the benchmark trail).
const PLAIN_COLUMNS: [&str; 7] = [
    "eventid",
    "requestid",
    "eventtime",
    EVENT_TIMESTAMP_COLUMN,
    "requestparameters",
    "responseelements",
    "additionaleventdata",
];

/// Nested columns written plain, as [`PLAIN_COLUMNS`]: the ARNs of `resources` (an object's
/// ARN for every S3 data event) outgrew their dictionary in every file, after hashing each value.
const PLAIN_NESTED_COLUMNS: [&[&str]; 1] = [&["resources", "list", "item", "arn"]];

/// Columns of free text or of many values in no order, whose minimum and maximum per page or row
/// group can never rule one out: their statistics, a comparison of every value as it is written,
/// are not kept. A file's rows follow its sources' delivery order, so a page holds the calls of
/// every principal, address and object of its minutes. The time columns (a window's rows are in
/// neighbouring pages) and the short, repeated ones keep theirs. Nested columns by their dotted
/// path.
const NO_STATISTICS_COLUMNS: [&str; 19] = [
    "eventid",
    "requestid",
    "sharedeventid",
    "requestparameters",
    "responseelements",
    "additionaleventdata",
    "errormessage",
    "useragent",
    "sourceipaddress",
    "useridentity.principalid",
    "useridentity.arn",
    "useridentity.accesskeyid",
    "useridentity.username",
    "useridentity.sessioncontext.attributes.creationdate",
    "useridentity.sessioncontext.sessionissuer.principalid",
    "useridentity.sessioncontext.sessionissuer.arn",
    "useridentity.sessioncontext.sessionissuer.username",
    "resources.list.item.arn",
    "tlsdetails.clientprovidedhostheader",
];

/// How a partition's file is written. Zstandard level 1: on the benchmark trail level 3 gave no
/// smaller files (157 against 151 MB, with dictionaries on every column) and took a sixth longer
/// to encode; reading is as fast at either level.
fn writer_properties(origin: &FileOrigin, row_group_rows: usize) -> WriterProperties {
    let builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).expect("a valid level"),
        ))
        .set_max_row_group_row_count(Some(row_group_rows))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_key_value_metadata(Some(vec![origin.key_value()]));
    let plain =
        PLAIN_COLUMNS
            .iter()
            .map(|column| ColumnPath::from(*column))
            .chain(PLAIN_NESTED_COLUMNS.iter().map(|path| {
                ColumnPath::new(path.iter().map(|part| (*part).to_string()).collect())
            }));
    let builder = plain.fold(builder, |builder, column| {
        builder.set_column_dictionary_enabled(column, false)
    });
    NO_STATISTICS_COLUMNS
        .iter()
        .fold(builder, |builder, column| {
            let path = ColumnPath::new(column.split('.').map(str::to_string).collect());
            builder.set_column_statistics_enabled(path, EnabledStatistics::None)
        })
        .build()
}

/// The rows of `pieces`, in order, as a Parquet file of row groups of the rows `properties`
/// allow, each row group's columns encoded on every core: a commit holds a few partitions, often
/// one much larger than the others, so encoding partitions side by side alone leaves a core idle.
/// A row group may span pieces: each column writer is given their slices one after another.
fn encode_parquet(
    schema: &SchemaRef,
    pieces: &[RecordBatch],
    properties: WriterProperties,
) -> Result<Vec<u8>, ParquetError> {
    let row_group_rows = properties
        .max_row_group_row_count()
        .unwrap_or(usize::MAX)
        .max(1);
    // The Arrow writer puts the Arrow schema in the file's metadata; its lower-level parts then
    // encode each row group's columns apart.
    let (mut file, row_groups) =
        ArrowWriter::try_new(Vec::new(), schema.clone(), Some(properties))?
            .into_serialized_writer()?;
    let mut rest = pieces
        .iter()
        .filter(|piece| piece.num_rows() > 0)
        .peekable();
    // Rows of the next piece already given to earlier row groups.
    let mut used = 0;
    let mut index = 0;
    while rest.peek().is_some() {
        // Each leaf column's values in this row group, a slice of a piece each.
        let mut leaves: Vec<Vec<ArrowLeafColumn>> = Vec::new();
        let mut wanted = row_group_rows;
        while wanted > 0
            && let Some(piece) = rest.peek()
        {
            let length = wanted.min(piece.num_rows() - used);
            let slice = piece.slice(used, length);
            let mut leaf = 0;
            for (field, column) in schema.fields().iter().zip(slice.columns()) {
                for values in compute_leaves(field, column)? {
                    if leaf == leaves.len() {
                        leaves.push(Vec::new());
                    }
                    leaves[leaf].push(values);
                    leaf += 1;
                }
            }
            wanted -= length;
            used += length;
            if used == piece.num_rows() {
                rest.next();
                used = 0;
            }
        }
        let chunks: Vec<ArrowColumnChunk> = row_groups
            .create_column_writers(index)?
            .into_par_iter()
            .zip(leaves)
            .map(|(mut writer, slices)| {
                for values in &slices {
                    writer.write(values)?;
                }
                writer.close()
            })
            .collect::<Result<_, _>>()?;
        let mut row_group = file.next_row_group()?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
        index += 1;
    }
    file.into_inner()
}

fn partition_dir((account, region, date): &PartitionKey) -> String {
    format!(
        "{EVENT_ACCOUNT_COLUMN}={account}/{EVENT_REGION_COLUMN}={region}/{EVENT_DATE_COLUMN}={date}"
    )
}

/// Adds the events of the data file `name` of `store` to `ids`.
pub(crate) fn read_event_ids_of(
    store: &Store,
    name: &str,
    ids: &mut EventIds,
) -> Result<(), StoreError> {
    read_event_ids(store, name, ids)
}

fn read_event_ids(
    files: &dyn StoreFiles,
    name: &str,
    ids: &mut EventIds,
) -> Result<(), StoreError> {
    each_event_id(files, name, |id, time, event_name| {
        ids.insert(id, time, event_name);
    })
}

/// Calls `each` with the ID, time and name of every event of the data file `name` that has an
/// ID.
fn each_event_id(
    files: &dyn StoreFiles,
    name: &str,
    mut each: impl FnMut(&str, Option<&str>, Option<&str>),
) -> Result<(), StoreError> {
    let parquet_error = |source| StoreError::Parquet {
        path: files.describe_file(name),
        source,
    };
    // The manifest lists it, so it is there unless someone removed it behind the store's back.
    let bytes = files.read_file(name)?.ok_or_else(|| StoreError::Manifest {
        path: files.describe_file(Manifest::NAME),
        reason: format!("it lists {name}, which is missing"),
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
        .map_err(parquet_error)?;
    let mask = ProjectionMask::columns(
        builder.parquet_schema(),
        ["eventid", "eventtime", "eventname"],
    );
    for batch in builder
        .with_projection(mask)
        .build()
        .map_err(parquet_error)?
    {
        let batch = batch?;
        let (ids, times, names) = (
            string_column(&batch, "eventid"),
            string_column(&batch, "eventtime"),
            string_column(&batch, "eventname"),
        );
        for row in 0..batch.num_rows() {
            if ids.is_valid(row) {
                each(ids.value(row), cell(&times, row), cell(&names, row));
            }
        }
    }
    Ok(())
}

fn cell(column: &StringArray, row: usize) -> Option<&str> {
    column.is_valid(row).then(|| column.value(row))
}

/// The events a partition holds, to drop the rows it has already: millions of them in a long
/// ingest, each as 128 bits, not as strings. An event is its ID, time and name: a second delivery
/// is a copy, while hand-written trails reuse IDs for different events, which are all kept. A
/// canonical UUID (as CloudTrail writes every ID) is its own bits
/// ([`ctq_ingest::event_id::uuid_bits`]), mixed with a hash of the time and name; any other ID is
/// hashed with them. The hashes are seeded for the run, so no trail can be written to make two
/// events collide.
#[derive(Debug, Default)]
pub(crate) struct EventIds(HashSet<u128, foldhash::fast::RandomState>);

impl EventIds {
    fn key(id: &str, time: Option<&str>, name: Option<&str>) -> u128 {
        use std::hash::BuildHasher;
        static SEEDS: LazyLock<[foldhash::quality::RandomState; 2]> =
            LazyLock::new(Default::default);
        match ctq_ingest::event_id::uuid_bits(id) {
            Some(bits) => bits ^ u128::from(SEEDS[0].hash_one((time, name))),
            None => {
                (u128::from(SEEDS[0].hash_one((id, time, name))) << 64)
                    | u128::from(SEEDS[1].hash_one((id, time, name)))
            }
        }
    }

    /// Adds the event with this ID, time and name; whether it was not held yet.
    pub(crate) fn insert(&mut self, id: &str, time: Option<&str>, name: Option<&str>) -> bool {
        self.0.insert(Self::key(id, time, name))
    }

    /// Whether the two sets hold an ID in common.
    pub(crate) fn overlaps(&self, other: &EventIds) -> bool {
        !self.0.is_disjoint(&other.0)
    }

    pub(crate) fn extend(&mut self, other: EventIds) {
        self.0.extend(other.0);
    }
}

fn string_column(batch: &RecordBatch, name: &str) -> StringArray {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        .cloned()
        .unwrap_or_else(|| StringArray::new_null(batch.num_rows()))
}

/// The rows of `batch` by partition (the batch already has `eventts`). A row's partition comes
/// from the event itself: recipient account (else the path's account), `awsRegion` (else the
/// path's region), the UTC day of `eventTime`. Missing values are `unknown`.
fn rows_by_partition(batch: &RecordBatch) -> BTreeMap<PartitionKey, Vec<u32>> {
    fn value(a: &StringArray, row: usize) -> Option<&str> {
        a.is_valid(row).then(|| a.value(row))
    }
    const MILLIS_PER_DAY: i64 = 86_400_000;
    let recipient = string_column(batch, "recipientaccountid");
    let path_account = string_column(batch, "account");
    let aws_region = string_column(batch, "awsregion");
    let path_region = string_column(batch, "region");
    let times = batch
        .column_by_name(EVENT_TIMESTAMP_COLUMN)
        .and_then(|c| c.as_any().downcast_ref::<TimestampMillisecondArray>())
        .expect("batches get eventts before partitioning");
    // Rows by the values their key is made of, borrowed. The keys (a few per file) are built once
    // each, not once a row. Each group keeps a time of its day, to name the day from.
    let mut by_values: HashMap<PartitionValues, (i64, Vec<u32>)> = HashMap::new();
    for row in 0..batch.num_rows() {
        let account = value(&recipient, row).or(value(&path_account, row));
        let region = value(&aws_region, row).or(value(&path_region, row));
        let time = times.is_valid(row).then(|| times.value(row));
        let day = time.map(|t| t.div_euclid(MILLIS_PER_DAY));
        by_values
            .entry((account, region, day))
            .or_insert_with(|| (time.unwrap_or_default(), Vec::new()))
            .1
            .push(row as u32);
    }
    let clean = |v: Option<&str>| {
        v.filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
            .unwrap_or("unknown")
            .to_string()
    };
    let mut by_key: BTreeMap<PartitionKey, Vec<u32>> = BTreeMap::new();
    for ((account, region, day), (time, rows)) in by_values {
        // The UTC day of the time a query compares, so a window's days select its rows.
        let date = day
            .and_then(|_| chrono::DateTime::from_timestamp_millis(time))
            .map_or_else(
                || "unknown".to_string(),
                |t| t.format("%Y-%m-%d").to_string(),
            );
        by_key
            .entry((clean(account), clean(region), date))
            .or_default()
            .extend(rows);
    }
    // Values that clean to one key (a missing account and an empty one) met in no set order.
    for rows in by_key.values_mut() {
        rows.sort_unstable();
    }
    by_key
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

/// The rows `rows` (batch index, row), in order, as pieces of the batches they come from: a
/// batch's run of rows is the batch itself when it is all of it, else those rows taken out.
fn kept_pieces(
    rows: &[(usize, usize)],
    batches: &[SourcedBatch],
) -> Result<Vec<RecordBatch>, StoreError> {
    let mut pieces = Vec::new();
    for run in rows.chunk_by(|a, b| a.0 == b.0) {
        let batch = &batches[run[0].0].batch;
        let whole = run.len() == batch.num_rows() && run.iter().enumerate().all(|(i, r)| r.1 == i);
        if whole {
            pieces.push(batch.clone());
        } else {
            let indices =
                arrow_array::UInt32Array::from_iter_values(run.iter().map(|r| r.1 as u32));
            pieces.push(arrow_select::take::take_record_batch(batch, &indices)?);
        }
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    #[test]
    fn event_ids_that_differ_as_text_are_told_apart() {
        let mut ids = EventIds::default();
        let uuid = "0406f0c1-47a8-4f71-8a94-18267b84042a";
        let at = Some("2024-01-01T00:00:00Z");
        let name = Some("GetObject");
        assert!(ids.insert(uuid, at, name));
        assert!(!ids.insert(uuid, at, name));
        // The same digits in capitals are another ID to the store, as they are to a query.
        assert!(ids.insert(&uuid.to_uppercase(), at, name));
        assert!(ids.insert("hand-written-1", at, name));
        assert!(!ids.insert("hand-written-1", at, name));
        assert!(ids.insert("hand-written-2", at, name));
        let mut other = EventIds::default();
        other.insert("hand-written-2", at, name);
        assert!(ids.overlaps(&other));
        assert!(!EventIds::default().overlaps(&other));
    }

    #[test]
    fn different_events_sharing_an_id_are_both_kept() {
        let mut ids = EventIds::default();
        let at = Some("2024-01-01T00:00:00Z");
        for id in ["0406f0c1-47a8-4f71-8a94-18267b84042a", "hand-written"] {
            assert!(ids.insert(id, at, Some("GetObject")));
            assert!(ids.insert(id, at, Some("PutObject")), "{id}: another name");
            assert!(ids.insert(id, Some("2024-01-01T00:00:01Z"), Some("GetObject")));
            assert!(ids.insert(id, None, None));
            assert!(
                !ids.insert(id, at, Some("GetObject")),
                "{id}: a second delivery"
            );
        }
    }

    /// A step a run took on the store's files.
    #[derive(Debug, Clone)]
    enum Step {
        Publish(String),
        Commit(Manifest),
        Remove(String),
    }

    /// The store's files in memory, and every step taken on them. `fail_publish` names a data
    /// file whose publishing fails, as a full disk would.
    #[derive(Default)]
    struct Recorder {
        files: RefCell<BTreeMap<String, Vec<u8>>>,
        steps: RefCell<Vec<Step>>,
        fail_publish: Option<String>,
    }

    impl StoreFiles for Recorder {
        fn describe_file(&self, name: &str) -> PathBuf {
            PathBuf::from("mem").join(name)
        }

        fn read_file(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
            Ok(self.files.borrow().get(name).cloned())
        }

        fn publish(&self, name: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
            if self.fail_publish.as_deref() == Some(name) {
                return Err(StoreError::Io {
                    action: "write",
                    path: self.describe_file(name),
                    source: std::io::Error::other("disk full"),
                });
            }
            self.files.borrow_mut().insert(name.to_string(), bytes);
            self.steps
                .borrow_mut()
                .push(Step::Publish(name.to_string()));
            Ok(())
        }

        fn commit_manifest(&self, manifest: &Manifest) -> Result<(), StoreError> {
            self.steps.borrow_mut().push(Step::Commit(manifest.clone()));
            Ok(())
        }

        fn remove_file(&self, name: &str) -> Result<(), StoreError> {
            self.files.borrow_mut().remove(name);
            self.steps.borrow_mut().push(Step::Remove(name.to_string()));
            Ok(())
        }
    }

    impl Recorder {
        /// The store as a run left it: the files it holds and the manifest of its last commit.
        fn holding(files: &BTreeMap<String, Vec<u8>>) -> Recorder {
            Recorder {
                files: RefCell::new(files.clone()),
                ..Recorder::default()
            }
        }

        fn commits(&self) -> Vec<Manifest> {
            let steps = self.steps.borrow();
            steps
                .iter()
                .filter_map(|s| match s {
                    Step::Commit(m) => Some(m.clone()),
                    _ => None,
                })
                .collect()
        }

        /// Checks the order crash safety rests on, at every step: each committed manifest lists
        /// only files published (and not removed) before it, and a file is removed only once a
        /// committed manifest no longer lists it. `before` is the manifest the run started from.
        fn assert_crash_safe(&self, before: &Manifest) {
            let mut present: BTreeSet<String> = before.files.keys().cloned().collect();
            let mut committed = before.clone();
            for step in self.steps.borrow().iter() {
                match step {
                    Step::Publish(name) => {
                        assert!(present.insert(name.clone()), "{name} published twice");
                    }
                    Step::Commit(manifest) => {
                        for name in manifest.files.keys() {
                            assert!(
                                present.contains(name),
                                "the manifest lists {name} before it is published"
                            );
                        }
                        committed = manifest.clone();
                    }
                    Step::Remove(name) => {
                        assert!(
                            !committed.files.contains_key(name),
                            "{name} removed while the committed manifest lists it"
                        );
                        present.remove(name);
                    }
                }
            }
        }
    }

    /// A trail file of one record per `(eventID, eventTime)`.
    fn trail_json(events: &[(&str, &str)]) -> Vec<u8> {
        let records: Vec<serde_json::Value> = events
            .iter()
            .map(|(id, time)| {
                serde_json::json!({
                    "eventVersion": "1.08",
                    "eventTime": time,
                    "eventID": id,
                    "eventName": "GetObject",
                    "eventSource": "s3.amazonaws.com",
                    "awsRegion": "us-east-1",
                    "recipientAccountId": "123456789012",
                })
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({ "Records": records })).unwrap()
    }

    /// Sources by path, with their content; every source's size is its length.
    #[derive(Default, Clone)]
    struct Trail(BTreeMap<String, Vec<u8>>);

    impl Trail {
        fn with(mut self, path: &str, content: Vec<u8>) -> Self {
            self.0.insert(path.to_string(), content);
            self
        }

        fn events(self, path: &str, events: &[(&str, &str)]) -> Self {
            self.with(path, trail_json(events))
        }

        fn sources(&self) -> Vec<SourceFile> {
            self.0
                .iter()
                .map(|(path, bytes)| SourceFile::for_test(path, bytes.len() as u64))
                .collect()
        }

        fn read(&self, chunk: &[TrailFile]) -> Vec<Result<Vec<u8>, String>> {
            chunk
                .iter()
                .map(|f| {
                    self.0
                        .get(f.path.to_string_lossy().as_ref())
                        .cloned()
                        .ok_or_else(|| "cannot read: gone".to_string())
                })
                .collect()
        }
    }

    fn options(files_per_commit: usize) -> IngestOptions {
        IngestOptions {
            files_per_commit,
            ..IngestOptions::default()
        }
    }

    /// Plans and applies a run of `trail` over `files`, whose last manifest is `before`, as
    /// `ingest_files` does once it holds the store.
    fn run(
        trail: &Trail,
        before: &Manifest,
        files: &Recorder,
        options: &IngestOptions,
    ) -> Result<(Plan, IngestSummary), StoreError> {
        let sources = trail.sources();
        let listed = sources.len();
        let plan = plan(before, sources, options.retry_damaged, &BTreeSet::new());
        let mut report = planned(&plan, listed);
        if !plan.is_empty() {
            apply(
                &plan,
                before.clone(),
                files,
                &|chunk: &[TrailFile]| trail.read(chunk),
                options,
                &mut report,
            )?;
        }
        files.assert_crash_safe(before);
        Ok((plan, report))
    }

    /// eventID -> how many rows of the data files `manifest` lists hold it.
    fn stored_ids(files: &Recorder, manifest: &Manifest) -> BTreeMap<String, usize> {
        let mut all = BTreeMap::new();
        for name in manifest.files.keys() {
            let mut ids = BTreeSet::new();
            each_event_id(files, name, |id, _, _| {
                ids.insert(id.to_string());
            })
            .unwrap();
            for id in ids {
                *all.entry(id).or_default() += 1;
            }
        }
        all
    }

    fn ids(list: &[&str]) -> BTreeMap<String, usize> {
        list.iter().map(|id| (id.to_string(), 1)).collect()
    }

    const DAY1: &str = "2019-10-29T10:00:00Z";
    const DAY2: &str = "2019-10-30T10:00:00Z";

    fn three_sources() -> Trail {
        Trail::default()
            .events("/t/a", &[("a1", DAY1), ("a2", DAY2)])
            .events("/t/b", &[("b1", DAY1)])
            .events("/t/c", &[("c1", DAY1)])
    }

    /// The store after one run of `trail` in a single commit: its files and manifest.
    fn stored(trail: &Trail) -> (Recorder, Manifest) {
        let files = Recorder::default();
        run(trail, &Manifest::default(), &files, &options(100)).unwrap();
        let manifest = files.commits().pop().unwrap();
        (Recorder::holding(&files.files.borrow()), manifest)
    }

    #[test]
    fn decoding_records_each_source_by_what_it_holds() {
        let trail = Trail::default()
            .events("/t/events", &[("e1", DAY1), ("e2", DAY1)])
            .with(
                "/t/digest",
                br#"{"digestStartTime":"2019-10-29T10:00:00Z"}"#.to_vec(),
            )
            .with("/t/broken", b"{\"Records\": [".to_vec());
        let mut sources = trail.sources();
        sources.push(SourceFile::for_test("/t/unreadable", 3));
        let read = |chunk: &[TrailFile]| trail.read(chunk);
        let decoded = decode_sources(&sources, &read, &IngestOptions::default()).unwrap();

        let status: BTreeMap<&str, (SourceStatus, bool, u64)> = decoded
            .entries
            .iter()
            .map(|(k, e)| (k.as_str(), (e.status, e.reason.is_some(), e.size)))
            .collect();
        let events_size = trail.0["/t/events"].len() as u64;
        assert_eq!(
            status,
            BTreeMap::from([
                ("/t/events", (SourceStatus::Ingested, false, events_size)),
                ("/t/digest", (SourceStatus::NotEvents, false, 42)),
                ("/t/broken", (SourceStatus::Damaged, true, 13)),
                ("/t/unreadable", (SourceStatus::Damaged, true, 3)),
            ])
        );
        assert_eq!(decoded.batches.len(), 1);
        assert_eq!(decoded.batches[0].sources, [("/t/events".to_string(), 2)]);
        assert_eq!(decoded.batches[0].batch.num_rows(), 2);
        let damaged: Vec<&Path> = decoded.damaged.iter().map(|(p, _)| p.as_path()).collect();
        assert_eq!(
            damaged,
            [Path::new("/t/broken"), Path::new("/t/unreadable")]
        );
        assert!(decoded.damaged[1].1.contains("cannot read"));

        match decode_sources(
            &sources,
            &read,
            &IngestOptions {
                strict: true,
                ..IngestOptions::default()
            },
        ) {
            Err(StoreError::Damaged { path, .. }) => assert_eq!(path, Path::new("/t/broken")),
            other => panic!("strict decoding went on: {other:?}"),
        }
    }

    #[test]
    fn a_builder_reused_after_a_damaged_file_holds_only_the_next_file_s_records() {
        let trail = Trail::default()
            .events("/t/before", &[("e1", DAY1)])
            .events("/t/after", &[("e2", DAY1), ("e3", DAY1)]);
        let mut broken = trail_json(&[("b1", DAY1), ("b2", DAY1)]);
        broken.truncate(broken.len() - 3);
        let file = |path: &str| SourceFile::for_test(path, 1).file;
        let mut builder = TrailBatchBuilder::new();
        let mut append = |raw: Vec<u8>, path: &str| {
            let before = builder.len();
            let appended = append_source(raw, &file(path), 1 << 20, &mut builder);
            (appended.map(|(events, _)| events), builder.len() - before)
        };
        assert_eq!(
            append(trail.0["/t/before"].clone(), "/t/before"),
            (Ok(true), 1)
        );
        let (refused, rows) = append(broken, "/t/broken");
        assert!(refused.is_err());
        assert_eq!(rows, 0, "a damaged file left rows behind");
        assert_eq!(
            append(trail.0["/t/after"].clone(), "/t/after"),
            (Ok(true), 2)
        );
        let batch = builder.finish().unwrap();
        let ids = string_column(&batch, "eventid");
        let ids: Vec<&str> = (0..ids.len()).map(|row| ids.value(row)).collect();
        assert_eq!(ids, ["e1", "e2", "e3"]);
    }

    #[test]
    fn consecutive_sources_share_a_batch_and_each_is_counted_by_its_own_rows() {
        // Small sources, all in one run, a damaged one and one of no events among them.
        let trail = Trail::default()
            .events("/t/a", &[("a1", DAY1), ("a2", DAY2)])
            .with("/t/broken", b"{\"Records\": [".to_vec())
            .with(
                "/t/digest",
                br#"{"digestStartTime":"2019-10-29T10:00:00Z"}"#.to_vec(),
            )
            .events("/t/b", &[("b1", DAY1), ("a1", DAY1)])
            .events("/t/c", &[("c1", DAY2)]);
        let sources = trail.sources();
        let read = |chunk: &[TrailFile]| trail.read(chunk);
        let decoded = decode_sources(&sources, &read, &IngestOptions::default()).unwrap();
        assert_eq!(decoded.batches.len(), 1);
        assert_eq!(
            decoded.batches[0].sources,
            [
                ("/t/a".to_string(), 2),
                ("/t/b".to_string(), 4),
                ("/t/c".to_string(), 5)
            ]
        );
        let source_of: Vec<usize> = (0..5)
            .map(|row| decoded.batches[0].source_of(row))
            .collect();
        assert_eq!(source_of, [0, 0, 1, 1, 2]);
        // Listed as larger, the sources are a run each: each holds its own rows, and each
        // outcome is its own source's.
        let large: Vec<SourceFile> = sources
            .iter()
            .map(|s| SourceFile::for_test(&s.key(), BATCH_SOURCE_BYTES / 2 + 1))
            .collect();
        let apart = decode_sources(&large, &read, &IngestOptions::default()).unwrap();
        let held: Vec<Vec<(String, usize)>> =
            apart.batches.iter().map(|b| b.sources.clone()).collect();
        assert_eq!(
            held,
            [
                vec![("/t/a".to_string(), 2)],
                vec![("/t/b".to_string(), 2)],
                vec![("/t/c".to_string(), 1)]
            ]
        );
        let status = |decoded: &Decoded| -> Vec<(String, SourceStatus)> {
            decoded
                .entries
                .iter()
                .map(|(key, entry)| (key.clone(), entry.status))
                .collect()
        };
        assert_eq!(status(&apart), status(&decoded));
        assert_eq!(
            status(&decoded)[2],
            ("/t/broken".to_string(), SourceStatus::Damaged)
        );

        let files = Recorder::default();
        let (_, report) = run(&trail, &Manifest::default(), &files, &options(100)).unwrap();
        let manifest = files.commits().pop().unwrap();
        // b's copy of a1 (same ID, time and name) is dropped and counted to nobody.
        assert_eq!(
            stored_ids(&files, &manifest),
            ids(&["a1", "a2", "b1", "c1"])
        );
        let records = |source: &str| manifest.sources[source].records;
        assert_eq!(
            [records("/t/a"), records("/t/b"), records("/t/c")],
            [2, 1, 1]
        );
        assert_eq!(records("/t/broken"), 0);
        // Day 1 holds a and b, day 2 a and c: the batch was split between the two files.
        let sources: Vec<Vec<&str>> = manifest
            .files
            .values()
            .map(|f| f.sources.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(sources, [vec!["/t/a", "/t/b"], vec!["/t/a", "/t/c"]]);
        assert_eq!(report.records_written, 4);
    }

    #[test]
    fn a_new_store_gets_every_source_in_one_commit() {
        let trail = three_sources();
        let files = Recorder::default();
        let (_, report) = run(&trail, &Manifest::default(), &files, &options(100)).unwrap();
        let commits = files.commits();
        assert_eq!(commits.len(), 1);
        let manifest = &commits[0];
        assert_eq!(manifest.run, 1);
        assert_eq!(stored_ids(&files, manifest), ids(&["a1", "a2", "b1", "c1"]));
        // One file per partition (day): day 1 holds a, b and c, day 2 only a.
        assert_eq!(manifest.files.len(), 2);
        let sources: Vec<usize> = manifest.files.values().map(|f| f.sources.len()).collect();
        assert_eq!(sources, [3, 1]);
        assert_eq!(manifest.sources["/t/a"].records, 2);
        assert_eq!(
            (report.records_written, report.files_written),
            (4, 2),
            "{report:?}"
        );
    }

    #[test]
    fn files_per_commit_commits_each_batch_after_its_files() {
        let trail = three_sources()
            .events("/t/d", &[("d1", DAY2)])
            .events("/t/e", &[("e1", DAY1)]);
        let files = Recorder::default();
        run(&trail, &Manifest::default(), &files, &options(2)).unwrap();
        let commits = files.commits();
        // Batches [a, b], [c, d], [e]: each commit adds its batch's sources and files.
        let sources: Vec<Vec<&str>> = commits
            .iter()
            .map(|m| m.sources.keys().map(String::as_str).collect())
            .collect();
        assert_eq!(
            sources,
            [
                vec!["/t/a", "/t/b"],
                vec!["/t/a", "/t/b", "/t/c", "/t/d"],
                vec!["/t/a", "/t/b", "/t/c", "/t/d", "/t/e"],
            ]
        );
        let files_listed: Vec<usize> = commits.iter().map(|m| m.files.len()).collect();
        assert_eq!(files_listed, [2, 4, 5]);
        // Each commit comes right after the files of its batch.
        let steps: Vec<&str> = files
            .steps
            .borrow()
            .iter()
            .map(|s| match s {
                Step::Publish(_) => "publish",
                Step::Commit(_) => "commit",
                Step::Remove(_) => "remove",
            })
            .collect();
        assert_eq!(
            steps,
            [
                "publish", "publish", "commit", "publish", "publish", "commit", "publish", "commit"
            ]
        );
        assert!(commits.iter().all(|m| m.run == 1));
        let last = commits.last().unwrap();
        assert_eq!(
            stored_ids(&files, last),
            ids(&["a1", "a2", "b1", "c1", "d1", "e1"])
        );
    }

    /// `events` (ID, time) as one source's batch, with `eventts`, as a commit holds it.
    fn stored_batch(events: &[(&str, &str)]) -> RecordBatch {
        let mut builder = TrailBatchBuilder::new();
        ctq_ingest::decode_file_bytes(
            trail_json(events),
            &ctq_ingest::path::Partition::default(),
            1 << 20,
            &mut builder,
        )
        .unwrap();
        with_event_timestamp(&builder.finish().unwrap(), &store_schema()).unwrap()
    }

    #[test]
    fn a_partition_keeps_its_sources_order_and_copies_only_the_sources_it_splits() {
        let source = |ids: &[&str]| {
            let events: Vec<(&str, &str)> = ids.iter().map(|id| (*id, DAY1)).collect();
            stored_batch(&events)
        };
        let sourced = |key: &str, batch: RecordBatch| SourcedBatch {
            sources: vec![(key.to_string(), batch.num_rows())],
            batch,
        };
        let batches = vec![
            sourced("a", source(&["a0", "a1", "a2"])),
            sourced("b", source(&["b0", "b1", "b2", "b3"])),
            sourced("c", source(&["c0", "c1"])),
        ];
        // All of a, b's rows 1 and 3 (the others elsewhere or stored already), all of c.
        let rows = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 3), (2, 0), (2, 1)];
        let pieces = kept_pieces(&rows, &batches).unwrap();
        let ids: Vec<String> = pieces
            .iter()
            .flat_map(|piece| {
                let ids = string_column(piece, "eventid");
                (0..ids.len()).map(move |row| ids.value(row).to_string())
            })
            .collect();
        assert_eq!(ids, ["a0", "a1", "a2", "b1", "b3", "c0", "c1"]);
        // A source kept whole is its own batch, not a copy; a split one is a copy of its rows.
        let values = |batch: &RecordBatch| string_column(batch, "eventid").values().as_ptr();
        assert_eq!(values(&pieces[0]), values(&batches[0].batch));
        assert_eq!(values(&pieces[2]), values(&batches[2].batch));
        assert_ne!(values(&pieces[1]), values(&batches[1].batch));
        assert_eq!(pieces[1].num_rows(), 2);
    }

    #[test]
    fn a_file_encoded_column_by_column_reads_back_whole_in_its_row_groups() {
        let schema = store_schema();
        let events: Vec<(String, &str)> = (0..7).map(|i| (format!("e{i}"), DAY1)).collect();
        let events: Vec<(&str, &str)> =
            events.iter().map(|(id, day)| (id.as_str(), *day)).collect();
        let batch = stored_batch(&events);
        let origin = FileOrigin::of(&Manifest::default(), &BTreeMap::new());
        // Row groups of 3 over pieces of 2, 0 and 5 rows: the first row group spans two pieces.
        let pieces = [batch.slice(0, 2), batch.slice(2, 0), batch.slice(2, 5)];
        let bytes = encode_parquet(&schema, &pieces, writer_properties(&origin, 3)).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes)).unwrap();
        let groups: Vec<i64> = reader
            .metadata()
            .row_groups()
            .iter()
            .map(parquet::file::metadata::RowGroupMetaData::num_rows)
            .collect();
        assert_eq!(groups, [3, 3, 1]);
        // Statistics where they can rule a row group out, none for free text.
        let first = &reader.metadata().row_groups()[0];
        let column = |name: &str| {
            first
                .columns()
                .iter()
                .find(|c| c.column_path().string() == name)
                .unwrap_or_else(|| panic!("no column {name}"))
        };
        let statistics = |name: &str| column(name).statistics().is_some();
        assert!(statistics(EVENT_TIMESTAMP_COLUMN) && statistics("eventtime"));
        assert!(statistics("eventname") && statistics("errorcode"));
        for column in NO_STATISTICS_COLUMNS {
            assert!(!statistics(column), "{column}");
        }
        // Dictionaries for repeated values only.
        let dictionary = |name: &str| column(name).dictionary_page_offset().is_some();
        assert!(dictionary("eventname") && dictionary("resources.list.item.type"));
        assert!(!dictionary("eventid") && !dictionary("resources.list.item.arn"));
        let read: Vec<RecordBatch> = reader.build().unwrap().map(Result::unwrap).collect();
        let read = arrow_select::concat::concat_batches(&schema, &read).unwrap();
        assert_eq!(read, batch);
    }

    #[test]
    fn a_commit_ends_at_its_files_or_its_bytes_whichever_comes_first() {
        let sources: Vec<SourceFile> = [3, 3, 3, 10, 1, 1, 1, 1, 1]
            .iter()
            .enumerate()
            .map(|(i, size)| SourceFile::for_test(&format!("/t/{i}"), *size))
            .collect();
        let sizes = |options: &IngestOptions| -> Vec<Vec<u64>> {
            commit_batches(&sources, options)
                .iter()
                .map(|batch| batch.iter().map(|s| s.version.size).collect())
                .collect()
        };
        let bounded = |files_per_commit, bytes_per_commit| IngestOptions {
            files_per_commit,
            bytes_per_commit,
            ..IngestOptions::default()
        };
        // Up to 6 bytes: a file past the bound alone makes a batch, and none is left out.
        assert_eq!(
            sizes(&bounded(100, 6)),
            [vec![3, 3], vec![3], vec![10], vec![1, 1, 1, 1, 1]]
        );
        // Three files, however small.
        assert_eq!(
            sizes(&bounded(3, 100)),
            [vec![3, 3, 3], vec![10, 1, 1], vec![1, 1, 1]]
        );
        assert_eq!(sizes(&bounded(0, 0)).len(), sources.len());
    }

    #[test]
    fn an_unchanged_store_is_left_alone() {
        let trail = three_sources();
        let (files, before) = stored(&trail);
        let (plan, _) = run(&trail, &before, &files, &options(1)).unwrap();
        assert!(plan.is_empty());
        assert!(files.steps.borrow().is_empty(), "no step at all");
    }

    #[test]
    fn a_new_source_is_added_and_the_others_kept() {
        let (files, before) = stored(&three_sources());
        let trail = three_sources().events("/t/d", &[("d1", DAY1)]);
        let (_, report) = run(&trail, &before, &files, &options(100)).unwrap();
        let after = files.commits().pop().unwrap();
        assert_eq!(after.run, 2);
        assert_eq!(
            stored_ids(&files, &after),
            ids(&["a1", "a2", "b1", "c1", "d1"])
        );
        // Added alongside the old files, none of which goes.
        for name in before.files.keys() {
            assert_eq!(after.files[name], before.files[name]);
        }
        assert_eq!(report.files_written, 1);
        assert!(
            !files
                .steps
                .borrow()
                .iter()
                .any(|s| matches!(s, Step::Remove(_)))
        );
    }

    #[test]
    fn a_changed_source_is_read_again_with_its_neighbours() {
        let (files, before) = stored(&three_sources());
        // b is rewritten: its day-1 file also holds a and c, and goes. a's day-2 file holds a
        // alone and stays.
        let trail = three_sources().events("/t/b", &[("b2", DAY1), ("b3", DAY2)]);
        let (plan, report) = run(&trail, &before, &files, &options(100)).unwrap();
        assert_eq!(plan.count(Change::Changed), 1);
        let after = files.commits().pop().unwrap();
        assert_eq!(
            stored_ids(&files, &after),
            ids(&["a1", "a2", "b2", "b3", "c1"]),
            "b's old row goes; a's and c's stay, once"
        );
        let retired: Vec<&String> = before
            .files
            .keys()
            .filter(|n| !after.files.contains_key(*n))
            .collect();
        assert_eq!(retired.len(), 1, "only the file holding b");
        assert!(!files.files.borrow().contains_key(retired[0]), "removed");
        assert_eq!(after.sources["/t/b"].records, 2);
        // a is read whole again: a2, in the file that stays, is dropped as a duplicate, and a
        // counts the one row it added.
        assert_eq!(after.sources["/t/a"].records, 1);
        assert_eq!((report.read, report.duplicates_dropped), (3, 1));
    }

    #[test]
    fn until_a_changed_source_s_neighbours_are_read_again_the_manifest_lacks_them() {
        let (files, before) = stored(&three_sources());
        // Another size: a change.
        let trail = three_sources().events("/t/b", &[("b2-new", DAY1)]);
        run(&trail, &before, &files, &options(1)).unwrap();
        let commits = files.commits();
        // b, then its neighbours a and c, one per commit; then one that clears the list of
        // retiring files, once they are removed.
        assert_eq!(commits.len(), 4);
        let (first, last) = (&commits[0], &commits[2]);
        assert_eq!(commits[3].files, last.files);
        assert!(commits[3].retiring.is_empty());
        let retired: BTreeSet<&String> = before
            .files
            .keys()
            .filter(|n| !last.files.contains_key(*n))
            .collect();
        assert_eq!(retired.len(), 1);
        // The first commit already drops the retired file and the entries of a and c: a run
        // killed after it reads them again.
        assert!(first.files.keys().all(|n| !retired.contains(n)));
        assert!(first.sources.contains_key("/t/b"));
        assert!(!first.sources.contains_key("/t/a"));
        assert!(!first.sources.contains_key("/t/c"));
        // The retired file is removed after the last commit of data only, and named in the
        // manifest's retiring list until then.
        assert!(retired.iter().all(|n| first.retiring.contains(*n)));
        let steps = files.steps.borrow();
        assert!(
            matches!(&steps[steps.len() - 2], Step::Remove(name) if retired.contains(name)),
            "{steps:?}"
        );
        assert_eq!(stored_ids(&files, last), ids(&["a1", "a2", "b2-new", "c1"]));

        // Killed after the first commit: the next run reads a and c again and loses nothing.
        let killed = Recorder::holding(&files.files.borrow());
        let (plan, _) = run(&trail, first, &killed, &options(1)).unwrap();
        let read: Vec<String> = plan.to_read.iter().map(SourceFile::key).collect();
        assert_eq!(read, ["/t/a", "/t/c"]);
        let after = killed.commits().pop().unwrap();
        assert_eq!(
            stored_ids(&killed, &after),
            ids(&["a1", "a2", "b2-new", "c1"])
        );
    }

    #[test]
    fn a_deleted_source_keeps_its_rows() {
        let (files, before) = stored(&three_sources());
        let mut trail = three_sources();
        trail.0.remove("/t/c");
        let (plan, _) = run(&trail, &before, &files, &options(100)).unwrap();
        assert!(plan.is_empty());
        assert!(files.steps.borrow().is_empty());
        assert_eq!(stored_ids(&files, &before), ids(&["a1", "a2", "b1", "c1"]));
    }

    #[test]
    fn a_failed_publish_commits_no_manifest_listing_it() {
        let trail = three_sources();
        let first = Recorder::default();
        run(&trail, &Manifest::default(), &first, &options(100)).unwrap();
        let name = first.commits()[0].files.keys().next().unwrap().clone();
        let files = Recorder {
            fail_publish: Some(name),
            ..Recorder::default()
        };
        let error = run(&trail, &Manifest::default(), &files, &options(100)).unwrap_err();
        assert!(matches!(error, StoreError::Io { .. }), "{error}");
        assert!(files.commits().is_empty());
    }

    #[test]
    fn an_event_delivered_twice_is_stored_once() {
        let trail = Trail::default()
            .events("/t/a", &[("x", DAY1)])
            .events("/t/b", &[("x", DAY1), ("y", DAY1)]);
        let files = Recorder::default();
        let (_, report) = run(&trail, &Manifest::default(), &files, &options(1)).unwrap();
        let last = files.commits().pop().unwrap();
        assert_eq!(stored_ids(&files, &last), ids(&["x", "y"]));
        assert_eq!(report.duplicates_dropped, 1);
        assert_eq!(
            (last.sources["/t/a"].records, last.sources["/t/b"].records),
            (1, 1)
        );
    }
}
