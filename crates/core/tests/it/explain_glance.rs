//! `ctq explain` read at a glance: the summary per principal, resources folded to what a person
//! grants, `--group-by`, `--top`, `--cause` and `--format csv`, over generated trails.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::support::*;

/// A small generated day: a few hundred denials of every cause.
fn generated_day() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    ctq_trailgen::generate(&ctq_trailgen::Settings {
        out: dir.path().to_path_buf(),
        days: 1,
        accounts: 1,
        regions: 2,
        files_per_hour: 1,
        mean_records: 60.0,
        denial_rate: 0.2,
        ..ctq_trailgen::Settings::default()
    })
    .unwrap();
    dir
}

fn explain(source: &Path, args: &[&str]) -> String {
    let mut all = vec!["explain", "-q", "--source", source.to_str().unwrap()];
    all.extend_from_slice(args);
    let output = ctq(&all);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stdout(&output)
}

fn explain_json(source: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    serde_json::from_str(&explain(source, &all)).unwrap()
}

fn groups(report: &Value) -> &Vec<Value> {
    report["groups"].as_array().unwrap()
}

fn counts(report: &Value) -> u64 {
    groups(report)
        .iter()
        .map(|g| g["count"].as_u64().unwrap())
        .sum()
}

#[test]
fn grouping_by_principal_alone_gives_one_group_per_principal() {
    let day = generated_day();
    let all = explain_json(day.path(), &[]);
    let total = all["denials"].as_u64().unwrap();
    assert!(total > 50, "{total}");
    assert_eq!(counts(&all), total);

    let by_principal = explain_json(day.path(), &["--group-by", "principal"]);
    let principals: Vec<&str> = groups(&by_principal)
        .iter()
        .map(|g| g["principal"].as_str().unwrap())
        .collect();
    let mut distinct = principals.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), principals.len(), "{principals:?}");
    assert_eq!(counts(&by_principal), total);
    assert_eq!(
        principals.len(),
        by_principal["principals"].as_array().unwrap().len()
    );
    assert!(groups(&by_principal).len() < groups(&all).len());

    // Any order, and a dimension given twice counts once.
    let two = explain_json(day.path(), &["--group-by", "cause,account,cause"]);
    assert_eq!(two["group_by"], json!(["cause", "account"]));
    assert_eq!(counts(&two), total);
    let causes: Vec<&str> = groups(&two)
        .iter()
        .map(|g| g["cause_summary"].as_str().unwrap())
        .collect();
    assert!(causes.iter().all(|c| !c.starts_with('(')), "{causes:?}");
    assert!(
        causes.contains(&"explicit deny in an identity-based policy"),
        "{causes:?}"
    );
}

#[test]
fn top_shows_the_largest_groups_and_says_how_many_were_left_out() {
    let day = generated_day();
    let all = explain_json(day.path(), &[]);
    let total_groups = groups(&all).len();
    assert!(total_groups > 5, "{total_groups}");
    assert_eq!(all["groups_left_out"], 0);

    let top = explain_json(day.path(), &["--top", "3"]);
    assert_eq!(groups(&top).len(), 3);
    assert_eq!(top["groups_total"], total_groups);
    assert_eq!(top["groups_left_out"], total_groups - 3);
    assert_eq!(top["denials"], all["denials"]);
    assert_eq!(groups(&top)[..], groups(&all)[..3]);

    let text = explain(day.path(), &["--top", "2"]);
    assert_eq!(text.lines().filter(|l| l.starts_with('[')).count(), 2);
    assert!(
        text.contains(&format!("{} with", plural_more(total_groups - 2))),
        "{text}"
    );
}

fn plural_more(n: usize) -> String {
    if n == 1 {
        "1 more group".to_owned()
    } else {
        format!("{n} more groups")
    }
}

#[test]
fn cause_selects_denials_by_the_kind_of_policy() {
    let day = generated_day();
    let all = explain_json(day.path(), &[]);
    let scp = explain_json(day.path(), &["--cause", "scp"]);
    assert!(counts(&scp) > 0);
    for group in groups(&scp) {
        assert_eq!(group["policy_type"], "service_control_policy", "{group}");
    }
    let both = explain_json(day.path(), &["--cause", "scp,boundary"]);
    let repeated = explain_json(day.path(), &["--cause", "scp", "--cause", "boundary"]);
    assert_eq!(both["groups"], repeated["groups"]);
    assert!(counts(&both) > counts(&scp));
    for group in groups(&both) {
        let kind = group["policy_type"].as_str().unwrap();
        assert!(
            ["service_control_policy", "permissions_boundary"].contains(&kind),
            "{group}"
        );
    }
    assert_eq!(
        counts(&both) + both["excluded"]["other_causes"].as_u64().unwrap(),
        counts(&all)
    );

    let output = ctq(&[
        "explain",
        "--source",
        day.path().to_str().unwrap(),
        "--cause",
        "nope",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("trust"), "{}", stderr(&output));
}

/// Splits CSV text into rows of cells (RFC 4180: quoted cells, doubled quotes, CRLF).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut cell) = (Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(!quoted && cell.is_empty() && row.is_empty(), "unterminated");
    rows
}

#[test]
fn csv_has_one_row_per_group_and_counts_that_sum_to_the_total() {
    let day = generated_day();
    let all = explain_json(day.path(), &[]);
    let rows = parse_csv(&explain(day.path(), &["--format", "csv"]));
    let header = &rows[0];
    for column in [
        "principal",
        "action",
        "resource",
        "cause",
        "count",
        "first_seen",
        "last_seen",
        "next_step",
    ] {
        assert!(header.iter().any(|h| h == column), "{column}: {header:?}");
    }
    assert!(rows.iter().all(|r| r.len() == header.len()));
    assert_eq!(rows.len() - 1, groups(&all).len());
    let count = header.iter().position(|h| h == "count").unwrap();
    let sum: u64 = rows[1..]
        .iter()
        .map(|r| r[count].parse::<u64>().unwrap())
        .sum();
    assert_eq!(sum, all["denials"].as_u64().unwrap());
    // Next steps hold commas and quotes: they survive the quoting.
    let next = header.iter().position(|h| h == "next_step").unwrap();
    assert!(rows[1..].iter().any(|r| r[next].contains(',')));

    let top = parse_csv(&explain(day.path(), &["--format", "csv", "--top", "2"]));
    assert_eq!(top.len(), 3);
}

/// A denial of `s3:GetObject` on `key` in `bucket`, by `who`.
fn object_denial(id: usize, who: &str, bucket: &str, key: &str) -> Value {
    let mut r = ctq_testkit::record(&format!("obj-{id}"), Some("AccessDenied"));
    r["eventName"] = json!("GetObject");
    r["eventTime"] = json!(format!("2019-10-29T06:{:02}:00Z", id % 60));
    r["userIdentity"]["arn"] = json!(who);
    r["requestParameters"] = json!({"bucketName": bucket, "key": key});
    r["resources"] =
        json!([{"ARN": format!("arn:aws:s3:::{bucket}/{key}"), "type": "AWS::S3::Object"}]);
    r["errorMessage"] = json!(format!(
        "User: {who} is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::{bucket}/{key}\" because no identity-based policy allows the s3:GetObject action"
    ));
    r
}

#[test]
fn fifty_keys_of_one_bucket_fold_into_one_group() {
    let dir = tempfile::tempdir().unwrap();
    let alice = "arn:aws:iam::123456789012:user/alice";
    let records: Vec<Value> = (0..50)
        .map(|i| {
            object_denial(
                i,
                alice,
                "data-lake",
                &format!("raw/2019/10/part-{i:05}.parquet"),
            )
        })
        .collect();
    ctq_testkit::write_trail_file(
        dir.path(),
        "123456789012",
        "us-east-1",
        "20191029T0645Z",
        "a",
        &records,
    );
    let report = explain_json(dir.path(), &[]);
    assert_eq!(groups(&report).len(), 1, "{report:#}");
    let group = &groups(&report)[0];
    assert_eq!(group["count"], 50);
    assert_eq!(group["resource"], "arn:aws:s3:::data-lake/raw/*");
    assert_eq!(group["distinct"]["resources"], 50);
    assert_eq!(group["sample_resources"].as_array().unwrap().len(), 3);
    assert_eq!(group["mixed"], json!([]));
    // The draft grants the folded resource, not the earliest event's object.
    let draft: Value =
        serde_json::from_str(group["advice"]["draft_policy"].as_str().unwrap()).unwrap();
    assert_eq!(
        draft["Statement"][0]["Resource"],
        "arn:aws:s3:::data-lake/raw/*"
    );

    let text = explain(dir.path(), &[]);
    assert!(
        text.contains("    resource   arn:aws:s3:::data-lake/raw/* (50 distinct)\n"),
        "{text}"
    );
    assert!(text.contains("and 47 more"), "{text}");
}

#[test]
fn the_text_starts_with_the_denials_of_each_principal() {
    let dir = tempfile::tempdir().unwrap();
    let mut records = Vec::new();
    for (n, who) in [(5, "alice"), (2, "bob"), (9, "carol")] {
        let arn = format!("arn:aws:iam::123456789012:user/{who}");
        for i in 0..n {
            let bucket = if i % 2 == 0 { "one" } else { "two" };
            records.push(object_denial(
                records.len(),
                &arn,
                bucket,
                &format!("k/{i}"),
            ));
        }
    }
    ctq_testkit::write_trail_file(
        dir.path(),
        "123456789012",
        "us-east-1",
        "20191029T0645Z",
        "a",
        &records,
    );
    let text = explain(dir.path(), &[]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0], "16 denials in 6 groups, the whole trail",
        "{text}"
    );
    assert_eq!(lines[2], "Denials by principal:");
    assert_eq!(
        lines[3],
        "  9  arn:aws:iam::123456789012:user/carol  1 action; no identity allow 9"
    );
    assert!(lines[4].contains("user/alice"), "{text}");
    assert!(lines[5].contains("user/bob"), "{text}");

    let json = explain_json(dir.path(), &[]);
    let summary: BTreeMap<&str, u64> = json["principals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["principal"].as_str().unwrap(),
                p["denials"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(summary["arn:aws:iam::123456789012:user/bob"], 2);
    assert_eq!(json["principals"][0]["actions"], 1);
    assert_eq!(
        json["principals"][0]["causes"],
        json!([{"cause": "no identity allow", "count": 9}])
    );
}
