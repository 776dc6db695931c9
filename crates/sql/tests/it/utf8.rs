//! A file holding invalid UTF-8 gives the same rows whichever columns a query reads: the invalid
//! bytes read as U+FFFD, and the file is named once as repaired, not skipped as damaged.

use ctq_sql::{SessionOptions, TrailSession};
use ctq_testkit::{record, records_file, splice_bytes, trail_key, write, write_gz};
use serde_json::json;

use crate::support::*;

/// Three records, two denied: one with invalid UTF-8 in its error message, one with it in its
/// user agent; and a clean file of one record.
fn trail() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut message = record("message", Some("AccessDenied"));
    message["errorMessage"] = json!("User: bob is not authorized @INVALID@");
    let mut agent = record("agent", None);
    agent["userAgent"] = json!("aws-cli/@INVALID@");
    let file = records_file(&[message, agent, record("denied", Some("AccessDenied"))]);
    write(
        dir.path(),
        &trail_key("123456789012", "us-east-1", "20191029T0645Z", "bad"),
        &ctq_testkit::gzip(&splice_bytes(&file, "@INVALID@", b"\xc3(\xff")),
    );
    write_gz(
        dir.path(),
        &trail_key("123456789012", "us-east-1", "20191029T0650Z", "clean"),
        &records_file(&[record("clean", None)]),
    );
    dir
}

#[tokio::test]
async fn every_projection_counts_the_records_of_a_file_with_invalid_utf8() {
    let dir = trail();
    let queries = [
        ("SELECT count(*) FROM cloudtrail", "4"),
        ("SELECT count(errorcode) FROM cloudtrail", "2"),
        ("SELECT count(errormessage) FROM cloudtrail", "2"),
        ("SELECT count(useragent) FROM cloudtrail", "1"),
        (
            "SELECT count(errormessage) FROM cloudtrail WHERE errorcode IS NOT NULL",
            "2",
        ),
    ];
    for (sql, expected) in queries {
        let session = TrailSession::open(&[dir.path()], &SessionOptions::default())
            .await
            .unwrap();
        let result = session.query(sql, &[]).await.unwrap();
        assert_eq!(csv_rows(&result), [expected], "{sql}");
        let outcomes = session.file_outcomes();
        assert_eq!(outcomes.damaged().count(), 0, "{sql}");
        let repaired: Vec<_> = outcomes.repaired().collect();
        assert_eq!(repaired.len(), 1, "{sql}: {repaired:?}");
        assert!(repaired[0].0.to_string_lossy().ends_with("_bad.json.gz"));
        assert_eq!(
            repaired[0].1.to_string(),
            "4 invalid UTF-8 sequences replaced with U+FFFD",
            "two per marker: a lone lead byte, then 0xff"
        );
    }
}

#[tokio::test]
async fn the_error_message_reads_with_u_fffd_whichever_path_decodes_it() {
    let dir = trail();
    let session = TrailSession::open(&[dir.path()], &SessionOptions::default())
        .await
        .unwrap();
    let expected = "User: bob is not authorized \u{FFFD}(\u{FFFD}";
    for sql in [
        "SELECT errormessage FROM cloudtrail WHERE eventid = 'message'",
        "SELECT errormessage FROM cloudtrail WHERE errorcode IS NOT NULL AND eventid = 'message'",
        "SELECT errormessage FROM cloudtrail WHERE errorcode = 'AccessDenied' \
         ORDER BY errormessage DESC LIMIT 1",
    ] {
        let result = session.query(sql, &[]).await.unwrap();
        assert_eq!(column(&result, "errormessage"), [expected], "{sql}");
    }
    let result = session
        .query(
            "SELECT useragent FROM cloudtrail WHERE eventid = 'agent'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(column(&result, "useragent"), ["aws-cli/\u{FFFD}(\u{FFFD}"]);
}
