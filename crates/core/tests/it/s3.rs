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
