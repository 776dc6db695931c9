//! The `cloudtrail` table: a DataFusion source that scans trail files on every query.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use ctq_ingest::{ScanOptions, ScanReport, TrailFile, cloudtrail_schema, scan_files};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::{Expr, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};

/// Trail files exposed as a table. Each scan decodes the files afresh and records what happened
/// to each in the shared report.
#[derive(Debug)]
pub struct CloudTrailTable {
    scan: Arc<TrailScan>,
}

#[derive(Debug)]
struct TrailScan {
    schema: SchemaRef,
    files: Arc<Vec<TrailFile>>,
    strict: bool,
    report: Arc<Mutex<ScanReport>>,
}

impl CloudTrailTable {
    pub fn new(files: Vec<TrailFile>, strict: bool, report: Arc<Mutex<ScanReport>>) -> Self {
        Self {
            scan: Arc::new(TrailScan {
                schema: cloudtrail_schema(),
                files: Arc::new(files),
                strict,
                report,
            }),
        }
    }
}

#[async_trait]
impl TableProvider for CloudTrailTable {
    fn schema(&self) -> SchemaRef {
        self.scan.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let partition: Arc<dyn PartitionStream> = self.scan.clone();
        Ok(Arc::new(StreamingTableExec::try_new(
            self.scan.schema.clone(),
            vec![partition],
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
        let files = self.files.clone();
        let report = self.report.clone();
        // Decoding runs on rayon, off the async runtime; a closed channel (the query stopped
        // early) ends it.
        std::thread::spawn(move || {
            let emit = |batch| tx.blocking_send(Ok(batch)).is_ok();
            match scan_files(&files, &options, &emit) {
                Ok(done) => report.lock().expect("report lock").merge(done),
                Err(e) => {
                    let _ = tx.blocking_send(Err(DataFusionError::External(Box::new(e))));
                }
            }
        });
        let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream))
    }
}
