//! The sample trail, an independent reading of it to check query results against, and helpers
//! to run a query and read its cells.

use std::io::Read;
use std::path::{Path, PathBuf};

use ctq_sql::arrow::array::RecordBatch;
use ctq_sql::output::{OutputFormat, write_results};
use ctq_sql::{QueryResult, SessionOptions, TrailSession};
use serde_json::Value;

pub const USER: &str = "arn:aws:iam::123456789012:user/username";

pub fn sample_logs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sample-logs")
}

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

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.to_string_lossy().ends_with(".json.gz") {
            out.push(path);
        }
    }
}

/// Every event record of the sample trail, read without ctq: gunzip and serde_json, skipping the
/// digest and Insights folders. The oracle the SQL results are compared with.
pub fn sample_records() -> Vec<Value> {
    let mut files = Vec::new();
    walk(&sample_logs(), &mut files);
    let mut records = Vec::new();
    for file in files {
        let path = file.to_string_lossy();
        if path.contains("CloudTrail-Digest") || path.contains("CloudTrail-Insight") {
            continue;
        }
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(&file).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        let document: Value = serde_json::from_str(&text).unwrap();
        records.extend(document["Records"].as_array().unwrap().iter().cloned());
    }
    records
}

/// Every file of `queries/`: (file name, SQL), in name order.
pub fn saved_queries() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../queries");
    ctq_sql::saved::load_folder(&dir)
        .unwrap()
        .into_iter()
        .map(|q| (format!("{}.sql", q.name), q.sql))
        .collect()
}

/// Says in `cargo test`'s output that the running test skipped its checks, and why. Written to
/// the stderr handle: libtest captures `eprintln!` (shown only when a test fails), not this.
pub fn skip(reason: &str) {
    use std::io::Write;
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr().lock(), "skipped {test}: {reason}");
}
