//! The sample trail, rewritten as the shapes its records reach a folder in after CloudWatch Logs
//! and EventBridge, and mixed with an ordinary trail file, queries the same as the trail itself.

use ctq_testkit::{gzip, records_file, sample_logs, sample_records};
use serde_json::{Value, json};

use crate::support::*;

fn cloudwatch_logs_export(records: &[Value]) -> Vec<u8> {
    let lines: Vec<String> = records
        .iter()
        .map(|r| format!("{} {r}", r["eventTime"].as_str().unwrap()))
        .collect();
    gzip(lines.join("\n").as_bytes())
}

/// Firehose's object: subscription messages concatenated with no separator, one per record.
fn firehose_object(records: &[Value]) -> Vec<u8> {
    let messages: String = records
        .iter()
        .map(|r| {
            json!({
                "messageType": "DATA_MESSAGE", "owner": "123456789012",
                "logGroup": "aws-cloudtrail-logs", "logStream": "123456789012_CloudTrail_us-east-1",
                "subscriptionFilters": ["to-firehose"],
                "logEvents": [{"id": "1", "timestamp": 1_572_331_308_000_i64, "message": r.to_string()}]
            })
            .to_string()
        })
        .collect();
    gzip(messages.as_bytes())
}

fn eventbridge_events(records: &[Value]) -> Vec<u8> {
    let events: Vec<Value> = records
        .iter()
        .map(|r| json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.s3", "detail": r}))
        .collect();
    serde_json::to_vec(&events).unwrap()
}

fn query(source: &str) -> String {
    let output = ctq(&[
        "query",
        "SELECT count(*) AS n, count(DISTINCT eventid) AS ids, count(errorcode) AS denied, \
         count(DISTINCT useridentity.arn) AS principals FROM cloudtrail",
        "--source",
        source,
        "--format",
        "csv",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stdout(&output)
}

/// The sample trail as Security Lake keeps it, in OCSF Parquet, queries like the trail on what
/// OCSF carries.
#[test]
fn security_lake_parquet_queries_like_the_trail() {
    let records = sample_records();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "aws/CLOUD_TRAIL_MGMT/2.0/region=us-east-1/accountId=123456789012/eventDay=20191029/part-1.gz.parquet",
        &ctq_testkit::ocsf_parquet(&records),
    );
    assert_eq!(
        query(dir.path().to_str().unwrap()),
        query(sample_logs().to_str().unwrap())
    );
}

/// The sample trail as CloudTrail Lake query results saved by `get-query-results`.
#[test]
fn lake_query_results_query_like_the_trail() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "results.json",
        &ctq_testkit::lake_query_results(&sample_records()),
    );
    assert_eq!(
        query(dir.path().to_str().unwrap()),
        query(sample_logs().to_str().unwrap())
    );
}

#[test]
fn a_folder_of_every_shape_queries_like_the_trail() {
    let records = sample_records();
    assert!(records.len() >= 8, "the sample trail has records to split");
    let quarter = records.len() / 4;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "trail/events.json.gz",
        &gzip(&records_file(&records[..quarter])),
    );
    write(
        dir.path(),
        "exports/task-1/123456789012_CloudTrail_us-east-1/000000.gz",
        &cloudwatch_logs_export(&records[quarter..2 * quarter]),
    );
    write(
        dir.path(),
        "firehose/2019/10/29/06/trail-logs-1-2019-10-29-06-41-48-1a2b3c4d-5e6f-7a8b-9c0d",
        &firehose_object(&records[2 * quarter..3 * quarter]),
    );
    write(
        dir.path(),
        "eventbridge/events.json",
        &eventbridge_events(&records[3 * quarter..]),
    );
    let mixed = query(dir.path().to_str().unwrap());
    assert_eq!(mixed, query(sample_logs().to_str().unwrap()));
    let count: usize = mixed
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(count, records.len());
}

/// An IAM Identity Center user's records have no ARN: denials and explain name the user by
/// `<identityStoreArn>/user/<userId>`.
#[test]
fn an_identity_center_caller_is_named_by_its_identity_store_user() {
    let dir = tempfile::tempdir().unwrap();
    let mut denied = ctq_testkit::identity_center_record("ic");
    denied["eventType"] = json!("AwsApiCall");
    write(dir.path(), "ic.json", &records_file(&[denied]));
    let source = dir.path().to_str().unwrap();
    let user = "arn:aws:identitystore::123456789012:identitystore/d-1234567890/user/94482488-3041-7026-18f3-2d4b5d1e5a7c";
    for (command, format) in [("denials", "csv"), ("explain", "json")] {
        let output = ctq(&[command, "--source", source, "--format", format]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(
            stdout(&output).contains(user),
            "{command}: {}",
            stdout(&output)
        );
    }
}
