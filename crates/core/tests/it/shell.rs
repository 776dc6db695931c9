//! `ctq shell` with statements piped in, `ctq queries`, `ctq query NAME` and `query -f -`.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use crate::support::*;

/// Runs `ctq args` from the repository root with `input` on standard input.
fn ctq_with_input(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ctq"))
        .args(args)
        .current_dir(repo())
        .env_remove("CTQ_SOURCE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ctq runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn piped_statements_run_in_order_views_and_dot_commands_included() {
    let output = ctq_with_input(
        &["shell", "--source", "sample-logs", "--format", "csv", "-q"],
        "SELECT count(*) AS n FROM cloudtrail;\n\
         SELECT eventname FROM cloudtrail\n  WHERE errorcode = 'AccessDenied' ORDER BY eventtime LIMIT 1;\n\
         CREATE VIEW denied AS SELECT * FROM cloudtrail WHERE errorcode IS NOT NULL;\n\
         .format json\n\
         SELECT count(*) AS errors FROM denied;\n",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "\"n\"\n65\n\"eventname\"\n\"LookupEvents\"\n[\n  {\"errors\":24}\n]\n"
    );
}

#[test]
fn a_failing_statement_stops_the_rest_and_is_named() {
    let output = ctq_with_input(
        &["shell", "--source", "sample-logs", "--format", "csv", "-q"],
        "SELECT 1 AS a;\nSELECT nope FROM cloudtrail;\nSELECT 2 AS b;\n",
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "\"a\"\n1\n");
    assert!(
        stderr(&output).contains("the statement on line 2 of standard input failed"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn writes_stay_refused_in_the_shell() {
    let output = ctq_with_input(
        &["shell", "--source", "sample-logs", "-q"],
        "DELETE FROM cloudtrail;\n",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("only queries can run here"));
}

/// Five queries decode the trail once: the timer line of each says how many files it decoded.
#[test]
fn the_trail_is_decoded_once_for_all_queries() {
    let queries = ".timer on\n\
        SELECT count(*) FROM cloudtrail;\n\
        SELECT eventname, count(*) FROM cloudtrail GROUP BY 1;\n\
        SELECT count(*) FROM cloudtrail WHERE errorcode IS NOT NULL;\n\
        SELECT max(eventtime) FROM cloudtrail_logs;\n\
        SELECT count(DISTINCT useridentity.arn) FROM cloudtrail;\n";
    let decoded = |output: &Output| -> Vec<String> {
        stderr(output)
            .lines()
            .filter(|l| l.starts_with("Run time:"))
            .map(|l| l.rsplit(", ").next().unwrap().to_string())
            .collect()
    };
    let cached = ctq_with_input(&["shell", "--source", "sample-logs"], queries);
    assert_eq!(cached.status.code(), Some(0), "{}", stderr(&cached));
    assert!(
        stderr(&cached).contains("65 records of 35 files held in memory"),
        "{}",
        stderr(&cached)
    );
    assert_eq!(decoded(&cached), vec!["0 files decoded"; 5]);
    // Without the memory, each query decodes the trail again.
    let live = ctq_with_input(
        &["shell", "--source", "sample-logs", "--memory-limit", "0"],
        queries,
    );
    assert_eq!(live.status.code(), Some(0), "{}", stderr(&live));
    assert_eq!(decoded(&live), vec!["35 files decoded"; 5]);
}

#[test]
fn query_reads_the_sql_from_standard_input_with_dash() {
    let output = ctq_with_input(
        &[
            "query",
            "-f",
            "-",
            "--source",
            "sample-logs",
            "--format",
            "csv",
            "-q",
        ],
        "SELECT count(*) AS n FROM cloudtrail WHERE errorcode IS NOT NULL",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "\"n\"\n24\n");
}

#[test]
fn queries_lists_the_bundled_saved_queries_with_their_parameters() {
    let output = ctq(&["queries"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    for query in ctq_sql::saved::bundled() {
        assert!(text.contains(&format!("{}  (", query.name)), "{text}");
        assert!(text.contains(&query.title()), "{text}");
    }
    assert!(text.contains("access-denied  ($arn, $from, $to)"), "{text}");
}

#[test]
fn a_saved_query_runs_by_name_as_its_file_does() {
    let by_name: Vec<&str> = ["query", "access-denied"]
        .into_iter()
        .chain(ARTICLE_PARAMS)
        .chain(["--source", "sample-logs", "--format", "csv"])
        .collect();
    let by_file: Vec<&str> = ["query", "-f", "queries/access-denied.sql"]
        .into_iter()
        .chain(ARTICLE_PARAMS)
        .chain(["--source", "sample-logs", "--format", "csv"])
        .collect();
    let (by_name, by_file) = (ctq(&by_name), ctq(&by_file));
    assert_eq!(by_name.status.code(), Some(0), "{}", stderr(&by_name));
    assert_eq!(stdout(&by_name), stdout(&by_file));
    assert_eq!(stdout(&by_name).lines().count(), 3, "{}", stdout(&by_name));
}

/// Not asserted: how a five-query shell compares with two single runs over a generated day.
#[test]
fn shell_and_single_queries_timed_over_a_generated_day() {
    let dir = tempfile::tempdir().unwrap();
    let totals = ctq_trailgen::generate(&ctq_trailgen::Settings {
        out: dir.path().to_path_buf(),
        days: 1,
        accounts: 1,
        regions: 2,
        files_per_hour: 12,
        mean_records: 135.0,
        ..ctq_trailgen::Settings::default()
    })
    .unwrap();
    let source = dir.path().to_str().unwrap();
    let query = "SELECT eventname, count(*) FROM cloudtrail GROUP BY 1";
    let started = Instant::now();
    let shell = ctq_with_input(
        &["shell", "--source", source, "-q", "--format", "csv"],
        &format!("{query};\n").repeat(5),
    );
    let shell_time = started.elapsed();
    assert_eq!(shell.status.code(), Some(0), "{}", stderr(&shell));
    let started = Instant::now();
    for _ in 0..2 {
        let single = ctq(&["query", query, "--source", source, "-q", "--format", "csv"]);
        assert_eq!(single.status.code(), Some(0), "{}", stderr(&single));
    }
    println!(
        "{} records in {} files: shell with 5 queries {:.2} s, 2 single queries {:.2} s",
        totals.records,
        totals.files,
        shell_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
