//! `ctq report`: every number in the page, the CSVs and summary.json is the one the SQL gives;
//! the page renders in a real browser; exit statuses for cron; the folder is replaced whole.

use std::path::Path;
use std::process::Output;

use crate::support::*;

const FROM: &str = "2019-10-28T00:00:00Z";
const TO: &str = "2019-10-31T00:00:00Z";
const DENIAL_FILTER: &str = "errorcode IS NOT NULL AND (lower(errorcode) LIKE '%accessdenied%' OR lower(errorcode) LIKE '%unauthorized%') \
     AND from_iso8601_timestamp(eventtime) >= from_iso8601_timestamp($from) AND from_iso8601_timestamp(eventtime) < from_iso8601_timestamp($to)";

fn report(out: &Path, source: &str, extra: &[&str]) -> Output {
    let out = out.to_str().unwrap();
    ctq(&[
        &[
            "report", "-s", source, "--from", FROM, "--to", TO, "--out", out,
        ][..],
        extra,
    ]
    .concat())
}

/// CSV of `sql` over the sample trail in the report's window.
fn sql_csv(sql: &[&str]) -> String {
    let window = ["-p", &format!("from={FROM}"), "-p", &format!("to={TO}")].map(String::from);
    let window: Vec<&str> = window.iter().map(String::as_str).collect();
    let output = ctq(&[
        &["query", "-q", "--format", "csv", "-s", "sample-logs"][..],
        sql,
        &window,
    ]
    .concat());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stdout(&output)
}

fn single_number(csv: &str) -> u64 {
    csv.lines().nth(1).unwrap().trim().parse().unwrap()
}

fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[test]
fn every_number_in_the_report_is_the_one_the_sql_gives() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nightly");
    let run = report(
        &out,
        "sample-logs",
        &["--fail-on", "explicit-deny", "--fail-on", "principal>100"],
    );
    // Explicit denies are in the sample: the run needs a human.
    assert_eq!(run.status.code(), Some(4), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("--fail-on explicit-deny crossed"),
        "{}",
        stderr(&run)
    );

    let denials = single_number(&sql_csv(&[&format!(
        "SELECT count(*) FROM cloudtrail WHERE {DENIAL_FILTER}"
    )]));
    let explicit = single_number(&sql_csv(&[&format!(
        "SELECT count(*) FROM cloudtrail WHERE {DENIAL_FILTER} AND denial_decision(errormessage) = 'explicit'"
    )]));
    assert!(denials > 10 && explicit > 0);
    let summary = summary(&out);
    assert_eq!(summary["denials"], denials);
    assert_eq!(summary["explicit_denials"], explicit);
    assert_eq!(summary["window"]["from"], "2019-10-28T00:00:00.000Z");
    assert_eq!(summary["window"]["to"], "2019-10-31T00:00:00.000Z");
    assert_eq!(summary["needs_attention"], true);
    assert_eq!(summary["fail_on"][0]["crossed"], true);
    assert_eq!(summary["fail_on"][1]["crossed"], false);
    let files_read = summary["files"]["read"].as_u64().unwrap();
    let in_window = "SELECT count(*) FROM cloudtrail \
         WHERE from_iso8601_timestamp(eventtime) >= from_iso8601_timestamp($from) \
         AND from_iso8601_timestamp(eventtime) < from_iso8601_timestamp($to)";
    let window = [format!("from={FROM}"), format!("to={TO}")];
    let scan = ctq(&[
        "query",
        in_window,
        "-s",
        "sample-logs",
        "-p",
        &window[0],
        "-p",
        &window[1],
    ]);
    assert!(
        stderr(&scan).contains(&format!("{files_read} files read")),
        "{files_read} files in the summary; {}",
        stderr(&scan)
    );
    assert_eq!(
        summary["files"]["records"],
        single_number(&sql_csv(&[in_window]))
    );

    // Each CSV is what `ctq query` prints for the same saved query and window.
    // Those are the saved queries that take no parameter but the window.
    let windowed: Vec<String> = saved_query_parameters()
        .into_iter()
        .filter(|(_, names)| names.iter().all(|n| n == "from" || n == "to"))
        .map(|(name, _)| name)
        .collect();
    assert!(windowed.len() >= 4, "{windowed:?}");
    for name in windowed {
        let file = format!("queries/{name}.sql");
        let expected = sql_csv(&["-f", &file]);
        let written = std::fs::read_to_string(out.join(format!("{name}.csv"))).unwrap();
        assert_eq!(written, expected, "{name}.csv");
        let listed = summary["queries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["name"] == name)
            .unwrap();
        assert_eq!(listed["row_count"], expected.lines().count() - 1);
    }
    // The bundled queries are those of queries/, each titled by its leading comment.
    let mut on_disk: Vec<String> = ctq_sql::saved::load_folder(&repo().join("queries"))
        .unwrap()
        .into_iter()
        .map(|q| q.name)
        .collect();
    on_disk.sort();
    let mut bundled: Vec<String> = summary["queries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["name"].as_str().unwrap().to_string())
        .collect();
    bundled.sort();
    assert_eq!(bundled, on_disk);
    assert_eq!(
        summary["queries"][0]["title"],
        "How many access denials each principal got in a time window, with the span they cover and \
         how many distinct actions were denied: who needs attention first."
    );
    // The article's query needs a principal; the report says so instead of guessing one.
    assert!(!out.join("access-denied.csv").exists());
    let article = summary["queries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "access-denied")
        .unwrap();
    assert!(
        article["not_run"]
            .as_str()
            .unwrap()
            .contains("--param arn=")
    );

    // The page: key figures, and each principal's total in the chart's legend as SQL counts it.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains(&format!("id=\"denials\">{denials}<")),
        "denials figure"
    );
    assert!(html.contains(&format!("id=\"explicit-denials\">{explicit}<")));
    let by_principal = sql_csv(&["-f", "queries/denials-by-principal.sql"]);
    let mut shown = 0;
    for line in by_principal.lines().skip(1) {
        let principal = line.split("\",").next().unwrap().trim_matches('"');
        let count = line.split(',').nth(1).unwrap();
        let legend = format!(
            "data-series=\"{}\" data-total=\"{count}\"",
            html_escape(principal)
        );
        if html.contains(&legend) {
            shown += 1;
        }
    }
    assert!(
        shown >= 8,
        "{shown} principals' totals in the legend\n{by_principal}"
    );
    // Each query's table has its rows.
    let top_actions = sql_csv(&["-f", "queries/top-denied-actions.sql"]);
    let table_start = html.find("id=\"query-top-denied-actions\"").unwrap();
    let table = &html[table_start..table_start + html[table_start..].find("</table>").unwrap()];
    assert_eq!(
        table.matches("<tr").count() - 1,
        top_actions.lines().count() - 1,
        "header row plus one per result row"
    );
    for line in top_actions.lines().skip(1) {
        let action = line.split(',').next().unwrap().trim_matches('"');
        assert!(table.contains(&html_escape(action)), "{action}");
    }
}

#[test]
fn under_cron_a_clean_report_is_silent_and_a_damaged_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    // Standard error is a pipe here, as under cron: nothing on it, no progress bar.
    let clean = report(&out, "sample-logs", &[]);
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
    assert_eq!(stderr(&clean), "");
    assert_eq!(summary(&out)["needs_attention"], false);

    let trail = dir.path().join("trail");
    ctq_testkit::copy_tree(&repo().join("sample-logs"), &trail, |_| false);
    let damaged = write(
        &trail,
        "AWSLogs/123456789012/CloudTrail/us-east-1/2019/10/29/123456789012_CloudTrail_us-east-1_20191029T0700Z_damaged.json.gz",
        b"\x1f\x8b\x08\x00 this is not gzip",
    );
    let run = report(&out, trail.to_str().unwrap(), &[]);
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run));
    let err = stderr(&run);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("damaged.json.gz"), "{err}");
    let summary = summary(&out);
    assert_eq!(summary["files"]["damaged"].as_array().unwrap().len(), 1);
    assert!(
        summary["files"]["damaged"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with(damaged.file_name().unwrap().to_str().unwrap())
    );
    // The damaged file is named in the page, and the other files' denials all count.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("id=\"damaged-files\"") && html.contains("damaged.json.gz"));
    let clean_denials = single_number(&sql_csv(&[&format!(
        "SELECT count(*) FROM cloudtrail WHERE {DENIAL_FILTER}"
    )]));
    assert_eq!(summary["denials"], clean_denials);

    let strict = report(&out, trail.to_str().unwrap(), &["--fail-on", "damaged"]);
    assert_eq!(strict.status.code(), Some(4), "{}", stderr(&strict));
}

#[test]
fn a_folder_of_other_files_is_not_replaced_by_a_report() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "notes.txt", b"keep me");
    let run = report(dir.path(), "sample-logs", &[]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stderr(&run).contains("not a ctq report"),
        "{}",
        stderr(&run)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(),
        "keep me"
    );
    let bad_rule = report(
        &dir.path().join("r"),
        "sample-logs",
        &["--fail-on", "denials<3"],
    );
    assert_eq!(bad_rule.status.code(), Some(2));
    assert!(
        stderr(&bad_rule).contains("denials>N"),
        "{}",
        stderr(&bad_rule)
    );
}

#[test]
fn the_report_renders_in_a_real_browser() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is missing; .ci/run installs it"
        );
        skip("no chromium on PATH (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let run = report(&out, "sample-logs", &[]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let denials = summary(&out)["denials"].as_u64().unwrap();
    let page = format!("file://{}", out.join("report.html").display());
    let profile = dir.path().join("profile");

    let dom = headless(&browser, &profile, &["--dump-dom", &page]);
    assert_eq!(dom.status.code(), Some(0), "{}", stderr(&dom));
    let rendered = stdout(&dom);
    for chart in ["chart-principals", "chart-services", "chart-actions"] {
        let start = rendered
            .find(&format!("<svg id=\"{chart}\""))
            .unwrap_or_else(|| panic!("{chart} not in the rendered DOM"));
        let svg = &rendered[start..start + rendered[start..].find("</svg>").unwrap()];
        assert!(
            svg.matches("class=\"bar\"").count() > 0,
            "{chart} has no bars"
        );
    }
    assert!(rendered.contains(&format!("id=\"denials\">{denials}<")));
    // Console messages (script errors, blocked or failed loads) are logged as CONSOLE lines.
    let log = stderr(&dom);
    assert!(
        !log.contains("CONSOLE") && !log.contains("Failed to load resource"),
        "{log}"
    );

    let screenshot = dir.path().join("report.png");
    let shot = headless(
        &browser,
        &profile,
        &[
            &format!("--screenshot={}", screenshot.display()),
            "--window-size=1280,2400",
            "--hide-scrollbars",
            &page,
        ],
    );
    assert_eq!(shot.status.code(), Some(0), "{}", stderr(&shot));
    let png = std::fs::read(&screenshot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
}
