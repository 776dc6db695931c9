//! A window's cost follows the window, not the trail.

use std::collections::BTreeSet;

use ctq_ingest::Pruning;
use ctq_s3::S3Stats;

use crate::support::*;

fn keys(listing: &ctq_s3::Listing) -> BTreeSet<String> {
    listing
        .files
        .iter()
        .map(|f| {
            f.path
                .to_string_lossy()
                .trim_start_matches(&format!("s3://{BUCKET}/"))
                .to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifteen_minute_window_lists_and_fetches_only_what_it_can_need() {
    // More than a page of keys (1,000) per region, so that listing the whole trail pages.
    let objects = ctq_s3_testserver::synthetic_trail(
        (2019, 10, 28),
        4,
        &["111111111111", "222222222222"],
        &["us-east-1", "eu-west-1"],
        4,
        Some("o-a1b2c3d4e5"),
    );
    let server = server_with(&objects).await;
    let trail = trail_at(&server, "").await;

    let everything = trail.list(&Pruning::default()).await.unwrap();
    assert_eq!(everything.files.len(), objects.len());
    let full_lists = server.counts.lists();

    server.reset_counts();
    let (start, end) = (ms(2019, 10, 29, 6, 40), ms(2019, 10, 29, 6, 55));
    let pruning = Pruning {
        start_ms: Some(start),
        end_ms: Some(end),
        ..Pruning::default()
    };
    let listing = trail.list(&pruning).await.unwrap();
    let expected: BTreeSet<String> = objects
        .iter()
        .filter(|o| {
            o.delivered_ms + 60_000 > start && o.delivered_ms < end + pruning.delivery_slack_ms
        })
        .map(|o| o.key.clone())
        .collect();
    assert_eq!(keys(&listing), expected);
    assert!(
        expected.len() <= 4 * 20,
        "{} objects for a 75-minute delivery span",
        expected.len()
    );

    // Discovery one level at a time down to each region, then one listing per region and day.
    let lists = server.counts.lists();
    eprintln!(
        "15-minute window: {lists} LIST requests (whole trail: {full_lists}), {} of {} objects needed",
        expected.len(),
        objects.len()
    );
    assert!(lists <= 12, "{lists} LIST requests for a 15-minute window");
    assert!(full_lists > lists, "{full_lists} vs {lists}");

    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let files = listing.files.clone();
    let fetcher = trail.clone();
    tokio::spawn(async move { fetcher.fetch(files, tx).await });
    let mut fetched = 0;
    while let Some((_, bytes)) = rx.recv().await {
        assert!(bytes.is_ok());
        fetched += 1;
    }
    assert_eq!(fetched, expected.len());
    assert_eq!(
        server.counts.gets(),
        expected.len() as u64,
        "one GET per needed object"
    );
    assert_eq!(
        S3Stats::get(&trail.stats.get_requests),
        expected.len() as u64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_spanning_midnight_lists_both_days() {
    let objects = trail();
    let server = server_with(&objects).await;
    let trail = trail_at(&server, "AWSLogs/222222222222/").await;
    let (start, end) = (ms(2019, 10, 29, 23, 30), ms(2019, 10, 29, 23, 50));
    let pruning = Pruning {
        start_ms: Some(start),
        end_ms: Some(end),
        ..Pruning::default()
    };
    let listing = trail.list(&pruning).await.unwrap();
    let expected: BTreeSet<String> = objects
        .iter()
        .filter(|o| o.key.starts_with("AWSLogs/222222222222/"))
        .filter(|o| {
            o.delivered_ms + 60_000 > start && o.delivered_ms < end + pruning.delivery_slack_ms
        })
        .map(|o| o.key.clone())
        .collect();
    assert!(
        expected.iter().any(|k| k.contains("/2019/10/30/")),
        "the slack reaches the next day"
    );
    assert_eq!(keys(&listing), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefixes_may_start_anywhere_in_the_layout() {
    let objects = trail();
    let server = server_with(&objects).await;
    for prefix in [
        "",
        "AWSLogs/",
        "AWSLogs/o-a1b2c3d4e5/",
        "AWSLogs/o-a1b2c3d4e5/111111111111/CloudTrail/eu-west-1/",
        "AWSLogs/222222222222/CloudTrail/us-east-1/2019/10/30/",
    ] {
        let listing = trail_at(&server, prefix)
            .await
            .list(&Pruning::default())
            .await
            .unwrap();
        let expected: BTreeSet<String> = objects
            .iter()
            .filter(|o| o.key.starts_with(prefix))
            .map(|o| o.key.clone())
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(keys(&listing), expected, "prefix {prefix:?}");
    }
    let regions = Pruning {
        regions: Some(["eu-west-1".to_string()].into()),
        ..Pruning::default()
    };
    let listing = trail_at(&server, "").await.list(&regions).await.unwrap();
    assert!(
        listing
            .files
            .iter()
            .all(|f| f.partition.region.as_deref() == Some("eu-west-1"))
    );
    assert_eq!(listing.files.len(), objects.len() / 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partition_columns_name_the_days_to_list() {
    let objects = trail();
    let server = server_with(&objects).await;
    let trail = trail_at(&server, "").await;
    let one_day = Pruning {
        years: Some(["2019".to_string()].into()),
        months: Some(["10".to_string()].into()),
        days: Some(["30".to_string()].into()),
        accounts: Some(["222222222222".to_string()].into()),
        ..Pruning::default()
    };
    let listing = trail.list(&one_day).await.unwrap();
    let expected: BTreeSet<String> = objects
        .iter()
        .filter(|o| o.key.starts_with("AWSLogs/222222222222/") && o.key.contains("/2019/10/30/"))
        .map(|o| o.key.clone())
        .collect();
    assert_eq!(keys(&listing), expected);
    assert!(
        server.counts.lists() <= 8,
        "{} LIST requests",
        server.counts.lists()
    );
}
