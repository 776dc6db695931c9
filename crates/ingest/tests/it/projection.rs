//! A scan that fills some columns, or only records with an `errorCode`, gives exactly what the
//! full scan gives for them.

use arrow_array::RecordBatch;
use ctq_ingest::{ColumnSet, RecordFilter, ScanOptions};
use serde_json::json;

use crate::support::*;

/// Records whose strings hold what a delimiter could trip on, some with an error code, one with
/// the key only inside its request parameters.
fn tricky_trail() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in 0..6 {
        let mut records = Vec::new();
        for i in 0..40 {
            let id = format!("{file}-{i}");
            let code = (i % 5 == 0).then_some(if i % 2 == 0 {
                "AccessDenied"
            } else {
                "Client.UnauthorizedOperation"
            });
            let mut r = record(&id, code);
            r["userAgent"] = json!(format!("agent \"{}\" {{[\\", "}]".repeat(i % 4)));
            r["requestParameters"] = json!({
                "policyDocument": "{\"Statement\":[{\"Effect\":\"Deny\"}]}",
                "note": "errorCode \"errorCode\" in text",
            });
            if i == 7 {
                r["requestParameters"]["errorCode"] = json!("NotTopLevel");
            }
            records.push(r);
        }
        let bytes = records_file(&records);
        let name = format!(
            "AWSLogs/123456789012/CloudTrail/us-east-1/2019/10/29/123456789012_CloudTrail_us-east-1_20191029T06{file}0Z_abc.json.gz"
        );
        write(dir.path(), &name, &gzip(&bytes));
    }
    // A valid file that is not exactly `{"Records":[...]}`: read by the full parser.
    let mut odd = serde_json::to_value(
        json!({"Records": [record("odd-1", Some("AccessDenied")), record("odd-2", None)]}),
    )
    .unwrap();
    odd["Extra"] = json!([1, 2]);
    write(
        dir.path(),
        "odd.json",
        serde_json::to_string_pretty(&odd).unwrap().as_bytes(),
    );
    dir
}

fn column_names(batch: &RecordBatch) -> Vec<String> {
    batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

#[test]
fn a_projected_scan_has_only_its_columns_with_the_same_values() {
    let dir = tricky_trail();
    let full = scan(&[dir.path().to_path_buf()]);
    let columns = ColumnSet::NONE
        .with_name("eventid")
        .with_name("useridentity")
        .with_name("useragent")
        .with_name("requestparameters")
        .with_name("account");
    let options = ScanOptions {
        columns,
        ..ScanOptions::default()
    };
    let projected = scan_with(&[dir.path().to_path_buf()], &options).unwrap();
    assert_eq!(projected.rows(), full.rows());
    for batch in &projected.batches {
        assert_eq!(
            column_names(batch),
            [
                "useridentity",
                "useragent",
                "requestparameters",
                "eventid",
                "account"
            ]
        );
    }
    for column in [
        "eventid",
        "useridentity.arn",
        "useragent",
        "requestparameters",
        "account",
    ] {
        assert_eq!(projected.strings(column), full.strings(column), "{column}");
    }
}

#[test]
fn a_scan_of_no_column_still_counts_every_row() {
    let dir = tricky_trail();
    let options = ScanOptions {
        columns: ColumnSet::NONE,
        ..ScanOptions::default()
    };
    let counted = scan_with(&[dir.path().to_path_buf()], &options).unwrap();
    assert_eq!(counted.rows(), 6 * 40 + 2);
    assert!(counted.batches.iter().all(|b| b.num_columns() == 0));
}

#[test]
fn the_error_code_filter_keeps_exactly_the_records_with_an_error_code() {
    let dir = tricky_trail();
    let full = scan(&[dir.path().to_path_buf()]);
    let expected: Vec<Option<String>> = {
        let ids = full.strings("eventid");
        let codes_by_id: Vec<_> = full
            .batches
            .iter()
            .flat_map(|b| {
                let ids = b.column_by_name("eventid").unwrap();
                let codes = b.column_by_name("errorcode").unwrap();
                let ids = arrow_array::cast::AsArray::as_string::<i32>(ids);
                let codes = arrow_array::cast::AsArray::as_string::<i32>(codes);
                ids.iter()
                    .zip(codes.iter())
                    .filter(|(_, code)| code.is_some())
                    .map(|(id, _)| id.map(str::to_owned))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert!(codes_by_id.len() < ids.len());
        let mut sorted = codes_by_id;
        sorted.sort();
        sorted
    };
    assert_eq!(
        expected.len(),
        6 * 8 + 1,
        "8 per file and one in the odd file"
    );
    for columns in [ColumnSet::ALL, ColumnSet::NONE.with_name("eventid")] {
        let options = ScanOptions {
            filter: RecordFilter {
                needs_error_code: true,
                ..RecordFilter::default()
            },
            columns,
            ..ScanOptions::default()
        };
        let filtered = scan_with(&[dir.path().to_path_buf()], &options).unwrap();
        assert_eq!(filtered.strings("eventid"), expected);
        assert_eq!(filtered.report.damaged().count(), 0);
    }
}

#[test]
fn the_error_code_filter_still_reports_damaged_files() {
    let dir = tricky_trail();
    let good = records_file(&[record("a", Some("AccessDenied")), record("b", None)]);
    write(dir.path(), "cut.json", &good[..good.len() - 30]);
    let mut unbalanced = good.clone();
    let at = unbalanced.iter().position(|&b| b == b'[').unwrap();
    unbalanced.insert(at + 1, b'[');
    write(dir.path(), "unbalanced.json", &unbalanced);
    let options = ScanOptions {
        filter: RecordFilter {
            needs_error_code: true,
            ..RecordFilter::default()
        },
        ..ScanOptions::default()
    };
    let filtered = scan_with(&[dir.path().to_path_buf()], &options).unwrap();
    let damaged: Vec<String> = filtered
        .report
        .damaged()
        .map(|(path, _)| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(damaged, ["cut.json", "unbalanced.json"]);
    assert_eq!(
        filtered.rows(),
        6 * 8 + 1,
        "every record of the good files counts"
    );
}
