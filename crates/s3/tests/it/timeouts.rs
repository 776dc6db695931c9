//! An endpoint that does not answer, or stops in the middle of a body, is given up within the
//! budget, and the message names it and what timed out.

use std::time::{Duration, Instant};

use ctq_ingest::Pruning;
use ctq_s3::{S3Error, S3Location, S3Stats, S3Trail};

use crate::support::*;

async fn trail_on(server: &BrokenServer) -> S3Trail {
    let location: S3Location = format!("s3://{BUCKET}/AWSLogs/").parse().unwrap();
    S3Trail::connect(location, impatient_options(&server.endpoint))
        .await
        .unwrap()
}

/// Fetches `files`, returning each object's damage text (all of them are expected lost).
async fn fetch_all_lost(trail: &S3Trail, files: Vec<ctq_ingest::TrailFile>) -> Vec<String> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let fetcher = trail.clone();
    tokio::spawn(async move { fetcher.fetch(files, tx).await });
    let mut lost = Vec::new();
    while let Some((file, fetched)) = rx.recv().await {
        match fetched {
            Ok(_) => panic!("{} fetched from a broken server", file.path.display()),
            Err(damage) => lost.push(damage.to_string()),
        }
    }
    lost
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_endpoint_fails_a_listing_within_the_budget_and_is_named() {
    let server = BrokenServer::start(Breakage::Silent);
    let trail = trail_on(&server).await;
    let started = Instant::now();
    let error = trail.list(&Pruning::default()).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(error, S3Error::NoAnswer { .. }), "{error}");
    // One read timeout at least; the 3 s budget and some slack at most.
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
    let message = error.to_string();
    for part in [
        &format!("no response from {}", server.endpoint),
        "ListObjectsV2",
        "attempt(s)",
        "--endpoint-url",
        "--s3-timeout",
    ] {
        assert!(message.contains(part), "{part} in: {message}");
    }
    assert!(
        S3Stats::get(&trail.stats.retries) >= 1,
        "silence is retried"
    );
    assert!(server.connections.load(std::sync::atomic::Ordering::SeqCst) >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_endpoint_costs_one_budget_not_one_per_object() {
    let server = BrokenServer::start(Breakage::Silent);
    let trail = trail_on(&server).await;
    let files = trail_files((0..12).map(|i| format!("AWSLogs/object-{i:02}.json.gz")));
    let started = Instant::now();
    let lost = fetch_all_lost(&trail, files).await;
    let elapsed = started.elapsed();
    assert_eq!(lost.len(), 12);
    // Three at a time for 3 s each would take 12 s; the first three show the endpoint dead.
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
    let named = format!("no response from {}", server.endpoint);
    assert!(lost.iter().any(|m| m.contains(&named)), "{lost:#?}");
    assert!(
        lost.iter().any(|m| m.contains("not requested")),
        "{lost:#?}"
    );
    assert!(
        S3Stats::get(&trail.stats.get_requests) < 12,
        "{} GETs for 12 objects",
        S3Stats::get(&trail.stats.get_requests)
    );
    assert_eq!(S3Stats::get(&trail.stats.objects_lost), 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_is_retried_then_reported_within_the_budget() {
    let server = BrokenServer::start(Breakage::StopsMidBody {
        content_type: "application/octet-stream",
        first_part: "the first part of a gzip file",
    });
    let trail = trail_on(&server).await;
    let started = Instant::now();
    let lost = fetch_all_lost(&trail, trail_files(["AWSLogs/one.json.gz".to_string()])).await;
    let elapsed = started.elapsed();
    assert_eq!(lost.len(), 1);
    let message = &lost[0];
    assert!(
        message.contains(&format!(
            "the transfer with {} stopped: no bytes for 1 s",
            server.endpoint
        )),
        "{message}"
    );
    assert!(message.contains("GetObject"), "{message}");
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
    assert!(
        S3Stats::get(&trail.stats.retries) >= 1,
        "a stopped body is retried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_whose_body_stops_fails_within_the_budget() {
    // The SDK reads a listing's body itself: its stalled-stream protection has to end it.
    let server = BrokenServer::start(Breakage::StopsMidBody {
        content_type: "application/xml",
        first_part: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult>",
    });
    let trail = trail_on(&server).await;
    let started = Instant::now();
    let error = trail.list(&Pruning::default()).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(error, S3Error::NoAnswer { .. }), "{error}");
    assert!(error.to_string().contains(&server.endpoint), "{error}");
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_on_a_silent_endpoint_fails_within_the_budget_through_both_clients() {
    let server = BrokenServer::start(Breakage::Silent);
    let trail = trail_on(&server).await;
    let started = Instant::now();
    let error = trail.get_if_exists("_ctq/manifest.json").await.unwrap_err();
    assert!(matches!(error, S3Error::NoAnswer { .. }), "{error}");
    assert!(error.to_string().contains("GetObject"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(8));

    // DataFusion's client: no first-byte timeout there, but the budget bounds each request
    // and its retries.
    let store = trail.object_store().unwrap();
    let started = Instant::now();
    let path = object_store::path::Path::from("AWSLogs/_ctq/manifest.json");
    let result = object_store::ObjectStoreExt::get(&store, &path).await;
    let Err(error) = result else {
        panic!("a silent server gives nothing")
    };
    assert!(error.to_string().contains(&server.endpoint), "{error}");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}
