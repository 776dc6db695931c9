//! Test helpers shared by ctq's crates, and nothing else: never a normal dependency of any crate,
//! only a `[dev-dependencies]` entry of their integration tests.
//!
//! It owns what used to be copied across the crates' `tests/it/support.rs`:
//!
//! - where things are: the repository ([`repo`]), the bundled sample trail ([`sample_logs`]),
//!   the saved queries ([`queries`]);
//! - files: [`write`] one (making its folders), [`walk`] a folder, [`copy_tree`];
//! - gzip: [`gzip`] bytes, [`gunzip`] them, [`write_gz`] a `.json.gz`;
//! - trails: a record ([`record`]), a `{"Records":[...]}` file ([`records_file`]) with bytes no
//!   JSON value holds spliced in ([`splice_bytes`]), its key in the S3 layout ([`trail_key`]) and
//!   the file written there ([`write_trail_file`]);
//! - [`sample_records`]: every event record of the sample trail, read with gunzip and `serde_json`
//!   alone, the oracle query results are compared with;
//! - [`skip`]: saying in `cargo test`'s output that a test skipped its checks.
//!
//! It depends on no ctq crate and not on `DataFusion`, so using it adds no link time; what is
//! specific to one crate stays in that crate's `tests/it/support.rs`.

// Test helpers: each panics on what it cannot do, as the test calling it would, and a result
// left unused is the calling test's business.
#![allow(
    clippy::missing_panics_doc,
    clippy::missing_errors_doc,
    clippy::must_use_candidate
)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The bundled sample trail, `sample-logs/`.
pub fn sample_logs() -> PathBuf {
    repo().join("sample-logs")
}

/// `../shared/realdata`, the real CloudTrail records of public repositories (one folder each),
/// when this machine has it.
pub fn realdata() -> Option<PathBuf> {
    let dir = repo().join("../shared/realdata");
    dir.join("SOURCES.md").exists().then_some(dir)
}

/// The saved queries, `queries/`.
pub fn queries() -> PathBuf {
    repo().join("queries")
}

/// Says in `cargo test`'s output that the running test skipped its checks, and why. Written to
/// the stderr handle: libtest captures `eprintln!` (shown only when a test fails), not this.
pub fn skip(reason: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr().lock(), "skipped {test}: {reason}");
}

/// Writes `bytes` to `dir/relative`, making its folders; the file's path.
pub fn write(dir: &Path, relative: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Every file under `dir`, in path order; none if `dir` does not exist.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.extend(walk(&path));
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Copies every file under `from` to the same place under `to`, but those `leave_out` names.
pub fn copy_tree(from: &Path, to: &Path, leave_out: impl Fn(&Path) -> bool) {
    for file in walk(from) {
        if leave_out(&file) {
            continue;
        }
        let target = to.join(file.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&file, &target).unwrap();
    }
}

/// `bytes` gzipped, one member.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Gzipped `bytes` inflated, every member; an error for what is not gzip.
pub fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    MultiGzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

/// Writes `bytes` gzipped to `dir/relative` (a `.json.gz`), making its folders; the file's path.
pub fn write_gz(dir: &Path, relative: &str, bytes: &[u8]) -> PathBuf {
    write(dir, relative, &gzip(bytes))
}

/// An `AwsApiCall` of `alice` listing buckets on 2019-10-29, with fields of every kind (nested
/// objects, arrays, a field no schema knows); denied with `error_code` if given.
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

/// A denied record of an IAM Identity Center user: no ARN, who it was in `onBehalfOf`.
pub fn identity_center_record(event_id: &str) -> Value {
    let mut r = record(event_id, Some("AccessDenied"));
    r["userIdentity"] = json!({
        "type": "IdentityCenterUser",
        "accountId": "123456789012",
        "onBehalfOf": {
            "userId": "94482488-3041-7026-18f3-2d4b5d1e5a7c",
            "identityStoreArn": "arn:aws:identitystore::123456789012:identitystore/d-1234567890"
        },
        "credentialId": "EXAMPLEVZzYUOmgNbexample"
    });
    r
}

/// A CloudTrail log file's text: `{"Records":[...]}`.
pub fn records_file(records: &[Value]) -> Vec<u8> {
    serde_json::to_vec(&json!({ "Records": records })).unwrap()
}

/// `text` with every `marker` replaced by `bytes`: how a test writes into a log file what no JSON
/// value holds (invalid UTF-8, an unpaired surrogate escape).
pub fn splice_bytes(text: &[u8], marker: &str, bytes: &[u8]) -> Vec<u8> {
    let marker = marker.as_bytes();
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.windows(marker.len()).position(|w| w == marker) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(bytes);
        rest = &rest[at + marker.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// Where `CloudTrail` delivers a file, relative to the bucket:
/// `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<id>.json.gz`,
/// its day folders taken from `stamp` (`20191029T0645Z`).
pub fn trail_key(account: &str, region: &str, stamp: &str, id: &str) -> String {
    let (y, m, d) = (&stamp[..4], &stamp[4..6], &stamp[6..8]);
    format!(
        "AWSLogs/{account}/CloudTrail/{region}/{y}/{m}/{d}/{account}_CloudTrail_{region}_{stamp}_{id}.json.gz"
    )
}

/// Writes `records` as a gzipped log file at [`trail_key`] under `dir`; the file's path.
pub fn write_trail_file(
    dir: &Path,
    account: &str,
    region: &str,
    stamp: &str,
    id: &str,
    records: &[Value],
) -> PathBuf {
    write_gz(
        dir,
        &trail_key(account, region, stamp, id),
        &records_file(records),
    )
}

/// Every event record of the sample trail, read without ctq: gunzip and `serde_json`, skipping the
/// digest and Insights folders. The oracle query results are compared with.
pub fn sample_records() -> Vec<Value> {
    let mut records = Vec::new();
    for file in walk(&sample_logs()) {
        let path = file.to_string_lossy();
        if !path.ends_with(".json.gz")
            || path.contains("CloudTrail-Digest")
            || path.contains("CloudTrail-Insight")
        {
            continue;
        }
        let text = gunzip(&std::fs::read(&file).unwrap()).unwrap();
        let document: Value = serde_json::from_slice(&text).unwrap();
        records.extend(document["Records"].as_array().unwrap().iter().cloned());
    }
    records
}

/// A Security Lake OCSF API Activity Parquet file (source version 2) of `records`: the columns
/// Security Lake fills from a CloudTrail record, with `time` in epoch milliseconds.
pub fn ocsf_parquet(records: &[Value]) -> Vec<u8> {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray, StructArray};
    use arrow_schema::Field;

    let strings = |pointer: &str| -> ArrayRef {
        Arc::new(
            records
                .iter()
                .map(|r| r.pointer(pointer).map(|v| v.as_str().unwrap().to_owned()))
                .collect::<StringArray>(),
        )
    };
    let json_texts = |pointer: &str| -> ArrayRef {
        Arc::new(
            records
                .iter()
                .map(|r| r.pointer(pointer).map(Value::to_string))
                .collect::<StringArray>(),
        )
    };
    let object = |fields: Vec<(&str, ArrayRef)>| -> ArrayRef {
        Arc::new(StructArray::from(
            fields
                .into_iter()
                .map(|(name, array)| {
                    (
                        Arc::new(Field::new(name, array.data_type().clone(), true)),
                        array,
                    )
                })
                .collect::<Vec<_>>(),
        ))
    };
    // 2019-10-29T06:41:48.123Z: the milliseconds CloudTrail's times do not show.
    let time: ArrayRef = Arc::new(Int64Array::from(vec![1_572_331_308_123; records.len()]));
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "class_uid",
            Arc::new(Int32Array::from(vec![6003; records.len()])),
        ),
        ("time", time),
        (
            "actor",
            object(vec![(
                "user",
                object(vec![
                    ("uid", strings("/userIdentity/arn")),
                    ("uid_alt", strings("/userIdentity/principalId")),
                    ("type", strings("/userIdentity/type")),
                    (
                        "account",
                        object(vec![("uid", strings("/userIdentity/accountId"))]),
                    ),
                ]),
            )]),
        ),
        (
            "api",
            object(vec![
                ("operation", strings("/eventName")),
                ("service", object(vec![("name", strings("/eventSource"))])),
                (
                    "request",
                    object(vec![("data", json_texts("/requestParameters"))]),
                ),
                (
                    "response",
                    object(vec![
                        ("error", strings("/errorCode")),
                        ("message", strings("/errorMessage")),
                    ]),
                ),
            ]),
        ),
        ("cloud", object(vec![("region", strings("/awsRegion"))])),
        (
            "metadata",
            object(vec![
                ("uid", strings("/eventID")),
                ("event_code", strings("/eventType")),
                (
                    "product",
                    object(vec![("version", strings("/eventVersion"))]),
                ),
            ]),
        ),
    ];
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    let batch = RecordBatch::try_new(
        Arc::new(arrow_schema::Schema::new(fields)),
        columns.into_iter().map(|(_, array)| array).collect(),
    )
    .unwrap();
    parquet_bytes(&batch)
}

/// `batch` as the bytes of a Parquet file.
pub fn parquet_bytes(batch: &arrow_array::RecordBatch) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(&mut bytes, batch.schema(), None).unwrap();
    writer.write(batch).unwrap();
    writer.close().unwrap();
    bytes
}

/// One row of `aws cloudtrail get-query-results` output for `record`: single-key objects, with
/// `userIdentity` as JSON text, or only its ARN as `userIdentity.arn` when `arn_column`.
pub fn lake_row(record: &Value, arn_column: bool) -> Value {
    let mut row = vec![
        json!({"eventID": record["eventID"]}),
        json!({"eventTime": "2019-10-29 06:41:48.000"}),
        json!({"eventSource": record["eventSource"]}),
        json!({"eventName": record["eventName"]}),
    ];
    if arn_column {
        row.push(json!({"userIdentity.arn": record["userIdentity"]["arn"]}));
    } else {
        row.push(json!({"userIdentity": record["userIdentity"].to_string()}));
    }
    if let Some(code) = record.get("errorCode") {
        row.push(json!({"errorCode": code}));
    }
    Value::Array(row)
}

/// `aws cloudtrail get-query-results` output holding `records`.
pub fn lake_query_results(records: &[Value]) -> Vec<u8> {
    json!({
        "QueryStatus": "FINISHED",
        "QueryStatistics": {"ResultsCount": records.len(), "TotalResultsCount": records.len()},
        "QueryResultRows": records.iter().map(|r| lake_row(r, false)).collect::<Vec<_>>()
    })
    .to_string()
    .into_bytes()
}

/// The configuration of a property test: `PROPTEST_CASES` cases when set (an explicit count in a
/// config would override it), else `default`. Unoptimized, proptest's default ChaCha generator
/// costs more than the properties; XorShift unless `PROPTEST_RNG_ALGORITHM` says otherwise.
pub fn proptest_config(default: u32) -> proptest::test_runner::Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default);
    let mut config = proptest::test_runner::Config::with_cases(cases);
    if std::env::var_os("PROPTEST_RNG_ALGORITHM").is_none() {
        config.rng_algorithm = proptest::test_runner::RngAlgorithm::XorShift;
    }
    config
}

/// One edit of a file's bytes: what damage in transit or by hand does. Generated by
/// [`byte_edit`], applied by [`apply_edit`].
#[derive(Debug, Clone)]
pub enum ByteEdit {
    Delete(proptest::sample::Index),
    Insert(proptest::sample::Index, u8),
    Replace(proptest::sample::Index, u8),
    Truncate(proptest::sample::Index),
}

/// Edits that damage JSON: mostly its structural and literal bytes, sometimes any byte.
pub fn byte_edit() -> impl proptest::strategy::Strategy<Value = ByteEdit> {
    use proptest::prelude::*;
    use proptest::sample::Index;
    let byte = prop_oneof![
        3 => prop::sample::select(b"\"\\{}[],: \n\t\x0c0123456789.-+eEtrufalsn\x00\x1f\x7f".to_vec()),
        1 => any::<u8>(),
    ];
    prop_oneof![
        3 => any::<Index>().prop_map(ByteEdit::Delete),
        3 => (any::<Index>(), byte.clone()).prop_map(|(at, b)| ByteEdit::Insert(at, b)),
        3 => (any::<Index>(), byte).prop_map(|(at, b)| ByteEdit::Replace(at, b)),
        1 => any::<Index>().prop_map(ByteEdit::Truncate),
    ]
}

/// Applies `edit` to `text`; an edit of an empty text that needs a byte does nothing.
pub fn apply_edit(text: &mut Vec<u8>, edit: &ByteEdit) {
    match edit {
        ByteEdit::Delete(at) if !text.is_empty() => {
            text.remove(at.index(text.len()));
        }
        ByteEdit::Insert(at, byte) => text.insert(at.index(text.len() + 1), *byte),
        ByteEdit::Replace(at, byte) if !text.is_empty() => {
            let at = at.index(text.len());
            text[at] = *byte;
        }
        ByteEdit::Truncate(at) => text.truncate(at.index(text.len() + 1)),
        _ => {}
    }
}
