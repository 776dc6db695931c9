//! The `cloudtrail` table: a DataFusion source that finds and decodes trail files on every
//! query, reading only the files the query's filters can need.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use ctq_ingest::{Pruning, ScanOptions, ScanReport, cloudtrail_schema, discover, scan_files};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};

use crate::pruning::pruning_from_filters;

/// Trail files under some paths, exposed as a table.
#[derive(Debug)]
pub struct CloudTrailTable {
    sources: Arc<Vec<PathBuf>>,
    strict: bool,
    delivery_slack_ms: i64,
    report: Arc<Mutex<ScanReport>>,
}

impl CloudTrailTable {
    /// `report` collects what happened to each file across the queries that scan the table.
    pub fn new(
        sources: Vec<PathBuf>,
        strict: bool,
        delivery_slack_ms: i64,
        report: Arc<Mutex<ScanReport>>,
    ) -> Self {
        Self {
            sources: Arc::new(sources),
            strict,
            delivery_slack_ms,
            report,
        }
    }
}

/// One scan: the files are found when it runs, so the walk itself skips pruned folders.
#[derive(Debug)]
struct TrailScan {
    schema: SchemaRef,
    sources: Arc<Vec<PathBuf>>,
    pruning: Pruning,
    strict: bool,
    report: Arc<Mutex<ScanReport>>,
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
        let scan: Arc<dyn PartitionStream> = Arc::new(TrailScan {
            schema: cloudtrail_schema(),
            sources: self.sources.clone(),
            pruning: pruning_from_filters(filters, self.delivery_slack_ms),
            strict: self.strict,
            report: self.report.clone(),
        });
        Ok(Arc::new(StreamingTableExec::try_new(
            cloudtrail_schema(),
            vec![scan],
            projection,
            [],
            false,
            limit,
        )?))
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
        };
        // A few batches per decoding thread in flight: enough to keep every core busy while the
        // plan consumes, small enough that memory does not grow with the trail.
        let capacity = 2 * rayon::current_num_threads().max(1);
        let (tx, mut rx) = tokio::sync::mpsc::channel(capacity);
        let sources = self.sources.clone();
        let pruning = self.pruning.clone();
        let report = self.report.clone();
        // Finding and decoding files is blocking work: it runs off the async runtime, and a closed
        // channel (the query stopped early) ends it.
        std::thread::spawn(move || {
            let fail = |e: ctq_ingest::IngestError| {
                let _ = tx.blocking_send(Err(DataFusionError::External(Box::new(e))));
            };
            let discovery = match discover(&sources, &pruning) {
                Ok(discovery) => discovery,
                Err(e) => return fail(e),
            };
            report.lock().expect("report lock").merge(discovery.report);
            let emit = |batch| tx.blocking_send(Ok(batch)).is_ok();
            match scan_files(&discovery.files, &options, &emit) {
                Ok(done) => report.lock().expect("report lock").merge(done),
                Err(e) => fail(e),
            }
        });
        let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream))
    }
}
