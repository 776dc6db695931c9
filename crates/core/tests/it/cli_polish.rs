//! The edges of the command line: a reader that stops early, errors said once with the useful
//! part first, shell completions, the manual page, the version, and flags that must not be
//! ignored or misread.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::support::*;

/// Runs `ctq` as [`ctq`] does, with `TZ` set: a time read in the local zone would move.
fn ctq_in_zone(args: &[&str], zone: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ctq"))
        .args(args)
        .current_dir(repo())
        .env_remove("CTQ_SOURCE")
        .env("TZ", zone)
        .output()
        .expect("ctq runs")
}

#[test]
fn a_reader_that_stops_early_ends_the_run_quietly() {
    // Megabytes of CSV: far more than a pipe holds, so ctq is still writing when the pipe closes.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ctq"))
        .args([
            "query",
            "SELECT a.* FROM cloudtrail a CROSS JOIN cloudtrail b",
            "--source",
            "sample-logs",
            "--format",
            "csv",
        ])
        .current_dir(repo())
        .env_remove("CTQ_SOURCE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ctq runs");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("eventversion"), "{first}");
    // The reader is dropped here, closing the pipe, as `head -1` does.
    let output = child.wait_with_output().unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert_eq!(err, "");
}

#[test]
fn a_mistyped_column_names_the_closest_once_without_the_list() {
    let output = ctq(&[
        "query",
        "SELECT eventnme FROM cloudtrail",
        "--source",
        "sample-logs",
    ]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("no column `eventnme`"), "{err}");
    assert_eq!(err.matches("did you mean `eventname`?").count(), 1, "{err}");
    // The list of valid fields is for when nothing is close.
    assert!(!err.contains("useridentity"), "{err}");
}

#[test]
fn a_column_close_to_none_lists_the_columns_once() {
    let output = ctq(&["query", "SELECT xyzzy FROM cloudtrail", "-s", "sample-logs"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(!err.contains("did you mean"), "{err}");
    assert_eq!(err.matches("useridentity").count(), 1, "{err}");
}

#[test]
fn a_missing_table_is_said_once_with_the_tables_there_are() {
    let output = ctq(&[
        "query",
        "SELECT * FROM flow_logs",
        "--source",
        "sample-logs",
        "--table",
        "audit.trail",
    ]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert_eq!(
        err.matches("there is no table flow_logs").count(),
        1,
        "{err}"
    );
    assert!(
        err.contains("the tables are audit.trail, cloudtrail, cloudtrail_logs"),
        "{err}"
    );
    assert_eq!(err.matches("cloudtrail_logs").count(), 1, "{err}");
}

#[test]
fn an_output_error_gives_the_operating_systems_reason_once() {
    let dir = tempfile::tempdir().unwrap();
    // A file where a folder should be: refused by the system whoever runs the test.
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    let under = |name: &str| file.join(name).to_str().unwrap().to_string();
    let runs = [
        ctq(&[
            "report",
            "-s",
            "sample-logs",
            "--since",
            "1d",
            "--out",
            &under("report"),
        ]),
        ctq(&["ingest", "-s", "sample-logs", "--store", &under("store")]),
        ctq(&[
            "query",
            "SELECT 1",
            "-s",
            "sample-logs",
            "-o",
            &under("out.csv"),
        ]),
    ];
    for run in runs {
        let err = stderr(&run);
        assert_eq!(run.status.code(), Some(1), "{err}");
        assert_eq!(err.matches("(os error").count(), 1, "{err}");
        assert_eq!(err.matches("ctq: error:").count(), 1, "{err}");
    }
}

#[test]
fn completions_are_printed_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F _ctq"),
        ("zsh", "#compdef ctq"),
        ("fish", "complete -c ctq"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let output = ctq(&["completions", shell]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let script = stdout(&output);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("denials"), "{shell}");
    }
    let unknown = ctq(&["completions", "tcsh"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
}

#[test]
fn the_manual_page_is_roff_with_every_subcommands_options() {
    let output = ctq(&["man"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let page = stdout(&output);
    assert!(page.contains(".TH ctq 1"), "{page}");
    for section in [".SH NAME", ".SH \"CTQ DENIALS\"", ".SH \"CTQ REPORT\""] {
        assert!(page.contains(section), "{section} missing");
    }
    assert!(
        page.contains("fail\\-on"),
        "report's options are in the page"
    );
}

#[test]
fn the_version_names_the_commit_and_the_build_date() {
    let output = ctq(&["--version"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let version = stdout(&output);
    let expected = format!("ctq {} (", env!("CARGO_PKG_VERSION"));
    assert!(version.starts_with(&expected), "{version}");
    let inside = version
        .trim_end()
        .strip_prefix(&expected)
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{version}"));
    let date = inside.rsplit(' ').next().unwrap();
    assert!(
        chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok(),
        "{version}"
    );
    // The commit, where the build could ask git for it.
    let head = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(repo())
        .output();
    if let Ok(head) = head
        && head.status.success()
    {
        let hash = String::from_utf8(head.stdout).unwrap();
        assert!(
            inside.starts_with(&format!("{} ", hash.trim())),
            "{version}"
        );
    }
}

#[test]
fn cluster_with_a_source_is_refused_not_ignored() {
    let output = ctq(&[
        "query",
        "SELECT 1",
        "--cluster",
        "df://127.0.0.1:20150",
        "--source",
        "sample-logs",
    ]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--cluster") && err.contains("cannot be used with '--source"),
        "{err}"
    );
}

#[test]
fn a_cluster_address_without_its_scheme_says_how_to_write_it() {
    let output = ctq(&[
        "query",
        "SELECT 1",
        "--store",
        "store",
        "--cluster",
        "127.0.0.1:20150",
    ]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.contains("df://HOST:PORT") && err.contains("df://127.0.0.1:20150"),
        "{err}"
    );
}

#[test]
fn a_time_without_a_zone_is_utc_wherever_ctq_runs() {
    let window = |from: &str, to: &str, zone: &str| {
        let output = ctq_in_zone(
            &[
                "denials",
                "-s",
                "sample-logs",
                "--from",
                from,
                "--to",
                to,
                "--format",
                "csv",
                "-q",
            ],
            zone,
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        stdout(&output)
    };
    let with_zone = window("2019-10-29T06:40:00Z", "2019-10-29T06:55:00Z", "UTC");
    // Denials in the window: read in New York's zone, the same text would find none.
    assert!(with_zone.lines().count() > 1, "{with_zone}");
    let zoneless = window(
        "2019-10-29T06:40:00",
        "2019-10-29T06:55",
        "America/New_York",
    );
    assert_eq!(zoneless, with_zone);
    let help = stdout(&ctq(&["denials", "--help"]));
    // Help is wrapped to the width: compare words, not lines.
    let words = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("a time without a zone is UTC"), "{help}");
}
