//! SQL over CloudTrail trails, the way Athena runs it.
//!
//! This crate owns the query side: a DataFusion session with the trail registered as the
//! `cloudtrail` table (and as `cloudtrail_logs`, the name in AWS's documentation, and under any
//! name a saved query uses, qualified or not), reading SQL the way Athena reads it
//! ([`dialect`]), the trail with CloudTrail Lake's schema ([`lake`]), the Athena and Trino
//! functions CloudTrail queries rely on ([`functions`]), parameter binding, saved queries (the
//! bundled ones, a folder of them, their titles and parameters: [`saved`]), the canned queries
//! behind `ctq denials` and `ctq explain` ([`canned`]) and reading the latter's rows as triage
//! events ([`events`]), event time as typed instants and windows ([`window`]), and writing results
//! as a table, CSV or JSON ([`output`]).
//!
//! It does not read files or know their formats: batches come from `ctq-ingest`, objects from
//! `ctq-s3`. Nor does it parse command lines: the `ctq` binary does.

pub mod canned;
pub mod dialect;
pub mod events;
pub mod functions;
mod ipaddress_cast;
pub mod lake;
pub mod output;
mod pruning;
pub mod saved;
mod session;
mod store_files;
mod store_table;
mod table;
pub mod window;

/// The arrow version the results are in, for callers that build or read batches.
pub use datafusion::arrow;
pub use session::{QueryResult, SessionOptions, TABLE_NAMES, TrailSession};
pub use table::{CloudTrailTable, TrailSource};
pub use window::{Instant, TimeError, TimeWindow};

use ctq_ingest::IngestError;
use datafusion::common::DataFusionError;

/// Errors from planning, binding and running a query, and from writing its results.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    S3(#[from] ctq_s3::S3Error),
    #[error(transparent)]
    Store(#[from] ctq_store::StoreError),
    /// DataFusion's message already holds those of the errors under it: no source, so that
    /// they are said once.
    #[error("{}", .0.strip_backtrace())]
    DataFusion(DataFusionError),
    #[error(
        "there is no table {name} here: the trail is the table cloudtrail (also cloudtrail_logs); to run a query written for another table name, name the trail after it with --table {name} (--lake-table {name} for a CloudTrail Lake event data store)"
    )]
    UnknownTable { name: String },
    #[error("{name:?} is not a table name: write table, db.table or catalog.db.table")]
    BadTableName { name: String },
    #[error("parameter ${name} is not set; pass --param {name}=VALUE ({expected})")]
    MissingParameter { name: String, expected: String },
    #[error("parameter {name} is not used by the query ({expected})")]
    UnknownParameter { name: String, expected: String },
    #[error("parameter {name}={value:?} is not a valid value: {reason}")]
    BadParameter {
        name: String,
        value: String,
        reason: String,
    },
    #[error("only queries can run here, not statements that change things: {0}")]
    ReadOnly(String),
    #[error("cannot write results: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot format results: {0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    #[error(
        "{store} is not a ctq store (no _ctq/manifest.json); create one with `ctq ingest --source TRAIL --store {store}`"
    )]
    NotAStore { store: String },
    #[error(transparent)]
    Time(#[from] TimeError),
    #[error("the query gave no column {name}")]
    MissingColumn { name: String },
}

impl From<DataFusionError> for SqlError {
    fn from(error: DataFusionError) -> Self {
        SqlError::DataFusion(error)
    }
}

impl SqlError {
    /// The ingestion error underneath, if the query failed because of a file (a damaged file in
    /// strict mode, an unreadable source).
    pub fn ingest_cause(&self) -> Option<&IngestError> {
        let mut source: Option<&(dyn std::error::Error + 'static)> = match self {
            SqlError::DataFusion(inner) => Some(inner),
            other => Some(other),
        };
        while let Some(error) = source {
            if let Some(ingest) = error.downcast_ref::<IngestError>() {
                return Some(ingest);
            }
            if let Some(DataFusionError::External(inner)) = error.downcast_ref::<DataFusionError>()
                && let Some(ingest) = inner.downcast_ref::<IngestError>()
            {
                return Some(ingest);
            }
            source = error.source();
        }
        None
    }
}
