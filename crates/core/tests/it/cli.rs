//! Commands, formats, exit statuses and the messages users see when something is wrong.

use crate::support::*;

const USER: &str = "arn:aws:iam::123456789012:user/username";

#[test]
fn the_readme_command_prints_the_articles_two_rows() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let command: String = readme
        .lines()
        .skip_while(|l| !l.starts_with("cargo run"))
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.trim_end_matches('\\').trim())
        .collect::<Vec<_>>()
        .join(" ");
    let args: Vec<&str> = command
        .split_whitespace()
        .skip_while(|w| *w != "--")
        .skip(1)
        .collect();
    assert!(args.contains(&"queries/access-denied.sql"), "{command}");
    let output = ctq(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| 2019")).collect();
    assert_eq!(rows.len(), 2, "{}", stdout(&output));
    assert!(
        rows[0].contains("| 2019-10-29 06:52:45.000 UTC |")
            && rows[0].contains("with an explicit deny")
    );
    assert!(
        rows[1].contains("| 2019-10-29 06:41:48.000 UTC |")
            && rows[1].contains("14e5e77c-f682-45e1-8c88-12d15af293dd")
    );
}

#[test]
fn denials_in_csv_quote_like_jq() {
    let output = ctq(&[
        "denials",
        "--source",
        "sample-logs",
        "--arn",
        USER,
        "--from",
        "2019-10-29T06:40:00Z",
        "--to",
        "2019-10-29T06:55:00Z",
        "--format",
        "csv",
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    insta::assert_snapshot!(stdout(&output));
    assert_eq!(stderr(&output), "", "--quiet prints no summary");
}

#[test]
fn denials_as_json_and_ndjson() {
    let base = [
        "denials",
        "--source",
        "sample-logs",
        "--arn",
        USER,
        "--from",
        "2019-10-29T06:40:00Z",
        "--to",
        "2019-10-29T06:55:00Z",
        "-q",
    ];
    let json = ctq(&[&base[..], &["--format", "json"]].concat());
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(rows[0]["Time"], "2019-10-29T06:52:45.000Z");
    assert_eq!(rows[1]["Event ID"], "14e5e77c-f682-45e1-8c88-12d15af293dd");
    let ndjson = ctq(&[&base[..], &["--format", "ndjson"]].concat());
    let lines: Vec<serde_json::Value> = stdout(&ndjson)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, rows.as_array().unwrap().clone());
}

#[test]
fn denials_without_an_arn_show_every_principal_and_output_goes_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("denials.csv");
    let output = ctq(&[
        "denials",
        "--source",
        "sample-logs",
        "--from",
        "2019-10-29T06:40:00Z",
        "--to",
        "2019-10-29T06:55:00Z",
        "--format",
        "csv",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "");
    let text = std::fs::read_to_string(&out).unwrap();
    let principals: std::collections::BTreeSet<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert!(principals.len() > 3, "{text}");
}

#[test]
fn a_damaged_file_is_named_skipped_and_signalled_by_exit_status_3() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(repo().join("sample-logs/AWSLogs/123456789012/CloudTrail/us-east-1/2019/10/29/123456789012_CloudTrail_us-east-1_20191029T0701Z_N6wgP9VVwkfZxkdf.json.gz")).unwrap();
    write(dir.path(), "good.json.gz", &good);
    write(dir.path(), "broken.json.gz", &good[..good.len() / 2]);
    let source = dir.path().to_str().unwrap();
    let output = ctq(&[
        "query",
        "SELECT count(*) AS n FROM cloudtrail",
        "--source",
        source,
        "--format",
        "csv",
    ]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stdout(&output)
            .lines()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    let err = stderr(&output);
    assert!(
        err.contains("broken.json.gz") && err.contains("gzip stream is truncated"),
        "{err}"
    );

    let strict = ctq(&[
        "query",
        "SELECT count(*) FROM cloudtrail",
        "--source",
        source,
        "--strict",
    ]);
    assert_eq!(strict.status.code(), Some(1));
    let err = stderr(&strict);
    assert!(
        err.contains("broken.json.gz") && err.contains("--strict"),
        "{err}"
    );
    assert_eq!(stdout(&strict), "", "no partial result under --strict");
}

#[test]
fn errors_say_what_to_do_next() {
    let missing = ctq(&[
        "query",
        "-f",
        "queries/access-denied.sql",
        "--source",
        "sample-logs",
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("--param"), "{}", stderr(&missing));

    let no_source = ctq(&["query", "SELECT 1", "--source", "no/such/folder"]);
    assert_eq!(no_source.status.code(), Some(1));
    assert!(
        stderr(&no_source).contains("no/such/folder"),
        "{}",
        stderr(&no_source)
    );

    let bad_time = ctq(&[
        "denials",
        "--source",
        "sample-logs",
        "--from",
        "last tuesday",
    ]);
    assert_eq!(bad_time.status.code(), Some(2), "a usage error");
    assert!(stderr(&bad_time).contains("24h"), "{}", stderr(&bad_time));

    let bad_sql = ctq(&[
        "query",
        "SELECT nosuchcolumn FROM cloudtrail",
        "--source",
        "sample-logs",
    ]);
    assert_eq!(bad_sql.status.code(), Some(1));
    assert!(
        stderr(&bad_sql).contains("nosuchcolumn"),
        "{}",
        stderr(&bad_sql)
    );

    let usage = ctq(&["query"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn extra_table_names_let_pasted_queries_run() {
    let output = ctq(&[
        "query",
        "SELECT count(*) AS n FROM my_trail_table",
        "--source",
        "sample-logs",
        "--table",
        "my_trail_table",
        "--format",
        "csv",
        "-q",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let via_default = ctq(&[
        "query",
        "SELECT count(*) AS n FROM cloudtrail_logs",
        "--source",
        "sample-logs",
        "--format",
        "csv",
        "-q",
    ]);
    assert_eq!(stdout(&output), stdout(&via_default));
}

#[test]
fn schema_lists_athena_columns_and_types() {
    let output = ctq(&["schema", "--format", "csv"]);
    assert_eq!(output.status.code(), Some(0));
    insta::assert_snapshot!(stdout(&output));
}

#[test]
fn an_inline_query_may_start_with_a_comment() {
    let output = ctq(&[
        "query",
        "-- how many records\nSELECT count(*) AS n FROM cloudtrail",
        "--source",
        "sample-logs",
        "--format",
        "csv",
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(text.lines().next(), Some("\"n\""), "{text}");
    assert!(
        text.lines().nth(1).unwrap().parse::<u64>().unwrap() > 50,
        "{text}"
    );
}

#[test]
fn an_unknown_table_is_named_once_with_the_flag_that_maps_it() {
    let output = ctq(&[
        "query",
        "SELECT * FROM s3_cloudtrail_events_db.cloudtrail_myawsexamplebucket1_table LIMIT 2",
        "--source",
        "sample-logs",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let error = stderr(&output);
    assert_eq!(
        error.matches("there is no table").count(),
        1,
        "said once: {error}"
    );
    assert!(
        error.contains("--table s3_cloudtrail_events_db.cloudtrail_myawsexamplebucket1_table"),
        "{error}"
    );
    let mapped = ctq(&[
        "query",
        "SELECT eventname FROM s3_cloudtrail_events_db.cloudtrail_myawsexamplebucket1_table LIMIT 2",
        "--source",
        "sample-logs",
        "--table",
        "s3_cloudtrail_events_db.cloudtrail_myawsexamplebucket1_table",
        "--format",
        "csv",
        "--quiet",
    ]);
    assert_eq!(mapped.status.code(), Some(0), "{}", stderr(&mapped));
    assert_eq!(stdout(&mapped).lines().count(), 3, "{}", stdout(&mapped));
}

#[test]
fn a_planning_error_is_said_once() {
    let output = ctq(&[
        "query",
        "SELECT no_such_column FROM cloudtrail",
        "--source",
        "sample-logs",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let error = stderr(&output);
    assert_eq!(error.matches("no_such_column").count(), 1, "{error}");
}

#[test]
fn a_lake_query_runs_with_its_event_data_store_id() {
    let output = ctq(&[
        "query",
        "SELECT eventName, eventTime FROM \"a1b2c3d4-5678-90ab-cdef-EXAMPLE11111\" \
         WHERE eventTime > '2019-10-29 06:40:00' AND eventTime < '2019-10-29 06:55:00' \
         AND readOnly = true ORDER BY eventTime LIMIT 1",
        "--source",
        "sample-logs",
        "--lake-table",
        "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
        "--format",
        "csv",
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let row = text.lines().nth(1).unwrap_or_default();
    assert!(
        row.contains("2019-10-29 06:4"),
        "a timestamp, printed as Athena prints one: {text}"
    );
}

#[cfg(unix)]
#[test]
fn a_dangling_symlink_or_a_loop_is_named_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("trail");
    ctq_testkit::copy_tree(&repo().join("sample-logs"), &trail, |_| false);
    std::os::unix::fs::symlink(dir.path().join("gone"), trail.join("notes.txt")).unwrap();
    std::os::unix::fs::symlink(&trail, trail.join("AWSLogs").join("loop")).unwrap();
    let all = ctq(&[
        "query",
        "SELECT count(*) AS n FROM cloudtrail",
        "--source",
        "sample-logs",
        "--format",
        "csv",
        "--quiet",
    ]);
    let trail_arg = trail.to_string_lossy().into_owned();
    let output = ctq(&[
        "query",
        "SELECT count(*) AS n FROM cloudtrail",
        "--source",
        &trail_arg,
        "--format",
        "csv",
    ]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        stdout(&all),
        "every record of the good files still counts"
    );
    let error = stderr(&output);
    assert!(
        error.contains("notes.txt") && error.contains("loop"),
        "{error}"
    );
    let strict = ctq(&[
        "query",
        "SELECT count(*) AS n FROM cloudtrail",
        "--source",
        &trail_arg,
        "--strict",
    ]);
    assert_eq!(strict.status.code(), Some(1), "{}", stderr(&strict));
}
