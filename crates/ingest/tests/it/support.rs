//! Builders of small trails on disk and a scan that collects everything it produced.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use arrow_array::{Array, RecordBatch, StringArray, StructArray};
use ctq_ingest::{ScanOptions, ScanReport, discover, scan_files};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

pub fn record(event_id: &str, error_code: Option<&str>) -> Value {
    let mut r = json!({
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE",
            "arn": "arn:aws:iam::123456789012:user/alice",
            "accountId": "123456789012",
            "userName": "alice"
        },
        "eventTime": "2019-10-29T06:41:48Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "ListBuckets",
        "awsRegion": "us-east-1",
        "requestParameters": {"bucketName": "b", "nested": {"a": [1, 2]}},
        "eventID": event_id,
        "readOnly": true,
        "eventType": "AwsApiCall",
        "resources": [{"ARN": "arn:aws:s3:::b", "accountId": "123456789012", "type": "AWS::S3::Bucket"}],
        "someFieldFromTheFuture": {"x": 1}
    });
    if let Some(code) = error_code {
        r["errorCode"] = json!(code);
        r["errorMessage"] = json!("Access Denied");
    }
    r
}

pub fn records_file(records: &[Value]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "Records": records })).unwrap()
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn write(dir: &Path, relative: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

pub struct Scanned {
    pub batches: Vec<RecordBatch>,
    pub report: ScanReport,
}

impl Scanned {
    pub fn rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }

    /// Values of a top-level string column, or of `struct.field`, across all batches, sorted.
    pub fn strings(&self, column: &str) -> Vec<Option<String>> {
        let mut out = Vec::new();
        for batch in &self.batches {
            let mut parts = column.split('.');
            let mut array = batch.column_by_name(parts.next().unwrap()).unwrap().clone();
            for part in parts {
                let s = array.as_any().downcast_ref::<StructArray>().unwrap();
                let child = s.column_by_name(part).unwrap().clone();
                // A null struct makes its fields null too.
                let nulls = arrow_buffer::NullBuffer::union(s.nulls(), child.nulls());
                array = arrow_array::make_array(
                    child.to_data().into_builder().nulls(nulls).build().unwrap(),
                );
            }
            let strings = array.as_any().downcast_ref::<StringArray>().unwrap();
            out.extend(strings.iter().map(|v| v.map(str::to_owned)));
        }
        out.sort();
        out
    }
}

pub fn scan_with(
    sources: &[PathBuf],
    options: &ScanOptions,
) -> Result<Scanned, ctq_ingest::IngestError> {
    let discovery = discover(sources, &ctq_ingest::Pruning::default())?;
    let batches = Mutex::new(Vec::new());
    let mut report = scan_files(&discovery.files, options, &|batch| {
        batches.lock().unwrap().push(batch);
        true
    })?;
    report.merge(discovery.report);
    Ok(Scanned {
        batches: batches.into_inner().unwrap(),
        report,
    })
}

pub fn scan(sources: &[PathBuf]) -> Scanned {
    scan_with(sources, &ScanOptions::default()).unwrap()
}

/// Says in `cargo test`'s output that the running test skipped its checks, and why. Written to
/// the stderr handle: libtest captures `eprintln!` (shown only when a test fails), not this.
pub fn skip(reason: &str) {
    use std::io::Write;
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr().lock(), "skipped {test}: {reason}");
}
