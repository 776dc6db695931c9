//! `--max-inflated-mib`: a gzip file inflating past the cap is damaged with the reason, in queries
//! and in ingest; a higher cap reads it.

use ctq_testkit::{record, records_file, write_gz};

use crate::support::*;

/// A valid log file of one record that inflates to 3 MiB (blanks after the JSON).
fn padded_trail() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut text = records_file(&[record("padded", Some("AccessDenied"))]);
    text.extend(std::iter::repeat_n(b' ', 3 << 20));
    write_gz(dir.path(), "trail/padded.json.gz", &text);
    dir
}

#[test]
fn a_file_past_the_inflate_cap_is_damaged_and_a_higher_cap_reads_it() {
    let dir = padded_trail();
    let trail = dir.path().join("trail");
    let trail = trail.to_str().unwrap();
    let count = |cap: &str| {
        ctq(&[
            "query",
            "SELECT count(*) AS n FROM cloudtrail",
            "-s",
            trail,
            "--format",
            "csv",
            "-q",
            "--max-inflated-mib",
            cap,
        ])
    };
    let capped = count("1");
    assert_eq!(capped.status.code(), Some(3), "{}", stderr(&capped));
    assert!(
        stderr(&capped).contains("inflates to more than 1 MiB")
            && stderr(&capped).contains("--max-inflated-mib"),
        "{}",
        stderr(&capped)
    );
    assert_eq!(stdout(&capped).lines().nth(1), Some("0"));
    let raised = count("4");
    assert_eq!(raised.status.code(), Some(0), "{}", stderr(&raised));
    assert_eq!(stdout(&raised).lines().nth(1), Some("1"));

    let store = dir.path().join("store");
    let store = store.to_str().unwrap();
    let ingest = |cap: &str| {
        ctq(&[
            "ingest",
            "-s",
            trail,
            "--store",
            store,
            "--max-inflated-mib",
            cap,
        ])
    };
    let capped = ingest("1");
    assert_eq!(capped.status.code(), Some(3), "{}", stderr(&capped));
    assert!(
        stderr(&capped).contains("inflates to more than 1 MiB"),
        "{}",
        stderr(&capped)
    );
    let retried = ctq(&[
        "ingest",
        "-s",
        trail,
        "--store",
        store,
        "--retry-damaged",
        "--max-inflated-mib",
        "4",
    ]);
    assert_eq!(retried.status.code(), Some(0), "{}", stderr(&retried));
    assert!(
        stderr(&retried).contains("1 records written"),
        "{}",
        stderr(&retried)
    );
}
