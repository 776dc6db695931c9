//! What results look like where they go: on a terminal, tables fit its width and long results
//! stop at a row limit; in a pipe, output is laid out whole; an `-o` file gets the format its
//! extension names.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::*;

/// Runs `ctq args` with standard output and error on a pseudo-terminal `columns` wide (through
/// util-linux's `script`); what the terminal showed, without carriage returns or line erasures.
/// `None` when no pseudo-terminal can be made here.
fn ctq_on_terminal(columns: usize, args: &[&str]) -> Option<String> {
    let mut command_line = shell_quote(env!("CARGO_BIN_EXE_ctq"));
    for arg in args {
        command_line.push(' ');
        command_line.push_str(&shell_quote(arg));
    }
    let output = Command::new("script")
        .args(["-qec", &command_line, "/dev/null"])
        .current_dir(repo())
        .env("SHELL", "/bin/sh")
        .env("COLUMNS", columns.to_string())
        .env_remove("CTQ_SOURCE")
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).unwrap();
    Some(text.replace("\r\x1b[2K", "").replace('\r', ""))
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Whether `script` gives its command a terminal here; says why a test skips when not.
fn terminal_available() -> bool {
    let output = Command::new("script")
        .args(["-qec", "test -t 1 && echo on-a-terminal", "/dev/null"])
        .env("SHELL", "/bin/sh")
        .output();
    match output {
        Ok(output) if String::from_utf8_lossy(&output.stdout).contains("on-a-terminal") => true,
        Ok(_) => {
            skip("`script` runs, but gives no pseudo-terminal here");
            false
        }
        Err(e) => {
            skip(&format!(
                "no pseudo-terminal: `script` (util-linux) cannot run: {e}"
            ));
            false
        }
    }
}

fn assert_fits(text: &str, columns: usize) {
    for line in text.lines() {
        assert!(
            line.chars().count() <= columns,
            "a line wider than {columns}: {line:?}\n{text}"
        );
    }
}

#[test]
fn the_schema_fits_an_80_column_terminal_and_cuts_long_types() {
    if !terminal_available() {
        return;
    }
    let piped = stdout(&ctq(&["schema"]));
    assert!(
        piped.lines().any(|l| l.chars().count() > 80),
        "the schema is wider than 80 columns when piped: {piped}"
    );
    let shown = ctq_on_terminal(80, &["schema"]).unwrap();
    assert_fits(&shown, 80);
    assert!(shown.contains('…'), "{shown}");
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("| useridentity ") && l.contains("| struct<")),
        "{shown}"
    );
    // Every column is still listed.
    assert_eq!(
        shown.lines().filter(|l| l.starts_with("| ")).count(),
        piped.lines().filter(|l| l.starts_with("| ")).count()
    );
}

#[test]
fn denials_fit_a_100_column_terminal() {
    if !terminal_available() {
        return;
    }
    let shown = ctq_on_terminal(100, &["denials", "-s", "sample-logs", "--quiet"]).unwrap();
    assert_fits(&shown, 100);
    assert!(shown.contains("| AccessDeni"), "{shown}");
    let piped = stdout(&ctq(&["denials", "-s", "sample-logs", "--quiet"]));
    assert!(
        piped.lines().any(|l| l.chars().count() > 100),
        "denials are wider than 100 columns when piped: {piped}"
    );
}

#[test]
fn a_select_too_wide_for_the_terminal_prints_each_row_as_a_block() {
    if !terminal_available() {
        return;
    }
    let sql = "SELECT eventid, eventname, eventsource, useragent, sourceipaddress, awsregion, \
               errorcode, errormessage, recipientaccountid, requestid, eventtype, eventtime \
               FROM cloudtrail ORDER BY eventid LIMIT 2";
    let shown = ctq_on_terminal(80, &["query", sql, "-s", "sample-logs", "--quiet"]).unwrap();
    assert_fits(&shown, 80);
    let lines: Vec<&str> = shown.lines().collect();
    assert!(lines[0].starts_with("-[ RECORD 1 ]"), "{shown}");
    assert!(
        lines.iter().any(|l| l.starts_with("-[ RECORD 2 ]")),
        "{shown}"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("eventname ") && l.contains(" | "))
            .count(),
        2,
        "{shown}"
    );
}

#[test]
fn a_long_result_on_a_terminal_stops_at_100_rows_and_says_how_to_see_all() {
    if !terminal_available() {
        return;
    }
    // The sample trail's records paired with each other: thousands of rows.
    let total = row_count("SELECT count(*) FROM cloudtrail a, cloudtrail b");
    assert!(total > 100, "{total} rows");
    let sql = "SELECT a.eventid FROM cloudtrail a, cloudtrail b";
    let rows = |text: &str| text.lines().filter(|l| l.starts_with("| ")).count() - 1;

    let shown = ctq_on_terminal(80, &["query", sql, "-s", "sample-logs", "--quiet"]).unwrap();
    assert_eq!(rows(&shown), 100, "{shown}");
    let notice = format!(
        "ctq: {} more rows not shown (100 printed); see them all with --max-rows 0, --format csv or -o FILE",
        total - 100
    );
    assert!(shown.lines().any(|l| l == notice), "{shown}");

    let all = ctq_on_terminal(
        80,
        &[
            "query",
            sql,
            "-s",
            "sample-logs",
            "--quiet",
            "--max-rows",
            "0",
        ],
    )
    .unwrap();
    assert_eq!(rows(&all), total, "{all}");
    assert!(!all.contains("not shown"), "{all}");

    let five = ctq_on_terminal(
        80,
        &[
            "query",
            sql,
            "-s",
            "sample-logs",
            "--quiet",
            "--max-rows",
            "5",
        ],
    )
    .unwrap();
    assert_eq!(rows(&five), 5, "{five}");

    // A query that says how many rows it wants gets them all.
    let limited = format!("{sql} LIMIT 150");
    let asked = ctq_on_terminal(80, &["query", &limited, "-s", "sample-logs", "--quiet"]).unwrap();
    assert_eq!(rows(&asked), 150, "{asked}");
    assert!(!asked.contains("not shown"), "{asked}");
}

#[test]
fn a_piped_table_is_whole_however_long_and_wide() {
    let total = row_count("SELECT count(*) FROM cloudtrail a, cloudtrail b");
    assert!(total > 100, "{total} rows");
    let output = ctq(&[
        "query",
        "SELECT a.eventid, a.useragent FROM cloudtrail a, cloudtrail b",
        "-s",
        "sample-logs",
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("| ")).count() - 1,
        total
    );
    assert!(!text.contains('…'), "{text}");
    assert_eq!(stderr(&output), "");
    // Every line as long as the widest cell makes it, as comfy-table lays it out.
    let widths: std::collections::BTreeSet<usize> =
        text.lines().map(|l| l.chars().count()).collect();
    assert_eq!(widths.len(), 1, "{text}");
}

fn row_count(sql: &str) -> usize {
    let output = ctq(&["query", sql, "-s", "sample-logs", "-q", "--format", "csv"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stdout(&output).lines().nth(1).unwrap().parse().unwrap()
}

fn query_to(file: &Path, sql: &str, extra: &[&str]) -> Output {
    let args = [
        &[
            "query",
            sql,
            "-s",
            "sample-logs",
            "-q",
            "-o",
            file.to_str().unwrap(),
        ][..],
        extra,
    ]
    .concat();
    ctq(&args)
}

#[test]
fn an_output_file_named_csv_gets_csv_without_format() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alice.csv");
    let output = query_to(
        &file,
        "SELECT eventname, eventid FROM cloudtrail ORDER BY eventid LIMIT 3",
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "\"eventname\",\"eventid\"", "{text}");
    assert_eq!(lines.len(), 4, "{text}");

    // An explicit --format wins over the extension.
    let table = dir.path().join("table.csv");
    let output = query_to(
        &table,
        "SELECT eventid FROM cloudtrail LIMIT 1",
        &["--format", "table"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        std::fs::read_to_string(&table)
            .unwrap()
            .starts_with("+----")
    );
}

#[test]
fn an_output_file_named_json_gets_a_json_array_in_the_selects_column_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rows.json");
    let output = query_to(
        &file,
        "SELECT eventname, awsregion, eventid, useridentity FROM cloudtrail ORDER BY eventid LIMIT 2",
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = std::fs::read_to_string(&file).unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(rows.len(), 2);
    // serde_json's map sorts keys when parsing: read their order from the text of the first
    // object, whose line holds the whole object.
    let first = text.lines().nth(1).unwrap();
    let at = |key: &str| {
        first
            .find(&format!("\"{key}\":"))
            .unwrap_or_else(|| panic!("no key {key}: {first}"))
    };
    let columns = ["eventname", "awsregion", "eventid", "useridentity"];
    let positions: Vec<usize> = columns.iter().map(|c| at(c)).collect();
    assert!(positions.is_sorted(), "{first}");
    assert_eq!(rows[0].as_object().unwrap().len(), columns.len());
    // A struct's fields keep their order too: type before principalid before arn.
    assert!(
        at("type") < at("principalid") && at("principalid") < at("arn"),
        "{first}"
    );
    let lines = dir.path().join("rows.jsonl");
    let output = query_to(&lines, "SELECT eventid FROM cloudtrail LIMIT 2", &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = std::fs::read_to_string(&lines).unwrap();
    for line in text.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(row["eventid"].is_string(), "{text}");
    }
}

#[test]
fn an_output_file_named_parquet_holds_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rows.parquet");
    let sql = "SELECT eventid, eventtime, sourceipaddress, useridentity FROM cloudtrail";
    let output = query_to(&file, sql, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&file).unwrap(),
    )
    .unwrap();
    let names: Vec<String> = reader
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        ["eventid", "eventtime", "sourceipaddress", "useridentity"]
    );
    let rows: usize = reader
        .build()
        .unwrap()
        .map(|batch| batch.unwrap().num_rows())
        .sum();
    assert_eq!(rows, row_count("SELECT count(*) FROM cloudtrail"));
}

#[test]
fn parquet_without_an_output_file_is_a_usage_error() {
    let output = ctq(&[
        "query",
        "SELECT eventid FROM cloudtrail",
        "-s",
        "sample-logs",
        "--format",
        "parquet",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--output <FILE>"),
        "{}",
        stderr(&output)
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn an_output_file_of_a_data_format_ctq_does_not_write_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rows.xlsx");
    let output = query_to(&file, "SELECT eventid FROM cloudtrail", &[]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("ctq does not write .xlsx files"),
        "{}",
        stderr(&output)
    );
    assert!(!file.exists());
}

#[test]
fn a_struct_cell_in_csv_is_json_text() {
    let output = ctq(&[
        "query",
        "SELECT eventid, useridentity FROM cloudtrail WHERE useridentity.type = 'AssumedRole' LIMIT 1",
        "-s",
        "sample-logs",
        "-q",
        "--format",
        "csv",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let row = text.lines().nth(1).unwrap();
    let (_, cell) = row.split_once("\",").unwrap();
    let json = cell
        .strip_prefix('"')
        .and_then(|c| c.strip_suffix('"'))
        .unwrap()
        .replace("\"\"", "\"");
    let identity: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(identity["type"], "AssumedRole", "{text}");
    assert!(identity["sessioncontext"].is_object(), "{text}");
}
