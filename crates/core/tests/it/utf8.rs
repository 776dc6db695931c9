//! A file holding invalid UTF-8 is read, its bytes as U+FFFD: one warning names it, and the exit
//! status stays 0 because no record was left out.

use ctq_testkit::{record, records_file, splice_bytes};
use serde_json::json;

use crate::support::*;

#[test]
fn a_file_with_invalid_utf8_is_named_once_as_a_warning_and_counted_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut denied = record("denied", Some("AccessDenied"));
    denied["errorMessage"] = json!("not authorized @INVALID@");
    let file = records_file(&[denied, record("allowed", None)]);
    write(
        dir.path(),
        "bad.json",
        &splice_bytes(&file, "@INVALID@", b"\xff\xfe"),
    );
    for sql in [
        "SELECT count(*) AS n, count(errormessage) AS m FROM cloudtrail",
        "SELECT count(*) AS n, count(errormessage) AS m FROM cloudtrail \
         WHERE errorcode IS NOT NULL",
    ] {
        let output = ctq(&[
            "query",
            sql,
            "--source",
            dir.path().to_str().unwrap(),
            "--format",
            "csv",
        ]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(0), "{err}");
        let expected = if sql.contains("WHERE") { "1,1" } else { "2,1" };
        assert_eq!(stdout(&output).lines().nth(1), Some(expected), "{sql}");
        let warnings: Vec<&str> = err.lines().filter(|l| l.contains("warning")).collect();
        assert_eq!(warnings.len(), 1, "{err}");
        assert!(
            warnings[0].contains("bad.json: 2 invalid UTF-8 sequences replaced with U+FFFD"),
            "{err}"
        );
        assert!(err.contains("0 damaged"), "{err}");
    }
}

#[test]
fn ingest_stores_a_file_with_invalid_utf8_and_warns_once() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    let mut denied = record("denied", Some("AccessDenied"));
    denied["errorMessage"] = json!("not authorized @INVALID@");
    let file = records_file(&[denied, record("allowed", None)]);
    write(
        &trail,
        "bad.json",
        &splice_bytes(&file, "@INVALID@", b"\xff"),
    );
    let store = dir.path().join("store");
    let (trail, store) = (trail.to_str().unwrap(), store.to_str().unwrap());
    let ingest = ctq(&["ingest", "-s", trail, "--store", store]);
    let err = stderr(&ingest);
    assert_eq!(ingest.status.code(), Some(0), "{err}");
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].contains("bad.json: 1 invalid UTF-8 sequence replaced with U+FFFD"),
        "{err}"
    );
    let query = ctq(&[
        "query",
        "SELECT count(*) AS n, count(errormessage) AS m FROM cloudtrail",
        "--store",
        store,
        "--format",
        "csv",
        "-q",
    ]);
    assert_eq!(
        stdout(&query).lines().nth(1),
        Some("2,1"),
        "{}",
        stderr(&query)
    );
}
