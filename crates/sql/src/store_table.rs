//! The `cloudtrail` table over a Parquet store written by `ctq ingest`.
//!
//! DataFusion's listing table reads the files, prunes partitions by `event_date` and row groups
//! by the statistics of `eventts`. Queries written for the raw trail filter on
//! `from_iso8601_timestamp(eventtime)`, which neither can see through; so the window those filters
//! imply is added as filters on `event_date` and `eventts`, which select the same rows.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use ctq_store::{EVENT_DATE_COLUMN, EVENT_TIMESTAMP_COLUMN, STORE_PARTITION_COLUMNS, store_schema};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType, col, lit};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;

use crate::pruning::instant_window;

#[derive(Debug)]
pub struct StoreTable {
    files: Arc<ListingTable>,
}

impl StoreTable {
    pub fn open(url: ListingTableUrl) -> Result<Self> {
        Ok(StoreTable {
            files: Arc::new(listing_table(url)?),
        })
    }
}

/// The listing URL of a store in a local folder.
pub fn local_url(store: &Path) -> Result<ListingTableUrl> {
    let absolute = std::path::absolute(store)?;
    let mut url = absolute.to_string_lossy().into_owned();
    if !url.ends_with('/') {
        url.push('/');
    }
    ListingTableUrl::parse(url)
}

/// The store's files as DataFusion's listing table, partitioned by the store's partition
/// columns. A Ballista cluster can ship this one to its executors as it is.
pub fn listing_table(url: ListingTableUrl) -> Result<ListingTable> {
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(
            STORE_PARTITION_COLUMNS
                .iter()
                .map(|name| (name.to_string(), DataType::Utf8))
                .collect(),
        );
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(store_schema());
    ListingTable::try_new(config)
}

/// Filters on the store's own columns implied by the window of `filters`: on `event_date`, for
/// partition pruning, and on `eventts`, for row-group statistics.
fn window_filters(filters: &[Expr]) -> (Vec<Expr>, Vec<Expr>) {
    let (start, end) = instant_window(filters);
    let (mut days, mut times) = (Vec::new(), Vec::new());
    let timestamp = |ms: i64| {
        lit(ScalarValue::TimestampMillisecond(
            Some(ms),
            Some("UTC".into()),
        ))
    };
    let day = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms).map(|t| t.format("%Y-%m-%d").to_string())
    };
    if let Some(start) = start {
        times.push(col(EVENT_TIMESTAMP_COLUMN).gt_eq(timestamp(start)));
        if let Some(day) = day(start) {
            days.push(col(EVENT_DATE_COLUMN).gt_eq(lit(day)));
        }
    }
    if let Some(end) = end {
        times.push(col(EVENT_TIMESTAMP_COLUMN).lt(timestamp(end)));
        if let Some(day) = day(end) {
            days.push(col(EVENT_DATE_COLUMN).lt_eq(lit(day)));
        }
    }
    (days, times)
}

#[async_trait]
impl TableProvider for StoreTable {
    fn schema(&self) -> SchemaRef {
        self.files.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    /// DataFusion applies every filter to the rows again: the ones added here only choose what
    /// to read.
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
        let (days, times) = window_filters(filters);
        let mut with_days = filters.to_vec();
        with_days.extend(days);
        let Some(time_filter) = conjunction(times) else {
            return self.files.scan(state, projection, &with_days, limit).await;
        };
        // The listing table prunes files by partition filters only; a filter above the scan is
        // what DataFusion pushes into the Parquet reader as a predicate for its statistics. It
        // needs `eventts` among the columns read, removed again afterwards if not asked for.
        let schema = self.files.schema();
        let timestamp_index = schema.index_of(EVENT_TIMESTAMP_COLUMN)?;
        let mut columns = projection
            .cloned()
            .unwrap_or_else(|| (0..schema.fields().len()).collect());
        let added = !columns.contains(&timestamp_index);
        if added {
            columns.push(timestamp_index);
        }
        let scan = self
            .files
            .scan(state, Some(&columns), &with_days, None)
            .await?;
        let scanned = scan.schema();
        let predicate = state
            .create_physical_expr(time_filter, &DFSchema::try_from(scanned.as_ref().clone())?)?;
        let filtered: Arc<dyn ExecutionPlan> = Arc::new(FilterExec::try_new(predicate, scan)?);
        if !added {
            return Ok(filtered);
        }
        let keep: Vec<(Arc<dyn PhysicalExpr>, String)> = scanned
            .fields()
            .iter()
            .take(columns.len() - 1)
            .enumerate()
            .map(|(i, field)| {
                (
                    Arc::new(Column::new(field.name(), i)) as Arc<dyn PhysicalExpr>,
                    field.name().clone(),
                )
            })
            .collect();
        Ok(Arc::new(ProjectionExec::try_new(keep, filtered)?))
    }
}
