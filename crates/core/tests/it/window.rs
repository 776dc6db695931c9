//! Times on the command line: an age no trail can hold is a usage error naming the value.

use crate::support::*;

#[test]
fn an_age_reaching_before_year_zero_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let out = out.to_str().unwrap();
    let runs = [
        (
            "--since",
            ctq(&[
                "report",
                "--since",
                "1000000w",
                "--source",
                "sample-logs",
                "--out",
                out,
            ]),
        ),
        (
            "--from",
            ctq(&[
                "report",
                "--from",
                "1000000w",
                "--source",
                "sample-logs",
                "--out",
                out,
            ]),
        ),
        (
            "--from",
            ctq(&["denials", "--from", "1000000w", "--source", "sample-logs"]),
        ),
        (
            "--from",
            ctq(&["explain", "--from", "1000000w", "--source", "sample-logs"]),
        ),
        (
            "--to",
            ctq(&[
                "explain",
                "--to",
                "99999999999999999999d",
                "--source",
                "sample-logs",
            ]),
        ),
    ];
    for (flag, run) in runs {
        let err = stderr(&run);
        assert_eq!(run.status.code(), Some(2), "{err}");
        assert!(
            err.starts_with(&format!("ctq: error: {flag}: invalid time ")),
            "{err}"
        );
        assert!(err.contains("before the year 0000"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(stdout(&run).is_empty());
    }
    assert!(
        stderr(&ctq(&[
            "denials",
            "--from",
            "1000000w",
            "-s",
            "sample-logs"
        ]))
        .contains("\"1000000w\"")
    );
    assert!(!dir.path().join("r").exists());
}

#[test]
fn an_unreadable_time_is_a_usage_error() {
    let run = ctq(&[
        "report",
        "--since",
        "a while",
        "--source",
        "sample-logs",
        "--out",
        "/nonexistent/r",
    ]);
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("--since: invalid time \"a while\""),
        "{}",
        stderr(&run)
    );
}

#[test]
fn an_age_back_to_the_first_years_still_reads_the_trail() {
    // 2000 years back is a time like any other: the window holds the whole sample trail.
    let run = ctq(&[
        "denials",
        "-q",
        "--format",
        "csv",
        "--from",
        "104000w",
        "-s",
        "sample-logs",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert!(stdout(&run).lines().count() > 10, "{}", stdout(&run));
}

#[test]
fn an_empty_window_says_what_the_sources_hold() {
    for command in ["denials", "explain"] {
        let output = ctq(&[command, "--from", "2024-01-01", "--source", "sample-logs"]);
        assert_eq!(output.status.code(), Some(0), "{command}");
        let err = stderr(&output);
        assert!(
            err.contains(
                "no records from 2024-01-01T00:00:00.000Z on; the sources hold files delivered between 2019-10-28T"
            ),
            "{command}: {err}"
        );
        assert!(err.contains("and 2019-10-30T"), "{command}: {err}");
    }
}

#[test]
fn since_is_a_window_of_every_command_and_excludes_from() {
    let output = ctq(&["denials", "--since", "1d", "--source", "sample-logs"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stderr(&output).contains("no records from "));
    let output = ctq(&[
        "explain",
        "--since",
        "1d",
        "--from",
        "2019-10-29T00:00:00Z",
        "--source",
        "sample-logs",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--since"));
}

#[test]
fn info_says_what_the_sources_hold() {
    let output = ctq(&["info", "--source", "sample-logs"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let records = ctq_testkit::sample_records().len();
    for line in [
        "delivered: 2019-10-28T23:13:00.000Z to 2019-10-30T01:12:00.000Z".to_string(),
        "files:     35 read, 2 skipped (not events), 0 damaged".to_string(),
        format!("records:   {records}"),
        "accounts:  2".to_string(),
        "regions:   3".to_string(),
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
    }
}
