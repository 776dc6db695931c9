//! Records that went through CloudWatch Logs or EventBridge before reaching a file read the same
//! as the trail file they came from; a damaged file of such a shape is named with its reason.

use std::fmt::Write as _;
use std::path::Path;

use base64::Engine as _;
use ctq_ingest::FileDamage;
use ctq_testkit::{lake_row, ocsf_parquet, parquet_bytes};
use serde_json::{Value, json};

use crate::support::*;

/// Records of two principals, one of them denied.
fn trail_records() -> Vec<Value> {
    let mut bob = record("e3", Some("UnauthorizedOperation"));
    bob["userIdentity"]["arn"] = json!("arn:aws:iam::123456789012:user/bob");
    vec![record("e1", Some("AccessDenied")), record("e2", None), bob]
}

/// What a comparison of two readings looks at.
fn rows_of(scanned: &Scanned) -> (usize, [Vec<Option<String>>; 3]) {
    (
        scanned.rows(),
        ["eventid", "useridentity.arn", "errorcode"].map(|column| scanned.strings(column)),
    )
}

/// Scans the ordinary trail file and the file of `shape` written by `write_shape` into separate
/// folders, and asserts they give the same rows and no damage.
fn assert_reads_like_the_trail(write_shape: impl Fn(&Path, &[Value])) {
    let records = trail_records();
    let trail = tempfile::tempdir().unwrap();
    write(
        trail.path(),
        "trail.json.gz",
        &gzip(&records_file(&records)),
    );
    let shaped = tempfile::tempdir().unwrap();
    write_shape(shaped.path(), &records);
    let (expected, got) = (scan(&[trail.path().into()]), scan(&[shaped.path().into()]));
    assert_eq!(got.report.damaged().count(), 0, "{:?}", got.report);
    assert_eq!(expected.rows(), 3);
    assert_eq!(rows_of(&got), rows_of(&expected));
}

fn assert_damaged(dir: &Path, file: &str, reason: &str) {
    let scanned = scan(&[dir.to_path_buf()]);
    let damaged: Vec<(String, String)> = scanned
        .report
        .damaged()
        .map(|(path, why)| {
            (
                path.file_name().unwrap().to_string_lossy().into(),
                why.to_string(),
            )
        })
        .collect();
    assert!(
        damaged
            .iter()
            .any(|(name, why)| name == file && why.contains(reason)),
        "{file} should be damaged with {reason:?}: {damaged:?}"
    );
}

/// Each of `values` on its own line after `prefix`.
fn lines(values: &[Value], prefix: &str) -> String {
    values.iter().fold(String::new(), |mut text, value| {
        writeln!(text, "{prefix}{value}").unwrap();
        text
    })
}

fn cwl_export(records: &[Value]) -> String {
    lines(records, "2019-10-29T06:41:49.123Z ")
}

const EXPORT_KEY: &str = "exports/6b1c2e9a-task/123456789012_CloudTrail_us-east-1/000000.gz";

#[test]
fn cloudwatch_logs_export_reads_like_the_trail() {
    assert_reads_like_the_trail(|dir, records| {
        write(dir, EXPORT_KEY, &gzip(cwl_export(records).as_bytes()));
    });
}

#[test]
fn damaged_cloudwatch_logs_exports_are_named_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let whole = gzip(cwl_export(&trail_records()).as_bytes());
    write(dir.path(), "a/000000.gz", &whole[..whole.len() / 2]);
    let broken = format!(
        "{}2019-10-29T06:41:50.000Z {{\"eventID\": \n",
        cwl_export(&trail_records())
    );
    write(dir.path(), "b/000000.gz", &gzip(broken.as_bytes()));
    let other_log = "2019-10-29T06:41:50.000Z {\"level\":\"info\",\"msg\":\"started\"}\n";
    write(dir.path(), "c/000000.gz", &gzip(other_log.as_bytes()));
    write(
        dir.path(),
        "good.json",
        &records_file(&[record("kept", None)]),
    );
    assert_damaged(dir.path(), "000000.gz", "gzip stream is truncated");
    assert_damaged(dir.path(), "000000.gz", "invalid JSON: line 4");
    assert_damaged(dir.path(), "000000.gz", "not a CloudTrail log");
    assert_eq!(
        scan(&[dir.path().into()]).strings("eventid"),
        [Some("kept".into())]
    );
}

fn data_message(messages: &[String]) -> Value {
    json!({
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "aws-cloudtrail-logs",
        "logStream": "123456789012_CloudTrail_us-east-1",
        "subscriptionFilters": ["to-firehose"],
        "logEvents": messages.iter().enumerate().map(|(i, m)| json!({
            "id": format!("3614{i}"), "timestamp": 1_572_331_308_000_i64, "message": m
        })).collect::<Vec<_>>()
    })
}

const CONTROL_MESSAGE: &str = r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1572331308000,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#;

/// Firehose's delivery: a control message and the records split over two data messages,
/// concatenated with no separator.
fn firehose_object(records: &[Value]) -> Vec<u8> {
    let messages: Vec<String> = records.iter().map(Value::to_string).collect();
    let (first, rest) = messages.split_at(1);
    let text = format!(
        "{CONTROL_MESSAGE}{}{}",
        data_message(first),
        data_message(rest)
    );
    gzip(text.as_bytes())
}

const FIREHOSE_KEY: &str =
    "firehose/2019/10/29/06/trail-logs-1-2019-10-29-06-41-48-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d";

#[test]
fn firehose_subscription_data_without_extension_reads_like_the_trail() {
    assert_reads_like_the_trail(|dir, records| {
        write(dir, FIREHOSE_KEY, &firehose_object(records));
    });
}

#[test]
fn lambda_subscription_events_read_like_the_trail() {
    assert_reads_like_the_trail(|dir, records| {
        let messages: Vec<String> = records.iter().map(Value::to_string).collect();
        let data = base64::engine::general_purpose::STANDARD
            .encode(gzip(data_message(&messages).to_string().as_bytes()));
        let event = json!({"awslogs": {"data": data}});
        write(dir, "lambda-event.json", event.to_string().as_bytes());
    });
}

#[test]
fn a_control_message_alone_is_zero_records_not_damage() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "trail-logs-1-2019-10-29-06-41-48-0000",
        &gzip(CONTROL_MESSAGE.as_bytes()),
    );
    let scanned = scan(&[dir.path().into()]);
    assert_eq!(scanned.report.damaged().count(), 0, "{:?}", scanned.report);
    assert_eq!(scanned.report.files_read(), 1);
    assert_eq!(scanned.rows(), 0);
}

#[test]
fn damaged_subscription_data_is_named_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let whole = firehose_object(&trail_records());
    write(
        dir.path(),
        "s-1-2019-10-29-06-41-48-truncated",
        &whole[..whole.len() / 2],
    );
    let not_records = data_message(&["START RequestId: 42".into(), "{\"level\":\"info\"}".into()]);
    write(
        dir.path(),
        "s-1-2019-10-29-06-41-48-other",
        &gzip(not_records.to_string().as_bytes()),
    );
    let not_a_record = data_message(&["{\"eventVersion\": 1.08, oops}".into()]);
    write(
        dir.path(),
        "s-1-2019-10-29-06-41-48-broken",
        &gzip(not_a_record.to_string().as_bytes()),
    );
    let bad_base64 = json!({"awslogs": {"data": "not base64!"}});
    write(dir.path(), "lambda.json", bad_base64.to_string().as_bytes());
    write(
        dir.path(),
        "good.json",
        &records_file(&[record("kept", None)]),
    );
    assert_damaged(
        dir.path(),
        "s-1-2019-10-29-06-41-48-truncated",
        "gzip stream is truncated",
    );
    assert_damaged(
        dir.path(),
        "s-1-2019-10-29-06-41-48-other",
        "not a CloudTrail record",
    );
    assert_damaged(
        dir.path(),
        "s-1-2019-10-29-06-41-48-broken",
        "is not a record",
    );
    assert_damaged(dir.path(), "lambda.json", "not base64");
    assert_eq!(
        scan(&[dir.path().into()]).strings("eventid"),
        [Some("kept".into())]
    );
}

fn eventbridge_event(record: &Value) -> Value {
    let detail_type = if record["eventType"] == "AwsConsoleSignIn" {
        "AWS Console Sign In via CloudTrail"
    } else {
        "AWS API Call via CloudTrail"
    };
    json!({
        "version": "0", "id": "6f87d04b-9f74-4f04-a780-7acf4b0a9b38",
        "detail-type": detail_type, "source": "aws.s3", "account": "123456789012",
        "time": record["eventTime"], "region": "us-east-1", "resources": [],
        "detail": record
    })
}

#[test]
fn eventbridge_events_per_line_in_an_array_or_alone_read_like_the_trail() {
    assert_reads_like_the_trail(|dir, records| {
        let events: Vec<Value> = records.iter().map(eventbridge_event).collect();
        write(
            dir,
            "rule-target/lines.jsonl",
            lines(&events[..2], "").as_bytes(),
        );
        write(
            dir,
            "rule-target/one.json",
            &gzip(events[2].to_string().as_bytes()),
        );
    });
    assert_reads_like_the_trail(|dir, records| {
        let events: Vec<Value> = records.iter().map(eventbridge_event).collect();
        write(dir, "events.json", &serde_json::to_vec(&events).unwrap());
    });
}

#[test]
fn eventbridge_events_not_from_cloudtrail_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut ec2 = eventbridge_event(&record("x", None));
    ec2["detail-type"] = json!("EC2 Instance State-change Notification");
    ec2["detail"] = json!({"instance-id": "i-1", "state": "running"});
    write(dir.path(), "ec2.json", ec2.to_string().as_bytes());
    let broken = format!(
        "{}\n{{\"detail-type\": \"AWS API Call via CloudTrail\", \"detail\": {{\n",
        eventbridge_event(&record("y", None))
    );
    write(dir.path(), "broken.jsonl", broken.as_bytes());
    assert_damaged(
        dir.path(),
        "ec2.json",
        "EC2 Instance State-change Notification",
    );
    assert_damaged(dir.path(), "broken.jsonl", "invalid JSON");
    let scanned = scan(&[dir.path().into()]);
    assert!(matches!(
        scanned.report.damaged().next(),
        Some((_, FileDamage::NotCloudTrail(_) | FileDamage::InvalidJson(_)))
    ));
    assert_eq!(scanned.rows(), 0);
}

#[test]
fn every_shape_mixed_in_one_folder_reads_every_record_once() {
    let dir = tempfile::tempdir().unwrap();
    let records = trail_records();
    write(dir.path(), "trail.json.gz", &gzip(&records_file(&records)));
    write(
        dir.path(),
        EXPORT_KEY,
        &gzip(cwl_export(&records).as_bytes()),
    );
    write(dir.path(), FIREHOSE_KEY, &firehose_object(&records));
    let events: Vec<Value> = records.iter().map(eventbridge_event).collect();
    write(
        dir.path(),
        "events.json",
        &serde_json::to_vec(&events).unwrap(),
    );
    let scanned = scan(&[dir.path().into()]);
    assert_eq!(scanned.report.damaged().count(), 0, "{:?}", scanned.report);
    assert_eq!(scanned.report.files_read(), 4);
    assert_eq!(scanned.rows(), 12);
}

/// A CloudTrail Lake result row of `record`: each column a single-key object, objects as JSON
/// text, times as Lake writes them, a null column left out; `userIdentity.arn` selected alone when
/// `arn_column`.

#[test]
fn cloudtrail_lake_results_read_like_the_trail() {
    for arn_column in [false, true] {
        assert_reads_like_the_trail(|dir, records| {
            let results = json!({
                "QueryStatus": "FINISHED",
                "QueryStatistics": {"ResultsCount": records.len(), "TotalResultsCount": records.len()},
                "QueryResultRows": records.iter().map(|r| lake_row(r, arn_column)).collect::<Vec<_>>()
            });
            write(dir, "lake-results.json", results.to_string().as_bytes());
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let results = json!({"QueryStatus": "FINISHED", "QueryResultRows": [lake_row(&record("t", None), false)]});
    write(dir.path(), "lake.json", results.to_string().as_bytes());
    let scanned = scan(&[dir.path().into()]);
    assert_eq!(
        scanned.strings("eventtime"),
        [Some("2019-10-29T06:41:48Z".into())],
        "Lake's time reads as a trail's"
    );
    assert_eq!(
        scanned.strings("useridentity.type"),
        [Some("IAMUser".into())]
    );
}

#[test]
fn cloudtrail_lake_results_of_an_aggregate_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let counts = json!({"QueryStatus": "FINISHED", "QueryResultRows": [[{"eventName": "x"}], [{"calls": "3"}]]});
    write(dir.path(), "counts.json", counts.to_string().as_bytes());
    let empty = json!({"QueryStatus": "FINISHED", "QueryResultRows": []});
    write(dir.path(), "empty.json", empty.to_string().as_bytes());
    assert_damaged(
        dir.path(),
        "counts.json",
        "none of eventID, eventTime, eventName",
    );
    let scanned = scan(&[dir.path().into()]);
    assert_eq!(scanned.report.damaged().count(), 1, "{:?}", scanned.report);
    assert_eq!(scanned.report.files_read(), 1, "no rows is 0 records");
}

#[test]
fn identity_center_callers_are_read_with_who_they_act_for() {
    let dir = tempfile::tempdir().unwrap();
    let r = ctq_testkit::identity_center_record("ic");
    write(dir.path(), "ic.json", &records_file(&[r]));
    let scanned = scan(&[dir.path().into()]);
    assert_eq!(
        scanned.strings("useridentity.onbehalfof.userid"),
        [Some("94482488-3041-7026-18f3-2d4b5d1e5a7c".into())]
    );
    assert_eq!(
        scanned.strings("useridentity.onbehalfof.identitystorearn"),
        [Some(
            "arn:aws:identitystore::123456789012:identitystore/d-1234567890".into()
        )]
    );
    assert_eq!(scanned.strings("useridentity.arn"), [None]);
}

#[test]
fn text_unpacked_from_a_lambda_event_is_repaired_as_a_file_is() {
    let dir = tempfile::tempdir().unwrap();
    let mut denied = record("lone", Some("AccessDenied"));
    denied["errorMessage"] = json!("denied @LONE@");
    let message = data_message(&[denied.to_string()]).to_string();
    // The message string holds the record escaped once more: an unpaired surrogate escape in the
    // unpacked text itself.
    let inner = ctq_testkit::splice_bytes(message.as_bytes(), "@LONE@", br"\ud800");
    let data = base64::engine::general_purpose::STANDARD.encode(gzip(&inner));
    let event = json!({"awslogs": {"data": data}});
    write(dir.path(), "lambda.json", event.to_string().as_bytes());
    let scanned = scan(&[dir.path().into()]);
    assert_eq!(scanned.report.damaged().count(), 0, "{:?}", scanned.report);
    assert_eq!(
        scanned.strings("errormessage"),
        [Some("denied \u{FFFD}".into())]
    );
}

#[test]
fn security_lake_ocsf_parquet_reads_like_the_trail() {
    let records = trail_records();
    let trail = tempfile::tempdir().unwrap();
    write(trail.path(), "trail.json", &records_file(&records));
    let lake = tempfile::tempdir().unwrap();
    write(
        lake.path(),
        "aws/CLOUD_TRAIL_MGMT/2.0/region=us-east-1/accountId=123456789012/eventDay=20191029/part-1.gz.parquet",
        &ocsf_parquet(&records),
    );
    let (expected, got) = (scan(&[trail.path().into()]), scan(&[lake.path().into()]));
    assert_eq!(got.report.damaged().count(), 0, "{:?}", got.report);
    assert_eq!(got.rows(), 3);
    for column in [
        "eventid",
        "useridentity.arn",
        "useridentity.principalid",
        "useridentity.type",
        "useridentity.accountid",
        "eventname",
        "eventsource",
        "errorcode",
        "errormessage",
        "awsregion",
        "eventtime",
        "eventtype",
        "eventversion",
        "requestparameters",
    ] {
        assert_eq!(got.strings(column), expected.strings(column), "{column}");
    }
    assert_eq!(
        got.strings("eventtime")[0].as_deref(),
        Some("2019-10-29T06:41:48Z")
    );
}

#[test]
fn a_parquet_file_that_is_not_ocsf_is_named() {
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let batch = arrow_array::RecordBatch::try_from_iter([(
        "bucket",
        Arc::new(arrow_array::StringArray::from(vec!["b"])) as arrow_array::ArrayRef,
    )])
    .unwrap();
    write(dir.path(), "other.parquet", &parquet_bytes(&batch));
    assert_damaged(
        dir.path(),
        "other.parquet",
        "not a CloudTrail log: a Parquet file without OCSF API Activity columns",
    );
}

#[test]
fn security_lake_folders_prune_by_region_account_and_day() {
    let records = trail_records();
    let lake = tempfile::tempdir().unwrap();
    for folder in [
        "region=us-east-1/accountId=123456789012/eventDay=20191029",
        "region=us-east-1/accountId=123456789012/eventDay=20191101",
        "region=eu-west-1/accountId=123456789012/eventDay=20191029",
        "region=us-east-1/accountId=210987654321/eventDay=20191029",
    ] {
        write(
            lake.path(),
            &format!("aws/CLOUD_TRAIL_MGMT/2.0/{folder}/part-1.gz.parquet"),
            &ocsf_parquet(&records),
        );
    }
    let kept = |pruning: &ctq_ingest::Pruning| -> Vec<String> {
        let discovery = ctq_ingest::discover(&[lake.path().to_path_buf()], pruning).unwrap();
        let mut folders: Vec<String> = discovery
            .files
            .iter()
            .map(|f| {
                let path = f.path.strip_prefix(lake.path()).unwrap();
                let folders: Vec<_> = path.iter().map(|c| c.to_string_lossy()).collect();
                folders[3..6].join("/")
            })
            .collect();
        folders.sort();
        folders
    };
    assert_eq!(kept(&ctq_ingest::Pruning::default()).len(), 4);
    let day = ctq_ingest::Pruning {
        start_ms: Some(1_572_307_200_000), // 2019-10-29T00:00:00Z
        end_ms: Some(1_572_393_600_000),   // 2019-10-30T00:00:00Z
        regions: Some(["us-east-1".to_string()].into()),
        accounts: Some(["123456789012".to_string()].into()),
        ..ctq_ingest::Pruning::default()
    };
    assert_eq!(
        kept(&day),
        ["region=us-east-1/accountId=123456789012/eventDay=20191029"]
    );
}
