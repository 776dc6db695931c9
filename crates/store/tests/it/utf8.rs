//! A source file with invalid UTF-8 or unpaired surrogate escapes is stored, not recorded as
//! damaged, with the same rows and values as a scan of the raw trail.

use std::path::Path;
use std::sync::Mutex;

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use ctq_ingest::{ColumnSet, Pruning, ScanOptions, discover, scan_files};
use ctq_store::{IngestOptions, ingest};
use ctq_testkit::{record, records_file, splice_bytes, trail_key, walk, write, write_gz};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::json;

const COLUMNS: [&str; 3] = ["eventid", "errormessage", "useragent"];

type Row = Vec<Option<String>>;

fn trail(dir: &Path) {
    let mut message = record("message", Some("AccessDenied"));
    message["errorMessage"] = json!("denied @INVALID@");
    let mut agent = record("agent", None);
    agent["userAgent"] = json!("aws-cli/@INVALID@");
    let file = records_file(&[message, agent]);
    write(
        dir,
        &trail_key("123456789012", "us-east-1", "20191029T0645Z", "utf8"),
        &ctq_testkit::gzip(&splice_bytes(&file, "@INVALID@", b"\xe2\x82")),
    );
    let mut surrogate = record("surrogate", Some("AccessDenied"));
    surrogate["errorMessage"] = json!("half @HIGH@");
    let file = records_file(&[surrogate]);
    write(
        dir,
        &trail_key("123456789012", "us-east-1", "20191029T0650Z", "surrogate"),
        &ctq_testkit::gzip(&splice_bytes(&file, "@HIGH@", br"\ud800")),
    );
    write_gz(
        dir,
        &trail_key("123456789012", "us-east-1", "20191029T0655Z", "clean"),
        &records_file(&[record("clean", None)]),
    );
}

fn rows_of(batches: &[RecordBatch]) -> Vec<Row> {
    let mut rows = Vec::new();
    for batch in batches {
        let columns: Vec<_> = COLUMNS
            .iter()
            .map(|name| batch.column_by_name(name).unwrap().as_string::<i32>())
            .collect();
        for row in 0..batch.num_rows() {
            rows.push(
                columns
                    .iter()
                    .map(|c| c.is_valid(row).then(|| c.value(row).to_string()))
                    .collect(),
            );
        }
    }
    rows.sort();
    rows
}

fn raw_rows(trail: &Path, columns: ColumnSet) -> Vec<Row> {
    let discovery = discover(&[trail.to_path_buf()], &Pruning::default()).unwrap();
    let batches = Mutex::new(Vec::new());
    let options = ScanOptions {
        columns,
        ..ScanOptions::default()
    };
    let outcomes = scan_files(&discovery.files, &options, &|batch| {
        batches.lock().unwrap().push(batch);
        true
    })
    .unwrap();
    assert_eq!(outcomes.damaged().count(), 0);
    assert_eq!(outcomes.repaired().count(), 2);
    rows_of(&batches.into_inner().unwrap())
}

fn stored_rows(store: &Path) -> Vec<Row> {
    let mut batches = Vec::new();
    for file in walk(store) {
        if file.extension().is_none_or(|e| e != "parquet") {
            continue;
        }
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&file).unwrap())
            .unwrap()
            .build()
            .unwrap();
        batches.extend(reader.map(Result::unwrap));
    }
    rows_of(&batches)
}

#[test]
fn invalid_text_is_stored_as_u_fffd_with_the_rows_of_the_raw_trail() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("trail");
    trail(&source);
    let store = dir.path().join("store");
    let summary = ingest(
        std::slice::from_ref(&source),
        &store,
        &IngestOptions::default(),
    )
    .unwrap();
    assert!(summary.damaged.is_empty(), "{:?}", summary.damaged);
    assert_eq!(summary.records_written, 4);

    let stored = stored_rows(&store);
    let some = |s: &str| Some(s.to_string());
    let with =
        |id: &str, message: Option<String>, agent: Option<String>| vec![some(id), message, agent];
    assert_eq!(
        stored,
        [
            with("agent", None, some("aws-cli/\u{FFFD}")),
            with("clean", None, None),
            with("message", some("denied \u{FFFD}"), None),
            with("surrogate", some("half \u{FFFD}"), None),
        ]
    );
    assert_eq!(raw_rows(&source, ColumnSet::ALL), stored);
    let only_these = COLUMNS
        .iter()
        .fold(ColumnSet::NONE, |set, name| set.with_name(name));
    assert_eq!(raw_rows(&source, only_these), stored);
}
