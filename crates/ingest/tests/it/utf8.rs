//! Text that is not valid Unicode (invalid UTF-8, unpaired surrogate escapes) is read as U+FFFD
//! whichever columns a scan fills, and each such file is named once with what was replaced.

use std::path::Path;

use ctq_ingest::{
    ColumnSet, FileOutcome, RecordFilter, ScanOptions, TextRepairs, cloudtrail_schema,
};
use ctq_testkit::splice_bytes;
use serde_json::json;

use crate::support::*;

/// Records with an error code in the trail below.
const WITH_ERROR_CODE: usize = 6;
const RECORDS: usize = 11;

/// One file per place a fault can sit: in a field some scans parse and others skip (the error
/// message, the user agent), in a key (which every full parse reads, but the error-code filter
/// skips with its record), as unpaired surrogate escapes; and a clean file.
fn trail() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut denied = record("message-1", Some("AccessDenied"));
    denied["errorMessage"] = json!("denied @INVALID@ here");
    let file = records_file(&[denied, record("message-2", None)]);
    // Inflated from gzip, and a lone continuation byte.
    write(
        dir.path(),
        "message.json.gz",
        &gzip(&splice_bytes(&file, "@INVALID@", b"\x80")),
    );

    let mut agent = record("agent-1", None);
    agent["userAgent"] = json!("aws-cli/@INVALID@");
    let file = records_file(&[agent, record("agent-2", Some("AccessDenied"))]);
    // A three-byte sequence cut short: one replacement, as from_utf8_lossy makes it.
    write(
        dir.path(),
        "agent.json",
        &splice_bytes(&file, "@INVALID@", b"\xe2\x82"),
    );

    let mut key = record("key-1", None);
    key["odd@INVALID@key"] = json!("x");
    let file = records_file(&[key, record("key-2", Some("Throttling"))]);
    write(
        dir.path(),
        "key.json",
        &splice_bytes(&file, "@INVALID@", b"\xff"),
    );

    let mut lone_high = record("surrogate-1", Some("AccessDenied"));
    lone_high["errorMessage"] = json!("half @HIGH@ a pair");
    let mut lone_low = record("surrogate-2", None);
    lone_low["userAgent"] = json!("agent @LOW@");
    let mut paired = record("surrogate-3", Some("AccessDenied"));
    paired["errorMessage"] = json!("smile @PAIR@");
    // An escaped backslash followed by `ud800` is text, not an escape.
    let mut escaped = record("surrogate-4", Some("AccessDenied"));
    escaped["errorMessage"] = json!(r"path C:\ud800");
    let file = records_file(&[lone_high, lone_low, paired, escaped]);
    let file = splice_bytes(&file, "@HIGH@", br"\ud800");
    let file = splice_bytes(&file, "@LOW@", br"\udc00");
    let file = splice_bytes(&file, "@PAIR@", br"\ud83d\ude00");
    write(dir.path(), "surrogate.json", &file);

    write(
        dir.path(),
        "clean.json",
        &records_file(&[record("clean-1", None)]),
    );
    dir
}

fn projections() -> Vec<(&'static str, ScanOptions)> {
    let only = |name: &str| ScanOptions {
        columns: ColumnSet::NONE.with_name(name),
        ..ScanOptions::default()
    };
    let needing_error_code = |columns| ScanOptions {
        filter: RecordFilter {
            needs_error_code: true,
            ..RecordFilter::default()
        },
        columns,
        ..ScanOptions::default()
    };
    vec![
        ("all columns", ScanOptions::default()),
        (
            "no column",
            ScanOptions {
                columns: ColumnSet::NONE,
                ..ScanOptions::default()
            },
        ),
        ("errorcode", only("errorcode")),
        ("errormessage", only("errormessage")),
        ("useragent", only("useragent")),
        (
            "error code filter, all columns",
            needing_error_code(ColumnSet::ALL),
        ),
        (
            "error code filter, errormessage",
            needing_error_code(ColumnSet::NONE.with_name("errormessage")),
        ),
    ]
}

fn fills(options: &ScanOptions, column: &str) -> bool {
    options
        .columns
        .contains(cloudtrail_schema().index_of(column).unwrap())
}

fn repaired(scanned: &Scanned) -> Vec<(String, TextRepairs)> {
    scanned
        .report
        .repaired()
        .map(|(path, repairs)| (name(path), repairs))
        .collect()
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn utf8(invalid_utf8: u64) -> TextRepairs {
    TextRepairs {
        invalid_utf8,
        lone_surrogates: 0,
    }
}

#[test]
fn every_projection_reads_every_record_and_names_each_repaired_file_once() {
    let dir = trail();
    let expected_repairs = vec![
        ("agent.json".to_string(), utf8(1)),
        ("key.json".to_string(), utf8(1)),
        ("message.json.gz".to_string(), utf8(1)),
        (
            "surrogate.json".to_string(),
            TextRepairs {
                invalid_utf8: 0,
                lone_surrogates: 2,
            },
        ),
    ];
    for (projection, options) in projections() {
        let scanned = scan_with(&[dir.path().to_path_buf()], &options).unwrap();
        let expected_rows = if options.filter.needs_error_code {
            WITH_ERROR_CODE
        } else {
            RECORDS
        };
        assert_eq!(scanned.rows(), expected_rows, "{projection}");
        assert_eq!(
            scanned.report.damaged().count(),
            0,
            "{projection}: {:?}",
            scanned.report.damaged().collect::<Vec<_>>()
        );
        assert_eq!(scanned.report.files_read(), 5, "{projection}");
        assert_eq!(repaired(&scanned), expected_repairs, "{projection}");
    }
}

#[test]
fn replaced_characters_read_as_u_fffd_and_the_filter_agrees_with_the_full_scan() {
    let dir = trail();
    let full = scan(&[dir.path().to_path_buf()]);
    // Every record with an error code has a message: the filtered scans give exactly these.
    let messages: Vec<Option<String>> = [
        "Access Denied",
        "Access Denied",
        "denied \u{FFFD} here",
        "half \u{FFFD} a pair",
        r"path C:\ud800",
        "smile \u{1F600}",
    ]
    .map(|m| Some(m.to_string()))
    .into();
    let mut unfiltered = vec![None; RECORDS - WITH_ERROR_CODE];
    unfiltered.extend(messages.iter().cloned());
    assert_eq!(full.strings("errormessage"), unfiltered);
    let agents = full.strings("useragent");
    assert!(
        agents.contains(&Some("aws-cli/\u{FFFD}".to_string())),
        "{agents:?}"
    );
    assert!(
        agents.contains(&Some("agent \u{FFFD}".to_string())),
        "{agents:?}"
    );

    for (projection, options) in projections() {
        if !fills(&options, "errormessage") {
            continue;
        }
        let scanned = scan_with(&[dir.path().to_path_buf()], &options).unwrap();
        let got = scanned.strings("errormessage");
        if options.filter.needs_error_code {
            assert_eq!(got, messages, "{projection}");
        } else {
            assert_eq!(got, full.strings("errormessage"), "{projection}");
        }
    }
}

#[test]
fn an_unpaired_surrogate_in_an_embedded_lookup_events_record_is_replaced_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut inner = record("embedded-1", Some("AccessDenied"));
    inner["errorMessage"] = json!("half @HIGH@");
    // The embedded record is itself JSON text in a string, so its escape is escaped once more.
    let embedded = splice_bytes(
        serde_json::to_string(&inner).unwrap().as_bytes(),
        "@HIGH@",
        br"\ud800",
    );
    let embedded = String::from_utf8(embedded).unwrap();
    let file =
        serde_json::to_vec(&json!({"Events": [{"EventId": "e", "CloudTrailEvent": embedded}]}))
            .unwrap();
    write(dir.path(), "lookup.json", &file);
    for (projection, options) in projections() {
        let scanned = scan_with(&[dir.path().to_path_buf()], &options).unwrap();
        assert_eq!(scanned.rows(), 1, "{projection}");
        assert_eq!(
            repaired(&scanned),
            [(
                "lookup.json".to_string(),
                TextRepairs {
                    invalid_utf8: 0,
                    lone_surrogates: 1
                }
            )],
            "{projection}"
        );
        if fills(&options, "errormessage") {
            assert_eq!(
                scanned.strings("errormessage"),
                [Some("half \u{FFFD}".to_string())]
            );
        }
    }
}

#[test]
fn a_clean_file_reports_no_repair_and_a_damaged_one_no_warning() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "clean.json",
        &records_file(&[record("clean", None)]),
    );
    // Invalid UTF-8 does not make a file readable that is not JSON: it stays damaged, and is
    // named as damaged only.
    write(
        dir.path(),
        "broken.json",
        b"{\"Records\": [{\"eventID\": \"\xff\",",
    );
    let scanned = scan(&[dir.path().to_path_buf()]);
    assert_eq!(scanned.rows(), 1);
    assert_eq!(repaired(&scanned), []);
    let outcomes: Vec<(String, &FileOutcome)> = scanned
        .report
        .files
        .iter()
        .map(|(path, outcome)| (name(path), outcome))
        .collect();
    assert!(
        matches!(outcomes[0], (ref n, FileOutcome::Damaged(_)) if n == "broken.json"),
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes[1],
        (
            "clean.json".to_string(),
            &FileOutcome::Read {
                records: 1,
                repaired: TextRepairs::NONE
            }
        )
    );
}
