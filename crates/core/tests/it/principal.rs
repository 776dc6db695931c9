//! One way to name a principal, and the same filters, in every command that reads denials.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::*;

const ROLE: &str = "arn:aws:iam::210987654321:role/Deployer";

/// The event IDs `ctq denials` prints, and what it said on standard error.
fn denial_ids(args: &[&str]) -> (BTreeSet<String>, String) {
    let mut all = vec!["denials", "--source", "sample-logs", "--format", "json"];
    all.extend_from_slice(args);
    let output = ctq(&all);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let rows: Vec<Value> = serde_json::from_str(&stdout(&output)).unwrap();
    let ids = rows
        .iter()
        .map(|row| row["Event ID"].as_str().unwrap().to_string())
        .collect();
    (ids, stderr(&output))
}

/// The event IDs of `ctq explain`'s groups' samples, and each group's principal.
fn explain_principals(args: &[&str]) -> BTreeSet<String> {
    let mut all = vec!["explain", "--source", "sample-logs", "--format", "json"];
    all.extend_from_slice(args);
    let output = ctq(&all);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["principal"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_role_arn_its_name_and_a_glob_select_the_same_sessions_in_denials_and_explain() {
    let (by_role, _) = denial_ids(&["--principal", ROLE]);
    assert!(!by_role.is_empty(), "a role ARN matches its sessions");
    for other in [
        vec!["--arn", ROLE],
        vec!["--principal", "Deployer"],
        vec!["--principal", "arn:aws:sts::*:assumed-role/Deployer/*"],
    ] {
        assert_eq!(denial_ids(&other).0, by_role, "{other:?}");
    }
    let sessions: BTreeSet<String> = [
        "arn:aws:sts::210987654321:assumed-role/Deployer/ci-run-42",
        "arn:aws:sts::210987654321:assumed-role/Deployer/ci-run-45",
    ]
    .map(String::from)
    .into();
    assert_eq!(explain_principals(&["--principal", ROLE]), sessions);
    assert_eq!(explain_principals(&["--principal", "Deployer"]), sessions);
}

#[test]
fn a_glob_is_not_read_as_sql_wildcards() {
    // `_` and `%` are LIKE's wildcards; in a principal they are themselves.
    let (ids, err) = denial_ids(&["--principal", "arn:aws:iam::123456789012:user/user_ame"]);
    assert!(ids.is_empty());
    assert!(err.contains("no such principal"), "{err}");
    let (ids, _) = denial_ids(&["--principal", "arn:aws:iam::123456789012:user/user*"]);
    assert!(!ids.is_empty());
}

#[test]
fn no_such_principal_names_the_principals_with_the_most_denials() {
    let (ids, err) = denial_ids(&["--principal", "nobody"]);
    assert!(ids.is_empty());
    let line = err
        .lines()
        .find(|l| l.contains("no such principal in this window; principals with denials: "))
        .unwrap_or_else(|| panic!("{err}"));
    let listed = line.split(": ").nth(2).unwrap().split(", ").count();
    assert_eq!(listed, 10, "{line}");
    assert!(
        line.contains("arn:aws:iam::123456789012:user/username (7)"),
        "most denials first: {line}"
    );

    let output = ctq(&[
        "explain",
        "--source",
        "sample-logs",
        "--principal",
        "nobody",
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stderr(&output).contains("no such principal in this window"));
}

#[test]
fn account_and_region_filters_narrow_the_denials() {
    let (all, _) = denial_ids(&[]);
    let (account, _) = denial_ids(&["--account", "210987654321"]);
    let (region, _) = denial_ids(&["--event-region", "eu-west-1"]);
    for (name, subset) in [("account", &account), ("region", &region)] {
        assert!(
            !subset.is_empty() && subset.len() < all.len() && subset.is_subset(&all),
            "{name}: {} of {}",
            subset.len(),
            all.len()
        );
    }
    let (none, _) = denial_ids(&["--account", "000000000000"]);
    assert!(none.is_empty());
}

/// `ctq report`'s summary.json over the sample trail's days, with `args` added.
fn report_summary(args: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let mut all = vec![
        "report",
        "--source",
        "sample-logs",
        "--from",
        "2019-10-28T00:00:00Z",
        "--to",
        "2019-10-31T00:00:00Z",
        "--out",
        out.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let output = ctq(&all);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn the_report_triages_only_the_principal_asked_for() {
    let everyone = report_summary(&[]);
    let deployer = report_summary(&["--principal", ROLE]);
    // The role's two sessions, and fewer denials than every principal's.
    assert_eq!(deployer["principals"], 2, "{deployer}");
    assert!(
        deployer["denials"].as_u64().unwrap() < everyone["denials"].as_u64().unwrap(),
        "{deployer}\n{everyone}"
    );
}

#[test]
fn the_summary_counts_every_record_of_the_files_read() {
    let records = ctq_testkit::sample_records().len();
    let output = ctq(&["denials", "--source", "sample-logs"]);
    let err = stderr(&output);
    // The denial query skips records without an error code undecoded; they were still read.
    assert!(
        err.contains(&format!(", {records} records scanned")),
        "{err}"
    );

    let output = ctq(&[
        "query",
        "SELECT eventid FROM cloudtrail LIMIT 1",
        "--source",
        "sample-logs",
    ]);
    let err = stderr(&output);
    assert!(err.contains("1 row matched"), "{err}");
    assert!(!err.contains("| 0 files read"), "{err}");
}
