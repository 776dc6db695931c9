//! `--source s3://...` against a real S3 server on loopback, credentials from the environment.

use ctq_s3_testserver::{ACCESS_KEY, SECRET_KEY, TestS3};

use crate::support::*;

async fn ctq_with_s3(server: &TestS3, args: &[&str]) -> std::process::Output {
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
