//! The `cloudtrail` table: a DataFusion source that finds and decodes trail files on every
//! query, reading only the files the query's filters can need.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use ctq_ingest::{
    ColumnSet, FileOutcome, FileOutcomes, IdentityFields, Progress, Pruning, RecordFilter,
    ScanOptions, cloudtrail_schema, discover, scan_files, scan_source,
};
use ctq_s3::S3Trail;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use tokio::sync::mpsc::Sender;

use crate::pruning::{needs_error_code, pruning_from_filters};

/// Where a trail is: local folders and files, or an S3 location.
#[derive(Debug, Clone)]
pub enum TrailSource {
    Local(PathBuf),
    S3(Box<S3Trail>),
}

/// Trail files under some sources, exposed as a table.
#[derive(Debug)]
pub struct CloudTrailTable {
    sources: Arc<Vec<TrailSource>>,
    strict: bool,
    /// The most a gzip file may inflate to.
    max_inflated_bytes: usize,
    delivery_slack_ms: i64,
    report: Arc<Mutex<FileOutcomes>>,
    progress: Option<Arc<Progress>>,
    /// When set, records without an error code fill only these columns
    /// ([`RecordFilter::columns_without_error_code`]).
    columns_without_error_code: Option<ColumnSet>,
    /// Records named so are read whole too ([`RecordFilter::whole_event_name_prefixes`]).
    whole_event_name_prefixes: &'static [&'static str],
    /// The leaves of `useridentity` filled; the others are null ([`ScanOptions::identity`]).
    identity: IdentityFields,
}

impl CloudTrailTable {
    /// The same files as a table whose records without an error code fill only `columns` of
    /// those a query reads (the rest null), and whose records with one fill every column read:
    /// what a window held in memory for several queries needs, in one read.
    /// Records whose event name starts with one of `whole_event_name_prefixes` are read whole too.
    pub(crate) fn reading_failed_calls_whole(
        &self,
        columns: ColumnSet,
        whole_event_name_prefixes: &'static [&'static str],
    ) -> Self {
        Self {
            sources: self.sources.clone(),
            strict: self.strict,
            max_inflated_bytes: self.max_inflated_bytes,
            delivery_slack_ms: self.delivery_slack_ms,
            report: self.report.clone(),
            progress: self.progress.clone(),
            columns_without_error_code: Some(columns),
            whole_event_name_prefixes,
            identity: self.identity,
        }
    }

    /// The same table with only the `identity` leaves of `useridentity` filled, the others null:
    /// for a reader that knows which of them it reads.
    pub(crate) fn reading_identity(self, identity: IdentityFields) -> Self {
        Self { identity, ..self }
    }

    /// `report` collects what happened to each file across the queries that scan the table;
    /// `progress`, when given, counts files and bytes as they are done.
    pub fn new(
        sources: Vec<TrailSource>,
        strict: bool,
        max_inflated_bytes: usize,
        delivery_slack_ms: i64,
        report: Arc<Mutex<FileOutcomes>>,
        progress: Option<Arc<Progress>>,
    ) -> Self {
        Self {
            sources: Arc::new(sources),
            strict,
            max_inflated_bytes,
            delivery_slack_ms,
            report,
            progress,
            columns_without_error_code: None,
            whole_event_name_prefixes: &[],
            identity: IdentityFields::ALL,
        }
    }
}

/// One scan: the files are found when it runs, so the walk or listing itself skips what the
/// query's filters rule out.
#[derive(Debug, Clone)]
struct TrailScan {
    schema: SchemaRef,
    columns: ColumnSet,
    identity: IdentityFields,
    sources: Arc<Vec<TrailSource>>,
    pruning: Pruning,
    filter: RecordFilter,
    strict: bool,
    max_inflated_bytes: usize,
    report: Arc<Mutex<FileOutcomes>>,
    progress: Option<Arc<Progress>>,
}

#[async_trait]
impl TableProvider for CloudTrailTable {
    fn schema(&self) -> SchemaRef {
        cloudtrail_schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    /// Filters are used to choose files, and DataFusion still applies every one of them to the
    /// rows: hence inexact.
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // Only the projected columns are built, and only their fields parsed.
        let columns = projection.map_or(ColumnSet::ALL, |p| {
            ColumnSet::from_indices(p.iter().copied())
        });
        let schema = columns.schema();
        let scan: Arc<dyn PartitionStream> = Arc::new(TrailScan {
            schema: schema.clone(),
            columns,
            identity: self.identity,
            sources: self.sources.clone(),
            pruning: pruning_from_filters(filters, self.delivery_slack_ms),
            filter: RecordFilter {
                needs_error_code: needs_error_code(filters),
                columns_without_error_code: self.columns_without_error_code,
                whole_event_name_prefixes: self.whole_event_name_prefixes,
            },
            strict: self.strict,
            max_inflated_bytes: self.max_inflated_bytes,
            report: self.report.clone(),
            progress: self.progress.clone(),
        });
        Ok(Arc::new(StreamingTableExec::try_new(
            schema,
            vec![scan],
            None,
            [],
            false,
            limit,
        )?))
    }
}

type BatchSender = Sender<Result<RecordBatch>>;

fn external(e: impl std::error::Error + Send + Sync + 'static) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

impl TrailScan {
    /// Reads every source in turn, on the calling (non-async) thread; returns `false` once the
    /// consumer has gone or a failure was sent.
    fn read_sources(
        &self,
        options: &ScanOptions,
        tx: &BatchSender,
        runtime: &tokio::runtime::Handle,
    ) -> bool {
        let emit = |batch| tx.blocking_send(Ok(batch)).is_ok();
        let fail = |e: DataFusionError| {
            let _ = tx.blocking_send(Err(e));
            false
        };
        for source in self.sources.iter() {
            let scanned = match source {
                TrailSource::Local(path) => {
                    let discovery = match discover(std::slice::from_ref(path), &self.pruning) {
                        Ok(discovery) => discovery,
                        Err(e) => return fail(external(e)),
                    };
                    if self.strict
                        && let Some((path, damage)) = discovery.report.damaged().next()
                    {
                        return fail(external(ctq_ingest::IngestError::Damaged {
                            path: path.to_path_buf(),
                            reason: damage.to_string(),
                        }));
                    }
                    self.merge(discovery.report);
                    self.count_total(discovery.files.len());
                    scan_files(&discovery.files, options, &emit)
                }
                TrailSource::S3(trail) => {
                    let listing = match runtime.block_on(trail.list(&self.pruning)) {
                        Ok(listing) => listing,
                        Err(e) => return fail(external(e)),
                    };
                    self.merge(FileOutcomes {
                        files: listing
                            .skipped
                            .into_iter()
                            .map(|(url, kind)| (url, FileOutcome::NonEvent(kind)))
                            .collect(),
                    });
                    self.count_total(listing.files.len());
                    // Fetched objects wait here for a decoder; a few per GET in flight at most.
                    let (objects_tx, objects_rx) = tokio::sync::mpsc::channel(8);
                    let fetcher = trail.clone();
                    runtime.spawn(async move { fetcher.fetch(listing.files, objects_tx).await });
                    let objects_rx = Mutex::new(objects_rx);
                    let next = || objects_rx.lock().ok()?.blocking_recv();
                    scan_source(&next, options, &emit)
                }
            };
            match scanned {
                Ok(report) => self.merge(report),
                Err(e) => return fail(external(e)),
            }
            if tx.is_closed() {
                return false;
            }
        }
        true
    }

    fn count_total(&self, files: usize) {
        if let Some(progress) = &self.progress {
            progress.add_total(files);
        }
    }

    fn merge(&self, report: FileOutcomes) {
        self.report.lock().expect("report lock").merge(report);
    }
}

impl PartitionStream for TrailScan {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let options = ScanOptions {
            batch_size: ctx.session_config().batch_size(),
            strict: self.strict,
            progress: self.progress.clone(),
            filter: self.filter,
            columns: self.columns,
            identity: self.identity,
            max_inflated_bytes: self.max_inflated_bytes,
        };
        // A few batches per decoding thread in flight: enough to keep every core busy while the
        // plan consumes, small enough that memory does not grow with the trail.
        let capacity = 2 * rayon::current_num_threads().max(1);
        let (tx, mut rx) = tokio::sync::mpsc::channel(capacity);
        let scan = self.clone();
        let runtime = tokio::runtime::Handle::current();
        // Finding, fetching and decoding files is blocking work: it runs off the async runtime,
        // and a closed channel (the query stopped early) ends it.
        std::thread::spawn(move || scan.read_sources(&options, &tx, &runtime));
        let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream))
    }
}
