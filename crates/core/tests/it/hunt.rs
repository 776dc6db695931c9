//! `ctq hunt` through the binary: findings as JSON and text, the rule and threshold flags, a rules
//! folder of one's own, `--fail-on`, and the rules listed by `ctq queries`.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::support::*;

const DAY: &str = "2019-10-28";
const WINDOW: [&str; 4] = ["--from", "2019-10-28", "--to", "2019-10-29"];

/// A small generated day with every bundled rule's attack injected into it.
fn attacked_trail() -> (tempfile::TempDir, Vec<ctq_trailgen::attacks::Injected>) {
    let dir = tempfile::tempdir().unwrap();
    ctq_trailgen::generate(&ctq_trailgen::Settings {
        out: dir.path().to_path_buf(),
        seed: 3,
        days: 1,
        accounts: 1,
        regions: 1,
        files_per_hour: 2,
        start: DAY.to_string(),
        mean_records: 80.0,
        denial_rate: 0.03,
    })
    .unwrap();
    let injected =
        ctq_trailgen::attacks::write_attacks(dir.path(), DAY, "111111111111", "us-east-1").unwrap();
    (dir, injected)
}

fn hunt(trail: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["hunt", "--source", trail.to_str().unwrap()];
    all.extend_from_slice(&WINDOW);
    all.extend_from_slice(args);
    ctq(&all)
}

#[test]
fn the_json_names_each_finding_with_its_evidence() {
    let (trail, injected) = attacked_trail();
    let output = hunt(trail.path(), &["--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let document: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(document["window"]["from"], "2019-10-28T00:00:00.000Z");
    let findings = document["findings"].as_array().unwrap();
    let fired: BTreeSet<&str> = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    let expected: BTreeSet<&str> = injected.iter().map(|i| i.rule).collect();
    assert_eq!(fired, expected);
    for finding in findings {
        for key in [
            "rule",
            "severity",
            "principal",
            "first_seen",
            "last_seen",
            "events",
            "denied",
            "actions",
            "services",
            "regions",
            "source_ips",
            "user_agents",
            "sample_event_ids",
            "detail",
            "next_step",
        ] {
            assert!(finding.get(key).is_some(), "{key} missing in {finding}");
        }
        assert!(finding["events"].as_u64().unwrap() >= 1);
        assert!(
            ["high", "medium", "low"].contains(&finding["severity"].as_str().unwrap()),
            "{finding}"
        );
    }
    let spray = findings
        .iter()
        .find(|f| f["rule"] == "assume-role-spray")
        .unwrap();
    assert_eq!(
        spray["issuer"], "arn:aws:iam::111111111111:role/WebApp",
        "a role session is named with the role that issued it"
    );
    assert!(
        spray["next_step"]
            .as_str()
            .unwrap()
            .contains("--role-name WebApp --policy-name AWSRevokeOlderSessions"),
        "{spray}"
    );
    let recon = findings
        .iter()
        .find(|f| f["rule"] == "recon-burst")
        .unwrap();
    assert!(
        recon["next_step"]
            .as_str()
            .unwrap()
            .contains("aws iam update-access-key --user-name leaked-ci --access-key-id AKIA"),
        "{recon}"
    );
    assert!(recon["services"].as_array().unwrap().len() >= 3, "{recon}");
}

#[test]
fn the_text_view_leads_with_the_most_severe() {
    let (trail, _) = attacked_trail();
    let output = hunt(trail.path(), &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    let first = text.lines().next().unwrap();
    let header = format!(
        " findings, 2019-10-28T00:00:00.000Z to 2019-10-29T00:00:00.000Z ({} rules over ",
        ctq_hunt::bundled().len()
    );
    assert!(first.contains(&header), "{first}");
    assert!(text.contains("\n[1] HIGH "), "{text}");
    let severities: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with('['))
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    let mut sorted = severities.clone();
    sorted.sort_by_key(|s| match *s {
        "HIGH" => 0,
        "MEDIUM" => 1,
        _ => 2,
    });
    assert_eq!(severities, sorted);
    assert!(text.contains("    next step  "), "{text}");
}

#[test]
fn rule_and_threshold_flags_choose_what_runs() {
    let (trail, _) = attacked_trail();
    let rules_of = |args: &[&str]| -> BTreeSet<String> {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        let output = hunt(trail.path(), &all);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let document: Value = serde_json::from_str(&stdout(&output)).unwrap();
        document["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        rules_of(&["--rule", "recon-burst", "--rule", "bucket-guessing"]),
        ["bucket-guessing", "recon-burst"].map(String::from).into()
    );
    assert!(rules_of(&["--rule", "recon-burst", "--threshold", "min_actions=500"]).is_empty());

    let unknown = hunt(trail.path(), &["--rule", "recon"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("no hunting rule recon; the rules are: recon-burst,"),
        "{}",
        stderr(&unknown)
    );
    let threshold = hunt(trail.path(), &["-t", "min_action=3"]);
    assert_eq!(threshold.status.code(), Some(1));
    assert!(
        stderr(&threshold)
            .contains("no rule has a threshold named min_action; the thresholds are:"),
        "{}",
        stderr(&threshold)
    );
}

#[test]
fn fail_on_a_severity_exits_4_only_when_a_finding_reaches_it() {
    let (trail, _) = attacked_trail();
    let high = hunt(
        trail.path(),
        &["--rule", "recon-burst", "--fail-on", "high"],
    );
    assert_eq!(high.status.code(), Some(4), "{}", stderr(&high));
    assert!(
        stderr(&high).contains("--fail-on high: 1 finding of that severity or above"),
        "{}",
        stderr(&high)
    );
    let medium_only = hunt(
        trail.path(),
        &["--rule", "bucket-guessing", "--fail-on", "high"],
    );
    assert_eq!(
        medium_only.status.code(),
        Some(0),
        "{}",
        stderr(&medium_only)
    );
    let medium = hunt(
        trail.path(),
        &["--rule", "bucket-guessing", "--fail-on", "medium"],
    );
    assert_eq!(medium.status.code(), Some(4), "{}", stderr(&medium));
}

#[test]
fn a_rules_folder_replaces_the_bundled_rules() {
    let (trail, _) = attacked_trail();
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(
        rules.path().join("s3-denied.sql"),
        "-- Any principal denied an S3 call more than $min times.\n--\n-- id: s3-denied\n-- severity: low\n-- next: Look.\n-- Parameters:\n--   $min  10  denied S3 calls\nSELECT principal, array_agg(event_id) AS event_ids FROM hunt_events\nWHERE denied AND event_source = 's3.amazonaws.com'\nGROUP BY principal HAVING count(*) > CAST($min AS BIGINT)\n",
    )
    .unwrap();
    let output = hunt(
        trail.path(),
        &[
            "--rules",
            rules.path().to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let document: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(document["rules"], serde_json::json!(["s3-denied"]));
    let principals: Vec<&str> = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["principal"].as_str().unwrap())
        .collect();
    assert!(
        principals.contains(&"arn:aws:iam::111111111111:user/marketing-uploader"),
        "{principals:?}"
    );

    std::fs::write(rules.path().join("broken.sql"), "-- no header\nSELECT 1").unwrap();
    let broken = hunt(trail.path(), &["--rules", rules.path().to_str().unwrap()]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        stderr(&broken).contains("rule broken: no `-- severity:` line"),
        "{}",
        stderr(&broken)
    );
}

#[test]
fn ctq_queries_lists_the_hunting_rules_and_their_thresholds() {
    let output = ctq(&["queries"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    for rule in ctq_hunt::bundled() {
        assert!(
            text.contains(&format!("{}  ({})", rule.id, rule.severity.as_str())),
            "{} missing from {text}",
            rule.id
        );
    }
    assert!(text.contains("    min_actions=10  distinct actions denied within one burst"));
}

#[test]
fn the_report_shows_the_findings_and_fails_on_them() {
    let (trail, injected) = attacked_trail();
    let out = tempfile::tempdir().unwrap();
    let folder = out.path().join("report");
    let output = ctq(&[
        "report",
        "--source",
        trail.path().to_str().unwrap(),
        "--from",
        "2019-10-28",
        "--to",
        "2019-10-29",
        "--out",
        folder.to_str().unwrap(),
        "--fail-on",
        "finding=high",
    ]);
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("--fail-on finding=high crossed: "),
        "{}",
        stderr(&output)
    );
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("summary.json")).unwrap())
            .unwrap();
    let rules: BTreeSet<&str> = summary["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, injected.iter().map(|i| i.rule).collect());
    assert_eq!(summary["hunt_rules"].as_array().unwrap().len(), rules.len());
    let page = std::fs::read_to_string(folder.join("report.html")).unwrap();
    assert!(page.contains("<section id=\"suspicious\">"), "no section");
    assert!(page.contains("<a href=\"#suspicious\">Suspicious activity</a>"));
    for rule in &rules {
        assert!(
            page.contains(&format!("data-rule=\"{rule}\"")),
            "{rule} not on the page"
        );
    }
}

#[test]
fn the_sample_trail_is_hunted_without_a_finding_that_is_not_there() {
    // The bundled sample holds ordinary denials of a few principals and no attack.
    let output = ctq(&["hunt", "--source", "sample-logs", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let document: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert!(document["events"].as_u64().unwrap() > 0);
    let findings = document["findings"].as_array().unwrap();
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn a_window_without_events_hunts_nothing_and_says_so() {
    let output = ctq(&[
        "hunt",
        "--source",
        "sample-logs",
        "--from",
        "2030-01-01",
        "--to",
        "2030-01-02",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output)
            .starts_with("0 findings, 2030-01-01T00:00:00.000Z to 2030-01-02T00:00:00.000Z ("),
        "{}",
        stdout(&output)
    );
    assert!(
        stdout(&output).contains(" over 0 events)"),
        "{}",
        stdout(&output)
    );
    assert!(
        stderr(&output).contains(
            "ctq: no records between 2030-01-01T00:00:00.000Z and 2030-01-02T00:00:00.000Z; "
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_store_is_hunted_as_its_trail() {
    let (trail, _) = attacked_trail();
    let store = tempfile::tempdir().unwrap();
    let store = store.path().join("store");
    let ingest = ctq(&[
        "ingest",
        "-q",
        "--source",
        trail.path().to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ]);
    assert_eq!(ingest.status.code(), Some(0), "{}", stderr(&ingest));
    let findings = |source: &[&str]| {
        let mut args = vec!["hunt", "--format", "json"];
        args.extend_from_slice(source);
        args.extend_from_slice(&WINDOW);
        let output = ctq(&args);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let document: Value = serde_json::from_str(&stdout(&output)).unwrap();
        document["findings"].clone()
    };
    let from_trail = findings(&["--source", trail.path().to_str().unwrap()]);
    assert!(!from_trail.as_array().unwrap().is_empty());
    assert_eq!(findings(&["--store", store.to_str().unwrap()]), from_trail);
}

#[test]
fn a_window_too_large_for_the_memory_limit_is_refused_with_the_way_out() {
    let (trail, _) = attacked_trail();
    let output = hunt(trail.path(), &["--memory-limit", "0"]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("the window holds too many events to hunt in 0 MiB of memory")
            && err.contains("hunt a shorter window (--since, --from/--to) or raise --memory-limit"),
        "{err}"
    );
    assert!(stdout(&output).is_empty());
}
