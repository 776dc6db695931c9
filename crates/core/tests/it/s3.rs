//! `--source s3://...` against a real S3 server on loopback, credentials from the environment.

use ctq_s3_testserver::{ACCESS_KEY, SECRET_KEY, TestS3};

use crate::support::*;

/// `ctq args…` pointed at the test server, with its credentials in the environment and no AWS
/// configuration of the machine's.
fn ctq_s3_command(server: &TestS3, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ctq"));
    command
        .args(args)
        .args([
            "--endpoint-url",
            &server.endpoint,
            "--path-style",
            "--region",
            "us-east-1",
        ])
        .current_dir(repo())
        .env_remove("CTQ_SOURCE")
        .env_remove("AWS_PROFILE")
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_CONFIG_FILE", "/nonexistent/ctq-test-config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/ctq-test-credentials",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
    command
}

async fn ctq_with_s3(server: &TestS3, args: &[&str]) -> std::process::Output {
    let mut command = ctq_s3_command(server, args);
    tokio::task::spawn_blocking(move || command.output().expect("ctq runs"))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_articles_query_over_s3_matches_the_local_run() {
    let server = TestS3::start().await;
    server.create_bucket("trail");
    server.put_tree("trail", "", &repo().join("sample-logs"));
    let mut query = vec![
        "query",
        "-f",
        "queries/access-denied.sql",
        "--format",
        "csv",
    ];
    query.extend_from_slice(&ARTICLE_PARAMS);
    let remote = ctq_with_s3(
        &server,
        &[&query[..], &["--source", "s3://trail/AWSLogs/"]].concat(),
    )
    .await;
    assert_eq!(remote.status.code(), Some(0), "{}", stderr(&remote));
    let local = ctq(&[&query[..], &["--source", "sample-logs"]].concat());
    assert_eq!(stdout(&remote), stdout(&local));
    assert_eq!(
        stdout(&remote).lines().count(),
        3,
        "header and the article's two rows"
    );
    let err = stderr(&remote);
    assert!(
        err.contains("s3://trail/AWSLogs/:")
            && err.contains("GET requests")
            && err.contains("0 objects lost"),
        "{err}"
    );
    assert!(!err.contains(SECRET_KEY) && !stdout(&remote).contains(SECRET_KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_listing_says_which_permission_is_missing() {
    let server = TestS3::start().await;
    server.create_bucket("trail");
    server.faults.deny_lists();
    let output = ctq_with_s3(&server, &["denials", "--source", "s3://trail/AWSLogs/"]).await;
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("s3:ListBucket") && err.contains("trail") && err.contains("docs/s3.md"),
        "{err}"
    );
    assert!(!err.contains(SECRET_KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_ingested_from_s3_equals_one_ingested_from_disk_and_a_rerun_fetches_nothing() {
    let server = TestS3::start().await;
    server.create_bucket("trail");
    server.put_tree("trail", "", &repo().join("sample-logs"));
    let dir = tempfile::tempdir().unwrap();
    let (remote_store, local_store) = (dir.path().join("remote"), dir.path().join("local"));
    let (remote_store, local_store) = (
        remote_store.to_str().unwrap(),
        local_store.to_str().unwrap(),
    );

    let ingest = [
        "ingest",
        "--source",
        "s3://trail/AWSLogs/",
        "--store",
        remote_store,
    ];
    let first = ctq_with_s3(&server, &ingest).await;
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("1 duplicate deliveries dropped"),
        "{}",
        stderr(&first)
    );
    let local = ctq(&[
        "ingest",
        "-q",
        "--source",
        "sample-logs",
        "--store",
        local_store,
    ]);
    assert_eq!(local.status.code(), Some(0));

    let rows =
        "SELECT eventid, eventtime, errorcode, useridentity.arn FROM cloudtrail ORDER BY eventid";
    let read = |store: &str| {
        stdout(&ctq(&[
            "query", "-q", "--format", "csv", rows, "--store", store,
        ]))
    };
    assert_eq!(read(remote_store), read(local_store));
    assert!(read(remote_store).lines().count() > 60);

    server.reset_counts();
    let again = ctq_with_s3(&server, &ingest).await;
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(stderr(&again).contains(" 0 read"), "{}", stderr(&again));
    assert_eq!(server.counts.gets(), 0, "an unchanged trail is only listed");
}

const STORE_ROWS: &str = "SELECT eventid, eventtime, errorcode, useridentity.arn, event_account, event_date FROM cloudtrail ORDER BY eventid";

/// Rows of `sql` over the store at `store`, as CSV; `store` on the test server when it is an
/// s3:// URL.
async fn store_rows(server: &TestS3, sql: &str, store: &str) -> String {
    let output = ctq_with_s3(
        server,
        &["query", "-q", "--format", "csv", sql, "--store", store],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stdout(&output)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_on_s3_holds_what_a_local_store_holds_and_answers_the_same() {
    let server = TestS3::start().await;
    server.create_bucket("lake");
    let dir = tempfile::tempdir().unwrap();
    let local_store = dir.path().join("local");
    let local_store = local_store.to_str().unwrap();
    let remote_store = "s3://lake/cloudtrail-store";

    let ingest = ["ingest", "--source", "sample-logs", "--store", remote_store];
    let first = ctq_with_s3(&server, &ingest).await;
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("1 duplicate deliveries dropped"),
        "{}",
        stderr(&first)
    );
    let local = ctq(&["ingest", "-q", "-s", "sample-logs", "--store", local_store]);
    assert_eq!(local.status.code(), Some(0), "{}", stderr(&local));

    let remote_rows = store_rows(&server, STORE_ROWS, remote_store).await;
    assert_eq!(
        remote_rows,
        store_rows(&server, STORE_ROWS, local_store).await
    );
    assert!(remote_rows.lines().count() > 60);

    let mut article = vec![
        "query",
        "-q",
        "-f",
        "queries/access-denied.sql",
        "--format",
        "csv",
        "--store",
        remote_store,
    ];
    article.extend_from_slice(&ARTICLE_PARAMS);
    let from_s3 = ctq_with_s3(&server, &article).await;
    assert_eq!(from_s3.status.code(), Some(0), "{}", stderr(&from_s3));
    let raw = ctq(&[
        &article[..6],
        &["--source", "sample-logs"],
        &ARTICLE_PARAMS[..],
    ]
    .concat());
    assert_eq!(stdout(&from_s3), stdout(&raw));
    assert_eq!(stdout(&from_s3).lines().count(), 3);

    // A rerun over an unchanged trail lists the store and reads its manifest, and writes nothing.
    server.reset_counts();
    let again = ctq_with_s3(&server, &ingest).await;
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(stderr(&again).contains(" 0 read"), "{}", stderr(&again));
    assert_eq!(server.counts.gets(), 1, "only the manifest is read");
    assert_eq!(
        server
            .counts
            .other
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_ingest_into_s3_run_again_ends_with_every_record_once() {
    let server = TestS3::start().await;
    server.create_bucket("lake");
    let counts = "SELECT count(*) AS n, count(DISTINCT eventid) AS ids FROM cloudtrail";
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference");
    let reference = reference.to_str().unwrap();
    assert_eq!(
        ctq(&["ingest", "-q", "-s", "sample-logs", "--store", reference])
            .status
            .code(),
        Some(0)
    );
    let expected = store_rows(&server, counts, reference).await;
    // Kills spread over the time a whole run takes on this machine now, so that some land
    // mid-run however loaded it is.
    let started = std::time::Instant::now();
    let whole = ctq_with_s3(
        &server,
        &[
            "ingest",
            "-q",
            "-s",
            "sample-logs",
            "--store",
            "s3://lake/timing",
            "--files-per-commit",
            "3",
        ],
    )
    .await;
    assert_eq!(whole.status.code(), Some(0), "{}", stderr(&whole));
    let span_ms = started.elapsed().as_millis() as u64;
    let mut interrupted = 0;
    for (run, percent) in [5u64, 25, 45, 65, 85].into_iter().enumerate() {
        let delay_ms = span_ms * percent / 100;
        let store = format!("s3://lake/store-{run}");
        let mut command = ctq_s3_command(
            &server,
            &["ingest", "-q", "-s", "sample-logs", "--store", &store],
        );
        command.args(["--files-per-commit", "3"]);
        let mut child = command.spawn().unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
        child.kill().unwrap();
        child.wait().unwrap();
        let rerun = ctq_with_s3(&server, &["ingest", "-s", "sample-logs", "--store", &store]).await;
        assert_eq!(rerun.status.code(), Some(0), "{}", stderr(&rerun));
        let summary = stderr(&rerun);
        if !summary.contains(" 0 unchanged") && !summary.contains(" 0 read") {
            interrupted += 1;
        }
        assert_eq!(
            store_rows(&server, counts, &store).await,
            expected,
            "killed after {delay_ms} ms: {summary}"
        );
    }
    assert!(interrupted > 0, "no kill landed in the middle of a run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_on_s3_drops_unlisted_files_repairs_damaged_ones_and_refuses_a_foreign_prefix() {
    let server = TestS3::start().await;
    server.create_bucket("lake");
    server.put_tree("lake", "", &repo().join("sample-logs"));
    let store = "s3://lake/store";
    let ingest = ["ingest", "-s", "sample-logs", "--store", store];
    let first = ctq_with_s3(&server, &ingest).await;
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let before = store_rows(&server, STORE_ROWS, store).await;

    // A data file published by a run killed before its manifest commit (here, not Parquet at
    // all: a query would fail on it if it stayed).
    server.put(
        "lake",
        "store/event_account=123456789012/event_region=us-east-1/event_date=2019-10-29/part-999999-00001.parquet",
        b"not parquet",
    );
    let again = ctq_with_s3(&server, &ingest).await;
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("1 leftover files removed"),
        "{}",
        stderr(&again)
    );
    assert_eq!(store_rows(&server, STORE_ROWS, store).await, before);

    // A data object cut short: queries name it and count the rest (exit 3), ingest replaces it.
    let manifest: serde_json::Value =
        serde_json::from_slice(&server.read("lake", "store/_ctq/manifest.json").unwrap()).unwrap();
    let name = manifest["files"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    let key = format!("store/{name}");
    let object = server.read("lake", &key).unwrap();
    server.put("lake", &key, &object[..object.len() / 2]);
    let damaged = ctq_with_s3(&server, &["query", "-q", STORE_ROWS, "--store", store]).await;
    assert_eq!(damaged.status.code(), Some(3), "{}", stderr(&damaged));
    assert!(
        stderr(&damaged).contains(&format!("s3://lake/{key}")),
        "{}",
        stderr(&damaged)
    );
    let repaired = ctq_with_s3(&server, &ingest).await;
    assert!(
        stderr(&repaired).contains("repaired data file"),
        "{}",
        stderr(&repaired)
    );
    assert_eq!(store_rows(&server, STORE_ROWS, store).await, before);

    // The trail's own prefix is not a store: ingesting into it would mix the two.
    let foreign = ctq_with_s3(
        &server,
        &[
            "ingest",
            "-s",
            "sample-logs",
            "--store",
            "s3://lake/AWSLogs",
        ],
    )
    .await;
    assert_eq!(foreign.status.code(), Some(1));
    assert!(
        stderr(&foreign).contains("s3://lake/AWSLogs")
            && stderr(&foreign).contains("no ctq manifest"),
        "{}",
        stderr(&foreign)
    );
    let not_a_store = ctq_with_s3(&server, &["denials", "--store", "s3://lake/AWSLogs"]).await;
    assert_eq!(not_a_store.status.code(), Some(1));
    assert!(
        stderr(&not_a_store).contains("is not a ctq store"),
        "{}",
        stderr(&not_a_store)
    );
}
