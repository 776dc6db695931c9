//! The same queries over the same files give the same rows from S3 as from disk.

use std::time::Duration;

use ctq_s3::S3Options;
use ctq_s3_testserver::{ACCESS_KEY, SECRET_KEY, TestS3};
use ctq_sql::{SessionOptions, TrailSession};

use crate::support::*;

async fn sample_in_s3() -> TestS3 {
    let server = TestS3::start().await;
    server.create_bucket("trail");
    server.put_tree("trail", "", &sample_logs());
    server
}

pub(crate) fn s3_options(server: &TestS3) -> SessionOptions {
    SessionOptions {
        s3: S3Options {
            region: Some("us-east-1".into()),
            endpoint_url: Some(server.endpoint.clone()),
            path_style: true,
            static_credentials: Some((ACCESS_KEY.into(), SECRET_KEY.into())),
            retry_base_delay: Duration::from_millis(5),
            ..S3Options::default()
        },
        ..SessionOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_saved_query_gives_the_same_rows_from_s3_as_from_disk() {
    let server = sample_in_s3().await;
    let from_s3 = TrailSession::open(&[s3("s3://trail/AWSLogs/")], &s3_options(&server))
        .await
        .unwrap();
    let from_disk = session().await;
    for window in [
        ("2019-10-29T06:40:00Z", "2019-10-29T06:55:00Z"),
        ("2019-10-28T00:00:00Z", "2019-10-31T00:00:00Z"),
    ] {
        for (name, sql) in saved_queries() {
            let mut pairs = vec![("from", window.0), ("to", window.1)];
            if sql.contains("$arn") {
                pairs.push(("arn", USER));
            }
            let local = from_disk.query(&sql, &params(&pairs)).await.unwrap();
            let remote = from_s3.query(&sql, &params(&pairs)).await.unwrap();
            assert_eq!(
                csv_rows(&remote),
                csv_rows(&local),
                "{name} over {window:?}"
            );
        }
    }
    let (local, remote) = (from_disk.file_outcomes(), from_s3.file_outcomes());
    assert_eq!(remote.records(), local.records());
    assert_eq!(remote.damaged().count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_lost_in_transit_is_reported_and_the_rest_all_count() {
    let server = sample_in_s3().await;
    let victim = "AWSLogs/123456789012/CloudTrail/us-east-1/2019/10/29/123456789012_CloudTrail_us-east-1_20191029T0701Z_N6wgP9VVwkfZxkdf.json.gz";
    server.faults.cut_short(victim);
    server.faults.slow_down("AWSLogs/123456789012/CloudTrail/us-east-1/2019/10/29/123456789012_CloudTrail_us-east-1_20191029T0652Z_1eUgnQsyFkmOJhg7.json.gz", 2);
    let session = TrailSession::open(&[s3("s3://trail")], &s3_options(&server))
        .await
        .unwrap();
    let result = session
        .query("SELECT eventid FROM cloudtrail ORDER BY eventid", &[])
        .await
        .unwrap();
    let report = session.file_outcomes();
    let damaged: Vec<_> = report.damaged().collect();
    assert_eq!(damaged.len(), 1, "{damaged:?}");
    assert_eq!(
        damaged[0].0.to_string_lossy(),
        format!("s3://trail/{victim}")
    );
    let lost_records = {
        let bytes = std::fs::read(sample_logs().join(victim)).unwrap();
        let text = ctq_testkit::gunzip(&bytes).unwrap();
        serde_json::from_slice::<serde_json::Value>(&text).unwrap()["Records"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(result.row_count(), sample_records().len() - lost_records);
    let trail = &session.s3_trails()[0];
    assert!(ctq_s3::S3Stats::get(&trail.stats.retries) >= 2);
    assert_eq!(ctq_s3::S3Stats::get(&trail.stats.objects_lost), 1);
}

/// An S3 source, as `--source s3://…` gives it.
pub(crate) fn s3(url: &str) -> ctq_s3::TrailLocation {
    ctq_s3::TrailLocation::S3(url.parse().unwrap())
}
