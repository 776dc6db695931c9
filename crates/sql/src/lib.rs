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
mod held;
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
pub use session::{
    CacheOutcome, ColumnNeeds, PartialRead, QueryResult, SessionOptions, TABLE_NAMES, TrailSession,
};
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
        "there is no table {name} here (the tables are {}); to run a query written for another table name, name the trail after it with --table {name} (--lake-table {name} for a CloudTrail Lake event data store)",
        tables.join(", ")
    )]
    UnknownTable { name: String, tables: Vec<String> },
    /// The closest valid name is offered first; the list of valid ones only when none is close.
    #[error("no column `{name}`; {}", match suggestion {
        Some(close) => format!("did you mean `{close}`?"),
        None => format!("the columns here are {}", valid.join(", ")),
    })]
    UnknownColumn {
        name: String,
        suggestion: Option<String>,
        valid: Vec<String>,
    },
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
    #[error("cannot write results")]
    Io(#[from] std::io::Error),
    #[error("cannot format results")]
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
        unknown_column(&error).unwrap_or(SqlError::DataFusion(error))
    }
}

/// A query naming a column the table does not have, as [`SqlError::UnknownColumn`]: DataFusion's
/// own message lists every valid field, and again for each context it is wrapped in.
fn unknown_column(error: &DataFusionError) -> Option<SqlError> {
    let mut error = error;
    loop {
        match error {
            DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => {
                error = inner;
            }
            DataFusionError::SchemaError(schema_error, _) => {
                let datafusion::common::SchemaError::FieldNotFound {
                    field,
                    valid_fields,
                } = schema_error.as_ref()
                else {
                    return None;
                };
                let mut valid: Vec<String> = Vec::new();
                for column in valid_fields {
                    if !valid.contains(&column.name) {
                        valid.push(column.name.clone());
                    }
                }
                let suggestion = closest(&field.name, &valid).map(str::to_string);
                return Some(SqlError::UnknownColumn {
                    name: field.flat_name(),
                    suggestion,
                    valid,
                });
            }
            _ => return None,
        }
    }
}

/// The name in `names` closest to `typed` by edit distance (case aside), if close enough to be a
/// slip: at most a third of its letters, and at least one, differ.
fn closest<'a>(typed: &str, names: &'a [String]) -> Option<&'a str> {
    let typed = typed.to_lowercase();
    let limit = (typed.chars().count() / 3).max(1);
    names
        .iter()
        .map(|name| (edit_distance(&typed, &name.to_lowercase()), name))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name.as_str())
}

/// Levenshtein distance: the insertions, deletions and substitutions of characters that turn `a`
/// into `b`.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(above + 1)
                .min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
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
