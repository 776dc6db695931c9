//! A Parquet store written by `ctq-store` gives the rows of the raw trail, each event once.

use std::path::Path;

use ctq_sql::{SessionOptions, TrailSession};
use ctq_store::{IngestOptions, ingest};

use crate::support::*;
use ctq_testkit::{copy_tree, gunzip, walk};

/// The sample trail's event delivered twice.
const DUPLICATE_EVENT_ID: &str = "7d1c5e3a-9b2f-4c8d-a6e1-0f3b5d7c9e21";

/// The one file that holds nothing but the second delivery of an event.
fn is_redelivery(path: &Path) -> bool {
    if path.extension().is_none_or(|e| e != "gz") {
        return false;
    }
    let text = String::from_utf8(gunzip(&std::fs::read(path).unwrap()).unwrap()).unwrap();
    text.matches("\"eventID\"").count() == 1 && text.contains(DUPLICATE_EVENT_ID)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_saved_query_gives_the_same_rows_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let report = ingest(&[sample_logs()], &store, &IngestOptions::default()).unwrap();
    assert_eq!(report.duplicates_dropped, 1);
    assert!(report.damaged.is_empty());

    // The raw trail without the redelivered copy is what the store must equal.
    let once = dir.path().join("once");
    let redeliveries = walk(&sample_logs())
        .into_iter()
        .filter(|p| is_redelivery(p))
        .count();
    assert_eq!(redeliveries, 1);
    copy_tree(&sample_logs(), &once, is_redelivery);
    let raw = TrailSession::open(&[once], &SessionOptions::default())
        .await
        .unwrap();
    let stored = TrailSession::open_store(&store, &SessionOptions::default())
        .await
        .unwrap();
    let mut compared = 0;
    for window in [
        ("2019-10-29T06:40:00Z", "2019-10-29T06:55:00Z"),
        ("2019-10-29T23:00:00Z", "2019-10-30T01:00:00Z"),
        ("2019-10-28T00:00:00Z", "2019-10-31T00:00:00Z"),
    ] {
        for (name, sql) in saved_queries() {
            let mut pairs = vec![("from", window.0), ("to", window.1)];
            if sql.contains("$arn") {
                pairs.push(("arn", USER));
            }
            let expected = raw.query(&sql, &params(&pairs)).await.unwrap();
            let actual = stored.query(&sql, &params(&pairs)).await.unwrap();
            compared += expected.row_count();
            assert_eq!(
                csv_rows(&actual),
                csv_rows(&expected),
                "{name} over {window:?}"
            );
        }
    }
    assert!(compared > 40, "only {compared} rows compared");
    let count = "SELECT count(*) AS n, count(DISTINCT eventid) AS ids FROM cloudtrail";
    assert_eq!(
        csv_rows(&stored.query(count, &[]).await.unwrap()),
        csv_rows(&raw.query(count, &[]).await.unwrap())
    );
}

#[tokio::test]
async fn a_folder_that_is_not_a_store_is_refused_with_the_fix() {
    let error = TrailSession::open_store(&sample_logs(), &SessionOptions::default())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("ctq ingest"), "{error}");
}

#[tokio::test]
async fn a_store_from_a_newer_ctq_is_refused_with_the_version() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    ingest(&[sample_logs()], &store, &IngestOptions::default()).unwrap();
    let manifest_path = ctq_store::Manifest::path(&store);
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    manifest["version"] = serde_json::json!(ctq_store::Manifest::VERSION + 1);
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();

    let error = TrailSession::open_store(store.clone(), &SessionOptions::default())
        .await
        .err()
        .expect("a newer store is refused");
    let message = error.to_string();
    assert!(
        message.contains("written by a newer ctq") && message.contains("upgrade ctq"),
        "{message}"
    );
}
