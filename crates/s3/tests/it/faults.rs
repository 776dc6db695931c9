//! Throttling is retried, a body cut short is retried then reported, and denials say what to grant.

use ctq_ingest::Pruning;
use ctq_s3::{S3Error, S3Stats};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_downs_are_retried_and_a_cut_object_is_reported_not_dropped() {
    let objects: Vec<_> = trail().into_iter().take(40).collect();
    let server = server_with(&objects).await;
    server.faults.slow_down(&objects[3].key, 2);
    server.faults.slow_down(&objects[17].key, 1);
    server.faults.cut_short(&objects[25].key);
    let trail = trail_at(&server, "").await;
    let listing = trail.list(&Pruning::default()).await.unwrap();
    assert_eq!(listing.files.len(), 40);

    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let fetcher = trail.clone();
    tokio::spawn(async move { fetcher.fetch(listing.files, tx).await });
    let (mut good, mut lost) = (0, Vec::new());
    while let Some((file, fetched)) = rx.recv().await {
        let key = file
            .path
            .to_string_lossy()
            .replace(&format!("s3://{BUCKET}/"), "");
        match fetched {
            Ok(bytes) => {
                let original = objects.iter().find(|o| o.key == key).unwrap();
                assert_eq!(bytes, original.bytes, "{key} arrives whole");
                good += 1;
            }
            Err(damage) => lost.push((key, damage.to_string())),
        }
    }
    assert_eq!(good, 39);
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].0, objects[25].key);
    assert!(lost[0].1.contains("after 5 attempt"), "{}", lost[0].1);
    let retries = S3Stats::get(&trail.stats.retries);
    assert_eq!(
        retries,
        3 + 4,
        "three slow-downs and four retries of the cut object"
    );
    assert_eq!(S3Stats::get(&trail.stats.objects_lost), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_names_the_call_the_bucket_the_prefix_and_the_permission() {
    let server = server_with(&trail()[..4]).await;
    server.faults.deny_lists();
    let error = trail_at(&server, "AWSLogs/")
        .await
        .list(&Pruning::default())
        .await
        .unwrap_err();
    assert!(matches!(error, S3Error::AccessDenied { .. }), "{error}");
    let message = error.to_string();
    for part in [
        "ListObjectsV2",
        BUCKET,
        "AWSLogs/",
        "s3:ListBucket",
        "s3:GetObject",
        "docs/s3.md",
    ] {
        assert!(message.contains(part), "{part} in: {message}");
    }
    assert!(!message.contains(SECRET), "no secret in messages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_bucket_is_named() {
    let server = server_with(&[]).await;
    let location = "s3://no-such-bucket/AWSLogs/".parse().unwrap();
    let error = ctq_s3::S3Trail::connect(location, options(&server))
        .await
        .list(&Pruning::default())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("no-such-bucket"), "{error}");
    assert!(!format!("{error:?}").contains(SECRET));
}
