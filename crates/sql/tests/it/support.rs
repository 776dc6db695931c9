//! Helpers to run a query over the sample trail and read its cells; the sample trail and an
//! independent reading of it to check query results against are [`ctq_testkit`]'s.

use ctq_sql::arrow::array::RecordBatch;
use ctq_sql::output::{OutputFormat, write_results};
use ctq_sql::{QueryResult, SessionOptions, TrailSession};
pub use ctq_testkit::{queries, sample_logs, sample_records, skip};

pub const USER: &str = "arn:aws:iam::123456789012:user/username";

pub async fn session() -> TrailSession {
    TrailSession::open(&[sample_logs()], &SessionOptions::default())
        .await
        .unwrap()
}

pub fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub async fn run(sql: &str, pairs: &[(&str, &str)]) -> QueryResult {
    session().await.query(sql, &params(pairs)).await.unwrap()
}

/// Rows as CSV lines (without the header), through the same writer the CLI uses.
pub fn csv_rows(result: &QueryResult) -> Vec<String> {
    let mut out = Vec::new();
    write_results(
        &mut out,
        OutputFormat::Csv,
        &result.columns,
        &result.batches,
    )
    .unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect()
}

/// One column's cells as text, in result order.
pub fn column(result: &QueryResult, name: &str) -> Vec<String> {
    let index = result.columns.iter().position(|c| c == name).unwrap();
    let mut values = Vec::new();
    for batch in &result.batches {
        let single = RecordBatch::try_new(
            std::sync::Arc::new(ctq_sql::arrow::datatypes::Schema::new(vec![
                batch.schema().field(index).clone(),
            ])),
            vec![batch.column(index).clone()],
        )
        .unwrap();
        let mut out = Vec::new();
        write_results(&mut out, OutputFormat::Csv, &[name.to_string()], &[single]).unwrap();
        let text = String::from_utf8(out).unwrap();
        values.extend(
            text.lines()
                .skip(1)
                .map(|l| l.trim_matches('"').to_string()),
        );
    }
    values
}

/// Every file of `queries/`: (file name, SQL), in name order.
pub fn saved_queries() -> Vec<(String, String)> {
    ctq_sql::saved::load_folder(&queries())
        .unwrap()
        .into_iter()
        .map(|q| (format!("{}.sql", q.name), q.sql))
        .collect()
}
