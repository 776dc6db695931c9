//! Each shape a trail arrives in decodes to the same records.

use std::io::Write;

use ctq_ingest::{FileOutcome, NonEventKind, ScanOptions};
use serde_json::json;

use crate::support::*;

const LAYOUT: &str = "AWSLogs/123456789012/CloudTrail/us-east-1/2019/10/29";

#[test]
fn gzipped_records_file_in_the_s3_layout_fills_every_column_and_the_path_columns() {
    let dir = tempfile::tempdir().unwrap();
    let records = [record("e1", Some("AccessDenied")), record("e2", None)];
    write(
        dir.path(),
        &format!(
            "{LAYOUT}/123456789012_CloudTrail_us-east-1_20191029T0645Z_abcdefghijklmnop.json.gz"
        ),
        &gzip(&records_file(&records)),
    );
    let scanned = scan(&[dir.path().to_path_buf()]);
    assert_eq!(scanned.rows(), 2);
    assert_eq!(scanned.report.records(), 2);
    assert_eq!(
        scanned.strings("eventid"),
        [Some("e1".into()), Some("e2".into())]
    );
    assert_eq!(
        scanned.strings("errorcode"),
        [None, Some("AccessDenied".into())]
    );
    assert_eq!(
        scanned.strings("readonly"),
        [Some("true".into()), Some("true".into())]
    );
    assert_eq!(
        scanned.strings("useridentity.arn"),
        vec![Some("arn:aws:iam::123456789012:user/alice".to_string()); 2]
    );
    let params = scanned.strings("requestparameters");
    let parsed: serde_json::Value = serde_json::from_str(params[0].as_deref().unwrap()).unwrap();
    assert_eq!(parsed, json!({"bucketName": "b", "nested": {"a": [1, 2]}}));
    assert_eq!(
        scanned.strings("account"),
        vec![Some("123456789012".to_string()); 2]
    );
    assert_eq!(
        scanned.strings("region"),
        vec![Some("us-east-1".to_string()); 2]
    );
    assert_eq!(scanned.strings("year"), vec![Some("2019".to_string()); 2]);
    assert_eq!(scanned.strings("month"), vec![Some("10".to_string()); 2]);
    assert_eq!(scanned.strings("day"), vec![Some("29".to_string()); 2]);
    assert_eq!(scanned.strings("responseelements"), vec![None, None]);
}

#[test]
fn multi_member_gzip_is_read_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let text = records_file(&[record("a", None), record("b", None), record("c", None)]);
    let (head, tail) = text.split_at(text.len() / 2);
    let mut two_members = gzip(head);
    two_members.extend(gzip(tail));
    let path = write(dir.path(), "trail.json.gz", &two_members);
    let scanned = scan(&[path]);
    assert_eq!(scanned.rows(), 3);
}

#[test]
fn plain_json_ndjson_arrays_and_byte_order_marks_are_read() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "plain.json",
        &records_file(&[record("plain", None)]),
    );
    let ndjson = format!("{}\n{}\n", record("nd1", None), record("nd2", None));
    write(dir.path(), "lines.jsonl", ndjson.as_bytes());
    let array = serde_json::to_vec(&json!([record("arr", None)])).unwrap();
    write(dir.path(), "array.json", &array);
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(records_file(&[record("bom", None)]));
    write(dir.path(), "bom.json", &bom);
    write(
        dir.path(),
        "single.json",
        record("single", None).to_string().as_bytes(),
    );
    let scanned = scan(&[dir.path().to_path_buf()]);
    assert_eq!(
        scanned.strings("eventid"),
        ["arr", "bom", "nd1", "nd2", "plain", "single"].map(|s| Some(s.to_string()))
    );
    assert!(
        scanned.strings("account").iter().all(Option::is_none),
        "no S3 layout, no path columns"
    );
}

#[test]
fn lookup_events_output_is_read_from_its_embedded_strings() {
    let dir = tempfile::tempdir().unwrap();
    let output = json!({
        "NextToken": "abc",
        "Events": [
            {"EventId": "x1", "EventName": "ListBuckets", "CloudTrailEvent": record("x1", Some("AccessDenied")).to_string()},
            {"EventId": "x2", "EventName": "ListBuckets", "CloudTrailEvent": record("x2", None).to_string()}
        ]
    });
    write(dir.path(), "lookup.json", output.to_string().as_bytes());
    let lines = format!(
        "{}\n{}\n",
        json!({"EventId": "y1", "CloudTrailEvent": record("y1", None).to_string()}),
        json!({"EventId": "y2", "CloudTrailEvent": record("y2", None).to_string()})
    );
    write(dir.path(), "lookup.jsonl", lines.as_bytes());
    let scanned = scan(&[dir.path().to_path_buf()]);
    assert_eq!(
        scanned.strings("eventid"),
        ["x1", "x2", "y1", "y2"].map(|s| Some(s.to_string()))
    );
}

#[test]
fn lookup_events_pasted_from_the_documentation_layout_is_repaired() {
    let dir = tempfile::tempdir().unwrap();
    // The documentation's CLI output spreads the embedded record over several lines.
    let text = r#"{
    "Events": [
        {
            "EventId": "abc",
            "CloudTrailEvent": "{
                  \"eventVersion\":\"1.02\",
                  \"eventTime\":\"2015-02-20T23:55:29Z\",
                  \"additionalEventData\":{\"LoginTo\":\"https://console.aws.amazon.com/console/home",
                         \"MFAUsed\":\"No\"},
                  \"eventID\":\"abc\"}",
            "EventName": "ConsoleLogin"
        }
    ]
}"#;
    write(dir.path(), "pasted.txt", text.as_bytes());
    let scanned = scan(&[dir.path().to_path_buf()]);
    assert_eq!(scanned.strings("eventid"), [Some("abc".to_string())]);
    assert_eq!(
        scanned.strings("eventtime"),
        [Some("2015-02-20T23:55:29Z".to_string())]
    );
}

#[test]
fn digest_and_insight_files_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &format!(
            "{LAYOUT}/123456789012_CloudTrail_us-east-1_20191029T0645Z_abcdefghijklmnop.json.gz"
        ),
        &gzip(&records_file(&[record("kept", None)])),
    );
    let digest = json!({"awsAccountId": "123456789012", "digestStartTime": "2019-10-29T06:00:00Z", "logFiles": []});
    write(
        dir.path(),
        "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2019/10/29/123456789012_CloudTrail-Digest_us-east-1_t_us-east-1_20191029T070000Z.json.gz",
        &gzip(digest.to_string().as_bytes()),
    );
    write(
        dir.path(),
        "AWSLogs/123456789012/CloudTrail-Insight/us-east-1/2019/10/29/123456789012_CloudTrail-Insight_us-east-1_20191029T0700Z_x.json.gz",
        &gzip(&records_file(&[record("insight", None)])),
    );
    // A digest outside the layout is recognised by its content.
    write(
        dir.path(),
        "copied/digest.json",
        digest.to_string().as_bytes(),
    );
    let scanned = scan(&[dir.path().to_path_buf()]);
    assert_eq!(scanned.strings("eventid"), [Some("kept".to_string())]);
    let mut skipped: Vec<NonEventKind> = scanned.report.skipped().map(|(_, k)| k).collect();
    skipped.sort();
    assert_eq!(
        skipped,
        [
            NonEventKind::Digest,
            NonEventKind::Digest,
            NonEventKind::Insight
        ]
    );
    assert_eq!(scanned.report.files_read(), 1);
}

#[test]
fn small_files_are_packed_into_full_batches() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..40 {
        write(
            dir.path(),
            &format!("f{i:02}.json"),
            &records_file(&[
                record(&format!("{i}a"), None),
                record(&format!("{i}b"), None),
            ]),
        );
    }
    let options = ScanOptions {
        batch_size: 16,
        ..ScanOptions::default()
    };
    let scanned = scan_with(&[dir.path().to_path_buf()], &options).unwrap();
    assert_eq!(scanned.rows(), 80);
    assert!(
        scanned.batches.len() < 40,
        "{} batches for 40 files: small files must share batches",
        scanned.batches.len()
    );
    assert!(scanned.batches.iter().all(|b| b.num_rows() <= 17));
}

#[test]
fn odd_but_readable_field_types_do_not_reject_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = record("odd", Some("AccessDenied"));
    r["readOnly"] = json!("True");
    r["userAgent"] = json!(["a", "b"]);
    r["sessionCredentialFromConsole"] = json!(true);
    r["requestParameters"] = json!("{\"k\":\"v\"}");
    r["resources"] = json!(["not an object", {"ARN": "arn:aws:s3:::b"}]);
    r["userIdentity"]["invokedBy"] = json!(null);
    r["userIdentity"]["sessionContext"] = json!({
        "attributes": {"mfaAuthenticated": false, "creationDate": "2019-10-29T06:00:00Z"},
        "webIdFederationData": {"federatedProvider": "p", "attributes": {"sub": "x", "n": 3}}
    });
    let mut gz = std::fs::File::create(dir.path().join("odd.json")).unwrap();
    gz.write_all(&records_file(&[r])).unwrap();
    let scanned = scan(&[dir.path().to_path_buf()]);
    assert_eq!(scanned.report.damaged().count(), 0, "{:?}", scanned.report);
    assert_eq!(scanned.strings("readonly"), [Some("True".to_string())]);
    assert_eq!(
        scanned.strings("useragent"),
        [Some("[\"a\",\"b\"]".to_string())]
    );
    assert_eq!(
        scanned.strings("sessioncredentialfromconsole"),
        [Some("true".to_string())]
    );
    assert_eq!(
        scanned.strings("requestparameters"),
        [Some("{\"k\":\"v\"}".to_string())]
    );
    assert_eq!(
        scanned.strings("useridentity.sessioncontext.attributes.mfaauthenticated"),
        [Some("false".to_string())]
    );
    assert!(matches!(
        scanned.report.files.values().next(),
        Some(FileOutcome::Read { records: 1, .. })
    ));
}
