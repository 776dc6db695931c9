//! An incremental, crash-safe Parquet store of CloudTrail records.
//!
//! This crate owns the store on disk: its layout, its manifest, and `ingest`, which converts a
//! trail's log files into Parquet. The layout is Hive-style so that Athena, Trino, Spark and
//! DataFusion prune by it:
//!
//! ```text
//! STORE/event_account=<account>/event_region=<region>/event_date=<YYYY-MM-DD>/part-<run>-<n>.parquet
//! STORE/_ctq/manifest.json
//! ```
//!
//! STORE is a local folder or an S3 prefix ([`Store`]).
//!
//! Each file holds the columns of the `cloudtrail` table plus `eventts`, the event time as a
//! timestamp; rows are ordered by time, compressed with zstd, in row groups small enough for
//! statistics to skip most of a file. The partition values come from the event (recipient
//! account, `awsRegion`, the day of `eventTime`), not from where the log file was delivered.
//!
//! Crash safety: data files are published whole (locally through `ctq_fs`: written under hidden
//! names Hive readers ignore, fsynced and renamed when complete; on S3 one PUT each, which S3 makes visible only when complete), and
//! only then listed in the manifest, which is replaced atomically the same way. A data file the
//! manifest does not list is left over from an interrupted run and removed by the next one, so a
//! run killed at any moment and run again ends with each source record exactly once.
//!
//! A store checks itself: queries compare the data files the manifest lists with those present
//! (and their sizes), and ingest reads again the sources of any that is missing or damaged
//! ([`check_listed`]; `verify` reads every footer too). Data files carry their sources in their
//! Parquet metadata, so a lost manifest is rebuilt from them ([`rebuild_manifest`]); data files
//! the store cannot account for are never removed without `force`.
//!
//! [`ddl`] prints the statements that register the store in Athena, Trino or Spark. It does not
//! query the store (`ctq-sql` does); objects come from S3 through `ctq-s3`.

pub mod ddl;
mod files;
mod health;
mod manifest;
mod plan;
mod rebuild;
mod write;

pub use files::{Store, StoreLocation, list_local};
pub use health::{DataFileFault, DataFileProblem, check_listed};
pub use manifest::{DataFile, Manifest, SourceEntry, SourceStatus};
pub use rebuild::{ORIGIN_KEY, RebuildSummary, rebuild_manifest};
pub use write::{
    DEFAULT_MIB_PER_COMMIT, DataFileCheck, IngestOptions, IngestSummary, ingest, ingest_s3,
    store_schema,
};

use std::path::PathBuf;

/// The partition column of the account the event is recorded for (`recipientAccountId`).
pub const EVENT_ACCOUNT_COLUMN: &str = "event_account";
/// The partition column of the event's `awsRegion`.
pub const EVENT_REGION_COLUMN: &str = "event_region";
/// The partition column of the event's day (`YYYY-MM-DD` of `eventTime`).
pub const EVENT_DATE_COLUMN: &str = "event_date";

/// The partition columns of the store, in directory order.
pub const STORE_PARTITION_COLUMNS: [&str; 3] =
    [EVENT_ACCOUNT_COLUMN, EVENT_REGION_COLUMN, EVENT_DATE_COLUMN];

/// The name of the event timestamp column the store adds to the `cloudtrail` columns.
pub const EVENT_TIMESTAMP_COLUMN: &str = "eventts";

/// Errors that stop an ingest. Damaged source files are not errors: they are recorded.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Ingest(#[from] ctq_ingest::IngestError),
    #[error(transparent)]
    S3(#[from] ctq_s3::S3Error),
    #[error("cannot {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the store manifest {} is unreadable: {reason}; restore it from a backup or ingest into a new store",
        path.display()
    )]
    Manifest { path: PathBuf, reason: String },
    #[error(
        "the store {store} was written by a newer ctq: its manifest has version {found}, and this ctq understands version {supported} at most; upgrade ctq to use this store"
    )]
    NewerManifest {
        store: String,
        found: u32,
        supported: u32,
    },
    #[error("writing Parquet file {}: {source}", path.display())]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error(
        "{} holds other files and no ctq manifest (_ctq/manifest.json); give --store a new or empty folder, or an existing store",
        path.display()
    )]
    NotAStore { path: PathBuf },
    #[error(
        "another ctq ingest is writing the store {store}; wait for it to finish (cron: make sure runs do not overlap, for example with a longer interval)"
    )]
    Busy { store: String },
    #[error("building a batch for the store: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error(
        "damaged source file {}: {reason} (strict mode stops at the first damaged file; run without --strict to record it and go on)",
        path.display()
    )]
    Damaged { path: PathBuf, reason: String },
    #[error(
        "cannot read {}: {reason}; fix or remove it and ingest again (a store archives a folder whole, it does not skip what it cannot read)",
        path.display()
    )]
    Unwalkable { path: PathBuf, reason: String },
    #[error(
        "the store {store} holds {data_files} data files but no manifest (_ctq/manifest.json), without which neither queries nor ingest can tell what they hold (ingest will not remove them); rebuild the manifest from them with `ctq ingest --store {store} --rebuild-manifest`, or discard them with --force"
    )]
    ManifestLost { store: String, data_files: usize },
    #[error(
        "the store {store} holds {count} data files its manifest does not list and no interrupted run left (first: {first}); ingest will not remove them: if the manifest was restored from an older copy, rebuild it from the data files with `ctq ingest --store {store} --rebuild-manifest`; to remove them, run again with --force"
    )]
    Unaccounted {
        store: String,
        count: usize,
        first: String,
    },
    #[error(
        "{files} data files of the store {store} are missing or damaged (first: {first_file}) and {sources} of the source files their {rows} rows came from are no longer in the trail (first: {first_source}); put those files back under the trail and run again, or run with --force to repair the store without their rows"
    )]
    Unrecoverable {
        store: String,
        files: usize,
        first_file: String,
        sources: usize,
        first_source: String,
        rows: u64,
    },
    #[error(
        "{count} data files of the store {store} are missing or damaged (first: {first}); run `ctq ingest --store {store}` over the trail to read their sources again"
    )]
    DamagedDataFiles {
        store: String,
        count: usize,
        first: String,
    },
    #[error(
        "{count} data files of the store {store} are not readable Parquet (first: {first}); the rebuilt manifest cannot list them, and ingest would not remove them: move them away, or rebuild with --force to leave them out and have the next ingest remove them"
    )]
    UnreadableDataFiles {
        store: String,
        count: usize,
        first: String,
    },
}

/// Local file errors name the action and the path; `?` makes them [`StoreError::Io`].
pub(crate) use ctq_fs::io_error;

impl From<ctq_fs::FsError> for StoreError {
    fn from(e: ctq_fs::FsError) -> Self {
        StoreError::Io {
            action: e.action,
            path: e.path,
            source: e.source,
        }
    }
}
