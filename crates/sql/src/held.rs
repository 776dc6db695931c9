//! A table held in memory with its failed calls also held apart.
//!
//! A window held for several queries ([`crate::TrailSession::cache_window`]) holds every record
//! for the queries that read them all (the hunt, the count of events), but most of a report's
//! queries read denials: their filters reject a null `errorcode`, and a few percent of the rows
//! have one. Those queries scan a copy of those rows alone rather than filter every row again.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::{BatchCoalescer, is_not_null};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::Result;
use datafusion::datasource::MemTable;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;

use crate::pruning::needs_error_code;

/// Every row in one [`MemTable`], and the rows with an `errorcode` in another.
#[derive(Debug)]
pub(crate) struct HeldTable {
    every: Arc<MemTable>,
    failed: Arc<MemTable>,
}

impl HeldTable {
    /// `batches` held as they are, and their rows with an error code copied apart into batches
    /// of `batch_rows` (a batch of over half as many rows, all of them failed, is shared rather
    /// than copied when nothing is waiting to be gathered). A table without an `errorcode` column
    /// has no query that filters on it, and holds nothing apart.
    pub(crate) fn new(
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
        batch_rows: usize,
    ) -> Result<Self> {
        let failed = match schema.index_of("errorcode") {
            Ok(column) => failed_rows(&schema, &batches, column, batch_rows)?,
            Err(_) => Vec::new(),
        };
        Ok(Self {
            every: memory_table(schema.clone(), batches, batch_rows)?,
            failed: memory_table(schema, failed, batch_rows)?,
        })
    }

    /// The rows a scan with `filters` (those DataFusion pushed down, all of them: see
    /// [`TableProvider::supports_filters_pushdown`]) can return rows from.
    fn rows_for(&self, filters: &[Expr]) -> &Arc<MemTable> {
        if needs_error_code(filters) {
            &self.failed
        } else {
            &self.every
        }
    }
}

/// The rows of `batches` whose `column` is not null, gathered into batches of `batch_rows`. Held
/// as each batch's few failed calls (a few hundred rows), they made every query over them gather
/// what it kept into full batches again: a second copy of it.
fn failed_rows(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    column: usize,
    batch_rows: usize,
) -> Result<Vec<RecordBatch>> {
    let batch_rows = batch_rows.max(1);
    let mut gather = BatchCoalescer::new(schema.clone(), batch_rows)
        .with_biggest_coalesce_batch_size(Some(batch_rows / 2));
    let mut failed = Vec::new();
    for batch in batches {
        let keep = is_not_null(batch.column(column))?;
        gather.push_batch_with_filter(batch.clone(), &keep)?;
        while let Some(done) = gather.next_completed_batch() {
            failed.push(done);
        }
    }
    gather.finish_buffered_batch()?;
    while let Some(done) = gather.next_completed_batch() {
        failed.push(done);
    }
    Ok(failed)
}

/// `batches` as a table in memory, in one partition per core so that a query over it still runs
/// in parallel. Each partition has its largest batches first: a filter gathers what it keeps into
/// batches of the session's size, and passes a large batch on as it is only while it holds
/// nothing back, so one small batch early in a partition had it copy every row after it (a
/// query keeping most rows, such as the hunt's, copied the whole window). A batch of more than
/// `batch_rows` is held as slices of that many and its remainder, which goes last with the other
/// small batches: DataFusion's scan cuts it so anyway, and each remainder left after its batch's
/// first slice had the hunt's filter copy the whole window again.
pub(crate) fn memory_table(
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    batch_rows: usize,
) -> Result<Arc<MemTable>> {
    let batch_rows = batch_rows.max(1);
    let mut batches: Vec<RecordBatch> = batches
        .into_iter()
        .flat_map(|batch| {
            (0..batch.num_rows())
                .step_by(batch_rows)
                .map(|start| batch.slice(start, batch_rows.min(batch.num_rows() - start)))
                .collect::<Vec<_>>()
        })
        .collect();
    batches.sort_by_key(|batch| std::cmp::Reverse(batch.num_rows()));
    let partitions = std::thread::available_parallelism().map_or(1, usize::from);
    let mut split: Vec<Vec<RecordBatch>> = vec![Vec::new(); partitions.min(batches.len()).max(1)];
    let count = split.len();
    for (i, batch) in batches.into_iter().enumerate() {
        split[i % count].push(batch);
    }
    Ok(Arc::new(MemTable::try_new(schema, split)?))
}

#[async_trait]
impl TableProvider for HeldTable {
    fn schema(&self) -> SchemaRef {
        self.every.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    // Every filter is offered to the scan, which only chooses the rows by them: DataFusion still
    // applies each above it.
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.rows_for(filters)
            .scan(state, projection, &[], limit)
            .await
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{AsArray, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::prelude::{SessionContext, col, lit};

    use super::*;

    fn batch(schema: &SchemaRef, names: &[&str], codes: &[Option<&str>]) -> RecordBatch {
        RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(names.to_vec())),
                Arc::new(StringArray::from(codes.to_vec())),
            ],
        )
        .unwrap()
    }

    async fn rows(ctx: &SessionContext, sql: &str) -> Vec<String> {
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let mut rows: Vec<String> =
            datafusion::arrow::util::pretty::pretty_format_batches(&batches)
                .unwrap()
                .to_string()
                .lines()
                .map(String::from)
                .collect();
        rows.sort();
        rows
    }

    /// A filter that keeps every row of the table hands on its large batches as they are, even
    /// when a small one was among them.
    #[tokio::test]
    async fn a_filter_keeping_every_row_copies_none_of_the_large_batches() {
        use datafusion::arrow::array::{Array, Int64Array};
        use datafusion::prelude::SessionConfig;

        const ROWS: i64 = 8192;
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, true)]));
        let batch = |rows: i64| {
            RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(Int64Array::from_iter_values(0..rows))],
            )
            .unwrap()
        };
        // One batch over the session's size: DataFusion's scan cuts it into a full batch and a
        // small one.
        let batches = vec![
            batch(ROWS),
            batch(100),
            batch(ROWS + 300),
            batch(ROWS),
            batch(ROWS),
        ];
        let values = |batch: &RecordBatch| batch.column(0).to_data().buffers()[0].as_ptr();
        let large: Vec<_> = batches
            .iter()
            .filter(|b| b.num_rows() >= ROWS as usize)
            .map(values)
            .collect();
        let ctx = SessionContext::new_with_config(
            SessionConfig::new()
                .with_batch_size(ROWS as usize)
                .with_target_partitions(2),
        );
        ctx.register_table("t", memory_table(schema, batches, ROWS as usize).unwrap())
            .unwrap();
        let kept = ctx
            .sql("SELECT n FROM t WHERE n IS NOT NULL")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        assert_eq!(
            kept.iter().map(RecordBatch::num_rows).sum::<usize>(),
            4 * ROWS as usize + 400
        );
        for batch in kept.iter().filter(|b| b.num_rows() == ROWS as usize) {
            assert!(large.contains(&values(batch)), "a large batch was copied");
        }
    }

    #[test]
    fn failed_calls_are_gathered_into_full_batches_and_a_large_failed_batch_is_shared() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("eventname", DataType::Utf8, true),
            Field::new("errorcode", DataType::Utf8, true),
        ]));
        let denied = Some("AccessDenied");
        let all_failed = batch(&schema, &["x", "y", "z"], &[denied, denied, denied]);
        let batches = vec![
            batch(&schema, &["a", "b", "c"], &[None, denied, None]),
            batch(&schema, &["d", "e"], &[denied, None]),
            batch(&schema, &["f", "g", "h"], &[denied, None, denied]),
            all_failed.clone(),
            batch(&schema, &["i"], &[denied]),
        ];
        let failed = failed_rows(&schema, &batches, 1, 4).unwrap();
        let names: Vec<Vec<&str>> = failed
            .iter()
            .map(|b| b.column(0).as_string::<i32>().iter().flatten().collect())
            .collect();
        // Four failed calls of three batches in one batch; the batch of three (over half of
        // four) passed on as it is, after what was gathered before it; the last one alone.
        assert_eq!(
            names,
            [vec!["b", "d", "f", "h"], vec!["x", "y", "z"], vec!["i"]]
        );
        let values = |b: &RecordBatch| b.column(0).as_string::<i32>().values().as_ptr();
        assert_eq!(values(&failed[1]), values(&all_failed));
    }

    #[tokio::test]
    async fn queries_of_failed_calls_scan_them_alone_and_answer_as_the_whole_table() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("eventname", DataType::Utf8, true),
            Field::new("errorcode", DataType::Utf8, true),
        ]));
        let batches = vec![
            batch(
                &schema,
                &["a", "b", "c"],
                &[None, Some("AccessDenied"), None],
            ),
            batch(&schema, &["d", "e"], &[None, None]),
            batch(
                &schema,
                &["f", "g"],
                &[Some("Throttling"), Some("AccessDenied")],
            ),
        ];
        let held = HeldTable::new(schema.clone(), batches.clone(), 8192).unwrap();
        let mut failed_rows = 0;
        for partition in &held.failed.batches {
            failed_rows += partition
                .read()
                .await
                .iter()
                .map(RecordBatch::num_rows)
                .sum::<usize>();
        }
        assert_eq!(failed_rows, 3);
        let denials = col("errorcode").eq(lit("AccessDenied"));
        assert!(Arc::ptr_eq(held.rows_for(&[denials]), &held.failed));
        let some_named = col("errorcode")
            .is_not_null()
            .or(col("eventname").eq(lit("a")));
        assert!(Arc::ptr_eq(held.rows_for(&[some_named]), &held.every));
        assert!(Arc::ptr_eq(held.rows_for(&[]), &held.every));

        let ctx = SessionContext::new();
        ctx.register_table("held", Arc::new(held)).unwrap();
        ctx.register_table("whole", memory_table(schema, batches, 8192).unwrap())
            .unwrap();
        for condition in [
            "errorcode IS NOT NULL",
            "errorcode = 'AccessDenied'",
            "lower(errorcode) LIKE '%denied%' AND eventname > 'a'",
            "errorcode IS NOT NULL OR eventname = 'a'",
            "errorcode IS NULL",
            "true",
        ] {
            let query = |table: &str| format!("SELECT * FROM {table} WHERE {condition}");
            assert_eq!(
                rows(&ctx, &query("held")).await,
                rows(&ctx, &query("whole")).await,
                "{condition}"
            );
        }
    }
}
