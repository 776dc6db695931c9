//! Control characters from a trail (a crafted user agent, a file's name) reach the terminal
//! escaped: none of ctq's human-facing text carries an ESC byte. CSV keeps them as they were.

use serde_json::json;

use crate::support::*;

const AGENT: &str = "\u{1b}]0;pwned\u{7}curl\u{1b}[2J";

fn crafted_trail() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut r = ctq_testkit::record("e1", Some("AccessDenied"));
    r["userAgent"] = json!(AGENT);
    r["errorMessage"] = json!("denied\n| fake | row |");
    ctq_testkit::write_trail_file(
        dir.path(),
        "123456789012",
        "us-east-1",
        "20191029T0645Z",
        "x",
        &[r],
    );
    dir
}

#[test]
fn the_query_table_shows_a_crafted_user_agent_escaped_and_csv_keeps_it() {
    let dir = crafted_trail();
    let source = dir.path().to_str().unwrap();
    let sql = "SELECT useragent, errormessage FROM cloudtrail";
    let output = ctq(&["query", sql, "--source", source, "--quiet"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "\
+-----------------------------+------------------------+
| useragent                   | errormessage           |
+-----------------------------+------------------------+
| \\x1b]0;pwned\\x07curl\\x1b[2J | denied\\n| fake | row | |
+-----------------------------+------------------------+
"
    );
    let csv = ctq(&[
        "query", sql, "--source", source, "--quiet", "--format", "csv",
    ]);
    assert_eq!(
        stdout(&csv),
        format!("\"useragent\",\"errormessage\"\n\"{AGENT}\",\"denied\n| fake | row |\"\n")
    );
}

#[test]
fn explain_text_shows_a_crafted_user_agent_escaped() {
    let dir = crafted_trail();
    let output = ctq(&[
        "explain",
        "--source",
        dir.path().to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(
        text.lines()
            .any(|l| l == "    agent      \\x1b]0;pwned\\x07curl\\x1b[2J"),
        "{text}"
    );
}

#[test]
fn a_damaged_file_whose_name_holds_an_escape_is_named_escaped() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bad\u{1b}[2J.json.gz", b"not gzip at all");
    let source = dir.path().to_str().unwrap();
    let output = ctq(&[
        "query",
        "SELECT count(*) FROM cloudtrail",
        "--source",
        source,
    ]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(!output.stderr.contains(&0x1b), "{:?}", stderr(&output));
    let err = stderr(&output);
    let warning = err.lines().next().unwrap();
    assert_eq!(
        warning,
        format!(
            "ctq: warning: skipped damaged file {}: not a CloudTrail log: expected a JSON object such as {{\"Records\": [...]}}",
            dir.path().join("bad\\x1b[2J.json.gz").display()
        ),
    );
}

#[test]
fn a_strict_error_naming_a_file_whose_name_holds_an_escape_prints_it_escaped() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "bad\u{1b}]0;pwned\u{7}.json.gz",
        b"not gzip at all",
    );
    let output = ctq(&[
        "query",
        "SELECT count(*) FROM cloudtrail",
        "--source",
        dir.path().to_str().unwrap(),
        "--strict",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(!output.stderr.contains(&0x1b), "{:?}", stderr(&output));
    assert!(!output.stderr.contains(&0x07), "{:?}", stderr(&output));
    assert!(
        stderr(&output).contains("bad\\x1b]0;pwned\\x07.json.gz"),
        "{}",
        stderr(&output)
    );
}
