//! A damaged file is reported with its reason and skipped; every record of every good file counts.

use ctq_ingest::{IngestError, ScanOptions};

use crate::support::*;

fn trail_with_damage() -> (tempfile::TempDir, Vec<(&'static str, &'static str)>) {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..10 {
        let records: Vec<_> = (0..3)
            .map(|j| record(&format!("good-{i}-{j}"), None))
            .collect();
        write(
            dir.path(),
            &format!("good/{i:02}.json.gz"),
            &gzip(&records_file(&records)),
        );
    }
    let whole = gzip(&records_file(&[record("lost", None)]));
    write(
        dir.path(),
        "bad/truncated.json.gz",
        &whole[..whole.len() / 2],
    );
    write(
        dir.path(),
        "bad/not-gzip.json.gz",
        b"\x00\x01binary garbage",
    );
    write(
        dir.path(),
        "bad/invalid.json",
        b"{\"Records\": [{\"eventID\": \"x\",}",
    );
    write(dir.path(), "bad/empty.json.gz", b"");
    write(
        dir.path(),
        "bad/not-an-object.json",
        b"{\"Records\": [{\"eventID\": \"ok\"}, 42]}",
    );
    write(dir.path(), "bad/no-records.json", b"{\"Something\": []}");
    let expected = vec![
        ("empty.json.gz", "empty file"),
        ("invalid.json", "invalid JSON"),
        ("no-records.json", "not a CloudTrail log"),
        ("not-an-object.json", "invalid JSON"),
        ("not-gzip.json.gz", "not a CloudTrail log"),
        ("truncated.json.gz", "gzip stream is truncated or corrupt"),
    ];
    (dir, expected)
}

#[test]
fn each_damaged_file_is_named_with_its_reason_and_good_files_all_count() {
    let (dir, expected) = trail_with_damage();
    let scanned = scan(&[dir.path().to_path_buf()]);
    assert_eq!(scanned.rows(), 30, "all 30 good records arrive");
    assert_eq!(scanned.report.files_read(), 10);
    let damaged: Vec<(String, String)> = scanned
        .report
        .damaged()
        .map(|(p, r)| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                r.to_string(),
            )
        })
        .collect();
    assert_eq!(damaged.len(), expected.len(), "{damaged:?}");
    for ((name, reason), (want_name, want_reason)) in damaged.iter().zip(&expected) {
        assert_eq!(name, want_name);
        assert!(reason.starts_with(want_reason), "{name}: {reason}");
    }
    assert!(
        scanned
            .strings("eventid")
            .iter()
            .all(|id| id.as_deref().unwrap().starts_with("good-")),
        "no record of a damaged file leaks in, not even the valid first record of not-an-object.json"
    );
}

#[test]
fn strict_mode_fails_on_a_damaged_file_and_names_it() {
    let (dir, _) = trail_with_damage();
    let options = ScanOptions {
        strict: true,
        ..ScanOptions::default()
    };
    match scan_with(&[dir.path().to_path_buf()], &options) {
        Err(IngestError::Damaged { path, reason }) => {
            assert!(path.starts_with(dir.path().join("bad")), "{path:?}");
            assert!(!reason.is_empty());
        }
        other => panic!(
            "expected a damaged-file error, got {:?}",
            other.map(|s| s.rows())
        ),
    }
}

#[test]
fn a_missing_source_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = scan_with(std::slice::from_ref(&missing), &ScanOptions::default())
        .err()
        .unwrap();
    let message = err.to_string();
    assert!(
        message.contains(&missing.display().to_string()),
        "{message}"
    );
    assert!(matches!(err, IngestError::Source { .. }));
}
