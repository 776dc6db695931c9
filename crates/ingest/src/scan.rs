//! Finding trail files under the given paths and decoding them in parallel into batches.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;

use crate::IngestError;
use crate::batch::TrailBatchBuilder;
use crate::decode::{Decoded, FileDamage, RecordFilter, TextRepairs, decode_file};
use crate::path::{
    NonEventKind, Partition, PathInfo, classify_folder, classify_path, delivery_time_from_name,
};
use crate::prune::Pruning;
use crate::schema::{ColumnSet, IdentityFields};

/// A file that may hold events, with what its path says about it.
#[derive(Debug, Clone)]
pub struct TrailFile {
    pub path: PathBuf,
    pub partition: Partition,
}

/// What happened to one input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOutcome {
    Read {
        records: u64,
        /// Characters of its text that were not valid Unicode and were read as U+FFFD; worth a
        /// warning when there are any.
        repaired: TextRepairs,
    },
    /// Skipped on purpose: it holds no events (digest, Insights...).
    NonEvent(NonEventKind),
    /// Could not be read; its reason names what is wrong with it.
    Damaged(FileDamage),
}

/// Per-file outcomes of one or more scans. Keyed by path, so scanning the same file twice (a
/// self-join, say) reports it once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileOutcomes {
    pub files: BTreeMap<PathBuf, FileOutcome>,
}

impl FileOutcomes {
    pub fn files_read(&self) -> usize {
        self.files
            .values()
            .filter(|o| matches!(o, FileOutcome::Read { .. }))
            .count()
    }

    /// Records of the files read, those a scan's filter skipped undecoded among them.
    pub fn records(&self) -> u64 {
        self.files
            .values()
            .map(|o| match o {
                FileOutcome::Read { records, .. } => *records,
                _ => 0,
            })
            .sum()
    }

    pub fn skipped(&self) -> impl Iterator<Item = (&Path, NonEventKind)> {
        self.files.iter().filter_map(|(p, o)| match o {
            FileOutcome::NonEvent(kind) => Some((p.as_path(), *kind)),
            _ => None,
        })
    }

    /// The files read whose text needed repairs, with what was replaced.
    pub fn repaired(&self) -> impl Iterator<Item = (&Path, TextRepairs)> {
        self.files.iter().filter_map(|(p, o)| match o {
            FileOutcome::Read { repaired, .. } if !repaired.is_none() => {
                Some((p.as_path(), *repaired))
            }
            _ => None,
        })
    }

    pub fn damaged(&self) -> impl Iterator<Item = (&Path, &FileDamage)> {
        self.files.iter().filter_map(|(p, o)| match o {
            FileOutcome::Damaged(reason) => Some((p.as_path(), reason)),
            _ => None,
        })
    }

    pub fn merge(&mut self, other: FileOutcomes) {
        self.files.extend(other.files);
    }
}

/// The files found under the sources, and the ones skipped by path alone.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    pub files: Vec<TrailFile>,
    pub report: FileOutcomes,
    /// Event files left out because their location rules out every record the query needs.
    pub pruned: usize,
}

/// File names a folder walk treats as possible trail files. Files named on the command line are
/// read whatever their name.
pub fn looks_like_trail_file(name: &str) -> bool {
    // `.txt`: `aws cloudtrail lookup-events` output is often saved under that name. `.parquet`:
    // Security Lake's OCSF copies of a trail.
    [".json", ".gz", ".jsonl", ".ndjson", ".txt", ".parquet"]
        .iter()
        .any(|ext| name.ends_with(ext))
        || crate::path::is_firehose_object_name(name)
}

fn classify_file(path: PathBuf, pruning: &Pruning, discovery: &mut Discovery) {
    match classify_path(&path.to_string_lossy()) {
        PathInfo::Events(partition) => {
            let delivered = path
                .file_name()
                .and_then(|n| delivery_time_from_name(&n.to_string_lossy()));
            if pruning.keeps_file(&partition, delivered) {
                discovery.files.push(TrailFile { path, partition });
            } else {
                discovery.pruned += 1;
            }
        }
        PathInfo::NonEvent(kind) => {
            discovery
                .report
                .files
                .insert(path, FileOutcome::NonEvent(kind));
        }
    }
}

fn keeps_folder(path: &Path, pruning: &Pruning) -> bool {
    match classify_folder(&path.to_string_lossy()) {
        PathInfo::Events(partition) => pruning.keeps_folder(&partition),
        // Walked so that their files are counted as skipped; none of them is read.
        PathInfo::NonEvent(_) => true,
    }
}

/// Lists the trail files under each source that `pruning` keeps: a file is taken as is (its
/// location still decides), a folder is walked recursively (following links, skipping hidden
/// entries and the folders pruning rules out) in name order.
pub fn discover(sources: &[PathBuf], pruning: &Pruning) -> Result<Discovery, IngestError> {
    let mut discovery = Discovery::default();
    for source in sources {
        let meta = std::fs::metadata(source).map_err(|e| IngestError::Source {
            path: source.clone(),
            source: e,
        })?;
        if !meta.is_dir() {
            classify_file(source.clone(), pruning, &mut discovery);
            continue;
        }
        let walk = walkdir::WalkDir::new(source)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0
                    || (!e.file_name().to_string_lossy().starts_with('.')
                        && (!e.file_type().is_dir() || keeps_folder(e.path(), pruning)))
            });
        for entry in walk {
            // A dangling symlink, a symlink loop or an unreadable folder is one entry the walk
            // cannot follow: it is reported like a damaged file, and the rest is still read.
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let path = e.path().map_or_else(|| source.clone(), Path::to_path_buf);
                    let reason = e
                        .io_error()
                        .map_or_else(|| e.to_string(), ToString::to_string);
                    let reason = if e.loop_ancestor().is_some() {
                        "a symlink loop".to_string()
                    } else {
                        reason
                    };
                    discovery
                        .report
                        .files
                        .insert(path, FileOutcome::Damaged(FileDamage::Unreadable(reason)));
                    continue;
                }
            };
            if entry.file_type().is_file()
                && looks_like_trail_file(&entry.file_name().to_string_lossy())
            {
                classify_file(entry.into_path(), pruning, &mut discovery);
            }
        }
    }
    Ok(discovery)
}

/// How a scan runs.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Rows per batch handed on; small files are packed together up to it.
    pub batch_size: usize,
    /// Fail on the first damaged file instead of reporting and skipping it.
    pub strict: bool,
    /// Counters to update as files are done, for a progress display.
    pub progress: Option<Arc<Progress>>,
    /// Records the query cannot need, to leave undecoded.
    pub filter: RecordFilter,
    /// The columns batches hold; fields of the others are not even parsed.
    pub columns: ColumnSet,
    /// The leaves of `useridentity` batches fill, when it is one of `columns`.
    pub identity: IdentityFields,
    /// The most a gzip file may inflate to; past it the file is damaged (a gzip bomb).
    pub max_inflated_bytes: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            batch_size: 8192,
            strict: false,
            progress: None,
            filter: RecordFilter::default(),
            columns: ColumnSet::ALL,
            identity: IdentityFields::ALL,
            max_inflated_bytes: crate::inflate::DEFAULT_MAX_INFLATED_BYTES,
        }
    }
}

/// Files and bytes done so far, shared with whoever displays progress.
#[derive(Debug, Default)]
pub struct Progress {
    pub files_total: AtomicU64,
    pub files_done: AtomicU64,
    /// Bytes as stored (compressed), so that the rate compares with the network or disk.
    pub bytes_done: AtomicU64,
    /// Files decoded, and the records they hold (those a filter skipped undecoded too), counted
    /// as each file is done: a scan stopped early (a `LIMIT`) still counts what it read.
    pub files_read: AtomicU64,
    pub records_scanned: AtomicU64,
}

impl Progress {
    pub fn add_total(&self, files: usize) {
        self.files_total.fetch_add(files as u64, Ordering::Relaxed);
    }
}

/// A file's contents as fetched, or why they could not be.
pub type Fetched = Result<Vec<u8>, FileDamage>;

/// Where decoding workers take their next file from. Implemented for local files (each worker
/// reads the file it takes) and for objects fetched elsewhere and handed over through a channel.
pub trait FileSource: Sync {
    /// The next file and its bytes; `None` when there are no more.
    fn next_file(&self) -> Option<(TrailFile, Fetched)>;
}

/// Local files, read by whichever worker takes them, so reads run in parallel too.
struct LocalFiles<'a> {
    files: &'a [TrailFile],
    next: AtomicUsize,
}

impl FileSource for LocalFiles<'_> {
    fn next_file(&self) -> Option<(TrailFile, Fetched)> {
        let file = self.files.get(self.next.fetch_add(1, Ordering::Relaxed))?;
        Some((
            file.clone(),
            std::fs::read(&file.path).map_err(|e| FileDamage::Unreadable(e.to_string())),
        ))
    }
}

/// Files fetched by another task (S3 GETs, say), taken from wherever it leaves them.
impl<F> FileSource for F
where
    F: Fn() -> Option<(TrailFile, Fetched)> + Sync,
{
    fn next_file(&self) -> Option<(TrailFile, Fetched)> {
        self()
    }
}

/// Decodes one file's bytes into `builder`, appending its records that `filter` keeps.
pub(crate) fn decode(
    raw: Vec<u8>,
    partition: &Partition,
    options: &ScanOptions,
    builder: &mut TrailBatchBuilder,
) -> Result<FileOutcome, FileDamage> {
    let columns = builder.columns();
    let (decoded, repaired) = decode_file(
        raw,
        options.max_inflated_bytes,
        options.filter,
        columns,
        |r| builder.append(r, partition),
    )?;
    Ok(match decoded {
        Decoded::Records(n) => FileOutcome::Read {
            records: n as u64,
            repaired,
        },
        Decoded::NonEvent(kind) => FileOutcome::NonEvent(kind),
    })
}

/// Decodes local `files` in parallel; see [`scan_source`].
pub fn scan_files(
    files: &[TrailFile],
    options: &ScanOptions,
    emit: &(dyn Fn(RecordBatch) -> bool + Sync),
) -> Result<FileOutcomes, IngestError> {
    let source = LocalFiles {
        files,
        next: AtomicUsize::new(0),
    };
    scan_source(&source, options, emit)
}

/// Decodes every file `source` yields on one worker per rayon thread, each packing records into
/// its own batch and handing it to `emit` when full. Memory stays at about one batch and one file
/// per worker plus what `emit` buffers; `emit` returning `false` stops the scan early. Returns
/// each file's outcome.
pub fn scan_source(
    source: &dyn FileSource,
    options: &ScanOptions,
    emit: &(dyn Fn(RecordBatch) -> bool + Sync),
) -> Result<FileOutcomes, IngestError> {
    let outcomes = Mutex::new(BTreeMap::new());
    let stopped = AtomicBool::new(false);
    let failure: Mutex<Option<IngestError>> = Mutex::new(None);
    let batch_size = options.batch_size.max(1);
    let fail = |e: IngestError| {
        stopped.store(true, Ordering::Relaxed);
        failure
            .lock()
            .expect("no panics while holding the lock")
            .get_or_insert(e);
    };
    let flush = |builder: &mut TrailBatchBuilder| match builder.finish() {
        Ok(batch) => {
            if !emit(batch) {
                stopped.store(true, Ordering::Relaxed);
            }
        }
        Err(e) => fail(IngestError::Arrow(e)),
    };
    let worker = || {
        let mut builder =
            TrailBatchBuilder::with_columns_and_identity(options.columns, options.identity);
        while !stopped.load(Ordering::Relaxed) {
            let Some((file, fetched)) = source.next_file() else {
                break;
            };
            if let Some(progress) = &options.progress {
                let size = fetched.as_ref().map_or(0, |bytes| bytes.len() as u64);
                progress.bytes_done.fetch_add(size, Ordering::Relaxed);
                progress.files_done.fetch_add(1, Ordering::Relaxed);
            }
            let outcome = fetched
                .and_then(|raw| decode(raw, &file.partition, options, &mut builder))
                .unwrap_or_else(FileOutcome::Damaged);
            if let (Some(progress), FileOutcome::Read { records, .. }) =
                (&options.progress, &outcome)
            {
                progress.files_read.fetch_add(1, Ordering::Relaxed);
                progress
                    .records_scanned
                    .fetch_add(*records, Ordering::Relaxed);
            }
            if let (FileOutcome::Damaged(reason), true) = (&outcome, options.strict) {
                fail(IngestError::Damaged {
                    path: file.path,
                    reason: reason.to_string(),
                });
                return;
            }
            outcomes
                .lock()
                .expect("no panics while holding the lock")
                .insert(file.path, outcome);
            if builder.len() >= batch_size {
                flush(&mut builder);
            }
        }
        if !builder.is_empty() && !stopped.load(Ordering::Relaxed) {
            flush(&mut builder);
        }
    };
    rayon::scope(|scope| {
        for _ in 0..rayon::current_num_threads().max(1) {
            scope.spawn(|_| worker());
        }
    });
    match failure
        .into_inner()
        .expect("no panics while holding the lock")
    {
        Some(e) => Err(e),
        None => Ok(FileOutcomes {
            files: outcomes
                .into_inner()
                .expect("no panics while holding the lock"),
        }),
    }
}
