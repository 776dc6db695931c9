//! Reading CloudTrail trails into Arrow.
//!
//! This crate owns everything between files on disk and [`arrow_array::RecordBatch`]es in the
//! `cloudtrail` schema: finding trail files under folders ([`discover`]), recognising what the
//! S3 key layout says about each ([`path`]), inflating gzip (multi-member included), recognising
//! the shapes a trail comes in (`{"Records":[...]}` files, `aws cloudtrail lookup-events` output,
//! newline-delimited records, a JSON array of records, and records that went through CloudWatch
//! Logs, EventBridge or CloudTrail Lake), and decoding files in parallel into
//! batches ([`scan_files`]) while reporting every file that is skipped or damaged.
//!
//! It does not know about SQL, query planning or output formats: the `ctq-sql` crate puts a table
//! over these batches. The schema ([`cloudtrail_schema`]) is Athena's CloudTrail table, so a query
//! written for Athena finds the columns it expects.

mod batch;
mod decode;
pub mod event_id;
mod inflate;
mod ocsf;
pub mod path;
pub mod prune;
mod record;
mod scan;
mod schema;
mod shapes;
mod structural;
pub mod time;

use std::path::PathBuf;

pub use batch::TrailBatchBuilder;
pub use decode::{FileDamage, RecordFilter, TextRepairs};
pub use inflate::DEFAULT_MAX_INFLATED_BYTES;
pub use path::{NonEventKind, Partition};
pub use prune::Pruning;
pub use scan::{
    Discovery, Fetched, FileOutcome, FileOutcomes, FileSource, Progress, ScanOptions, TrailFile,
    discover, looks_like_trail_file, scan_files, scan_source,
};
pub use schema::{ColumnSet, IdentityFields, PATH_COLUMNS, athena_type_name, cloudtrail_schema};

/// Errors that stop a scan. A damaged file is not one of them unless the scan is strict: it is
/// reported in the [`FileOutcomes`] and the scan goes on.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot open source {}: {source}; check the path exists and is readable", path.display())]
    Source {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot list {}: {source}", path.display())]
    Walk {
        path: PathBuf,
        #[source]
        source: walkdir::Error,
    },
    #[error(
        "damaged file {}: {reason} (strict mode stops at the first damaged file; run without --strict to skip it and read the rest)",
        path.display()
    )]
    Damaged { path: PathBuf, reason: String },
    #[error("building an Arrow batch failed: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

/// Reads every record of one file's bytes (gzip or plain) into `builder`, inflating at most
/// `max_inflated_bytes` ([`DEFAULT_MAX_INFLATED_BYTES`] unless the user chose another). For
/// callers that hold a file in memory; scans go through [`scan_files`].
pub fn decode_file_bytes(
    raw: Vec<u8>,
    partition: &Partition,
    max_inflated_bytes: usize,
    builder: &mut TrailBatchBuilder,
) -> Result<FileOutcome, FileDamage> {
    let options = ScanOptions {
        max_inflated_bytes,
        ..ScanOptions::default()
    };
    scan::decode(raw, partition, &options, builder)
}
