//! `ctq explain` over `sample-logs/`, which holds one denial of each cause the classifier names.

use serde_json::Value;

use crate::support::*;

fn explain(args: &[&str]) -> (String, String, Option<i32>) {
    let mut all = vec!["explain", "--source", "sample-logs"];
    all.extend_from_slice(args);
    let output = ctq(&all);
    (stdout(&output), stderr(&output), output.status.code())
}

fn explain_json(args: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let (out, err, status) = explain(&all);
    assert_eq!(status, Some(0), "{err}");
    serde_json::from_str(&out).unwrap()
}

fn group<'a>(report: &'a Value, principal: &str, action: &str) -> &'a Value {
    report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["principal"] == principal && g["action"] == action)
        .unwrap_or_else(|| panic!("no group for {principal} {action}"))
}

#[test]
fn the_whole_sample_trail_explained() {
    let (out, err, status) = explain(&[]);
    assert_eq!(status, Some(0), "{err}");
    insta::assert_snapshot!(format!(
        "$ ctq explain --source sample-logs\n{out}--- stderr\n{err}"
    ));
}

#[test]
fn the_article_window_explained() {
    let args = [
        "--from",
        "2019-10-29T06:40:00Z",
        "--to",
        "2019-10-29T06:55:00Z",
    ];
    let (out, err, status) = explain(&args);
    assert_eq!(status, Some(0), "{err}");
    insta::assert_snapshot!(format!(
        "$ ctq explain --source sample-logs {}\n{out}--- stderr\n{err}",
        args.join(" ")
    ));
}

#[test]
fn each_cause_is_named_with_its_next_step() {
    let report = explain_json(&[]);
    let cases = [
        (
            "arn:aws:iam::210987654321:user/analyst",
            "organizations:ListAccounts",
            "explicit",
            Some("service_control_policy"),
            "organization",
        ),
        (
            "arn:aws:sts::123456789012:assumed-role/GitHubActionsDeploy/GitHubActions",
            "s3:DeleteBucket",
            "explicit",
            Some("permissions_boundary"),
            "boundary",
        ),
        (
            "arn:aws:sts::210987654321:assumed-role/Deployer/ci-run-45",
            "dynamodb:PutItem",
            "implicit",
            Some("session_policy"),
            "session policy",
        ),
        (
            "arn:aws:iam::210987654321:user/analyst",
            "sts:AssumeRole",
            "implicit",
            Some("role_trust_policy"),
            "trust policy",
        ),
        (
            "arn:aws:sts::210987654321:assumed-role/Deployer/ci-run-45",
            "s3:PutObject",
            "explicit",
            Some("vpc_endpoint_policy"),
            "endpoint",
        ),
        (
            "arn:aws:sts::123456789012:assumed-role/Testrole/Diego",
            "iam:PassRole",
            "not_stated",
            None,
            "iam:PassedToService = autoscaling.amazonaws.com",
        ),
        (
            "arn:aws:iam::123456789012:user/mateojackson",
            "ec2:RunInstances",
            "not_stated",
            None,
            "decode-authorization-message",
        ),
    ];
    for (principal, action, decision, policy_type, advice) in cases {
        let group = group(&report, principal, action);
        assert_eq!(group["decision"], decision, "{group:#}");
        assert_eq!(group["policy_type"].as_str(), policy_type, "{group:#}");
        let next_step = group["advice"]["next_step"].as_str().unwrap();
        let cause = group["advice"]["cause"].as_str().unwrap();
        assert!(
            next_step.contains(advice) || cause.contains(advice),
            "{principal} {action}: {cause} / {next_step}"
        );
    }
    let vpce = group(
        &report,
        "arn:aws:sts::210987654321:assumed-role/Deployer/ci-run-45",
        "s3:PutObject",
    );
    assert_eq!(vpce["transitive_through"], "service_control_policy");
    let ec2 = group(
        &report,
        "arn:aws:iam::123456789012:user/mateojackson",
        "ec2:RunInstances",
    );
    assert_eq!(ec2["encoded_message"], true);
    let scp = group(
        &report,
        "arn:aws:iam::210987654321:user/analyst",
        "organizations:ListAccounts",
    );
    assert!(
        scp["policy_arn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:organizations::999988887777:policy/")
    );
    let ecs = group(
        &report,
        "arn:aws:iam::123456789012:user/mateojackson",
        "ecs:DescribeClusters",
    );
    let draft: Value =
        serde_json::from_str(ecs["advice"]["draft_policy"].as_str().unwrap()).unwrap();
    assert_eq!(draft["Statement"][0]["Action"], "ecs:DescribeClusters");
    assert_eq!(
        draft["Statement"][0]["Resource"],
        "arn:aws:ecs:us-east-1:123456789012:cluster/prod"
    );
}

#[test]
fn a_duplicate_delivery_counts_once() {
    let report = explain_json(&[]);
    assert_eq!(report["excluded"]["duplicates"], 1);
    let session = group(
        &report,
        "arn:aws:sts::210987654321:assumed-role/Deployer/ci-run-45",
        "dynamodb:PutItem",
    );
    assert_eq!(session["count"], 1);
    // Every denial record of the trail is either in a group or counted as the duplicate.
    let rows = ctq(&[
        "query",
        "-q",
        "--format",
        "csv",
        "SELECT count(*) AS n FROM cloudtrail WHERE is_denial(errorcode)",
        "--source",
        "sample-logs",
    ]);
    let total: u64 = stdout(&rows).lines().nth(1).unwrap().parse().unwrap();
    assert_eq!(report["denials"].as_u64().unwrap() + 1, total);
}

#[test]
fn a_role_arn_matches_all_its_sessions() {
    let report = explain_json(&["--principal", "arn:aws:iam::210987654321:role/Deployer"]);
    let mut principals: Vec<&str> = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["principal"].as_str().unwrap())
        .collect();
    principals.sort_unstable();
    principals.dedup();
    assert_eq!(
        principals,
        [
            "arn:aws:sts::210987654321:assumed-role/Deployer/ci-run-42",
            "arn:aws:sts::210987654321:assumed-role/Deployer/ci-run-45"
        ]
    );
    let session = explain_json(&[
        "--principal",
        "arn:aws:sts::210987654321:assumed-role/Deployer/ci-run-42",
    ]);
    assert_eq!(session["groups"].as_array().unwrap().len(), 1);
    assert_eq!(session["groups"][0]["action"], "s3:GetObject");
}

#[test]
fn noise_and_suppressed_denials_are_left_out_and_counted() {
    let all = explain_json(&[]);
    let quiet = explain_json(&["--exclude-noise"]);
    assert_eq!(quiet["excluded"]["service_calls"], 1);
    assert_eq!(quiet["excluded"]["console_browsing"], 1);
    assert_eq!(
        quiet["denials"].as_u64().unwrap() + 2,
        all["denials"].as_u64().unwrap()
    );
    assert!(
        !quiet["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["action"] == "ec2:DescribeVpcs" || g["principal"] == "config.amazonaws.com")
    );

    let dir = tempfile::tempdir().unwrap();
    let rules = write(
        dir.path(),
        "suppress.txt",
        b"# known and accepted\narn:aws:iam::123456789012:user/username  cloudtrail:lookupevents\n*  *  arn:aws:s3:::prod-artifacts/*\n",
    );
    let suppressed = explain_json(&["--suppress", rules.to_str().unwrap()]);
    assert_eq!(
        suppressed["excluded"]["suppressed"], 7,
        "{:#}",
        suppressed["excluded"]
    );
    assert!(!suppressed["groups"].as_array().unwrap().iter().any(|g| {
        g["action"] == "cloudtrail:LookupEvents"
            || g["resource"]
                .as_str()
                .unwrap_or("")
                .starts_with("arn:aws:s3:::prod-artifacts/")
    }));
}

#[test]
fn a_bad_suppression_file_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write(dir.path(), "rules.txt", b"ok rule\none two three four\n");
    let (_, err, status) = explain(&["--suppress", rules.to_str().unwrap()]);
    assert_eq!(status, Some(1));
    assert!(err.contains("rules.txt"), "{err}");
    assert!(err.contains("line 2"), "{err}");
}
