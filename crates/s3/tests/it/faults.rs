//! Throttling is retried, a body cut short is retried then reported, denials say what to grant,
//! and a missing bucket, an unknown profile or no credentials at all say what to do next.

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
        .unwrap()
        .list(&Pruning::default())
        .await
        .unwrap_err();
    assert!(matches!(error, S3Error::NoSuchBucket { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("bucket no-such-bucket"), "{message}");
    // A trail's bucket is not ctq's to create.
    assert!(!message.contains("aws s3 mb"), "{message}");
    assert!(!format!("{error:?}").contains(SECRET));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_store_bucket_is_an_error_that_says_how_to_create_it() {
    let server = server_with(&[]).await;
    let location: ctq_s3::S3Location = "s3://no-store-bucket/store/".parse().unwrap();
    let store = ctq_s3::S3Trail::connect(location, options(&server))
        .await
        .unwrap();
    // Not "no manifest yet": that would have a query call the bucket an empty store.
    let error = store.get_if_exists("_ctq/manifest.json").await.unwrap_err();
    assert!(
        matches!(error, S3Error::NoSuchStoreBucket { .. }),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains("bucket no-store-bucket"), "{message}");
    assert!(
        message.contains(&format!(
            "aws s3 mb s3://no-store-bucket --region us-east-1 --endpoint-url {}",
            server.endpoint
        )),
        "{message}"
    );
    let error = store.list_all().await.unwrap_err();
    assert!(
        matches!(error, S3Error::NoSuchStoreBucket { .. }),
        "{error}"
    );
}

/// Profile files in a temporary folder: `[profile alpha]` in the config file, `[beta]` (with
/// the test server's keys) in the credentials file.
fn profile_files() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let config = ctq_testkit::write(
        dir.path(),
        "config",
        b"[profile alpha]\nregion = eu-west-1\n",
    );
    let credentials = ctq_testkit::write(
        dir.path(),
        "credentials",
        format!(
            "[beta]\naws_access_key_id = {}\naws_secret_access_key = {SECRET}\n",
            ctq_s3_testserver::ACCESS_KEY
        )
        .as_bytes(),
    );
    (dir, config, credentials)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_neither_file_defines_is_refused_naming_it_and_the_files() {
    let server = server_with(&trail()[..2]).await;
    let (_dir, config, credentials) = profile_files();
    let location: ctq_s3::S3Location = format!("s3://{BUCKET}/").parse().unwrap();
    let with_profile = |profile: &str| ctq_s3::S3Options {
        profile: Some(profile.to_string()),
        config_file: Some(config.clone()),
        credentials_file: Some(credentials.clone()),
        static_credentials: None,
        ..options(&server)
    };
    let error = ctq_s3::S3Trail::connect(location.clone(), with_profile("gamma"))
        .await
        .unwrap_err();
    assert!(matches!(error, S3Error::ProfileNotFound { .. }), "{error}");
    let message = error.to_string();
    for part in [
        "\"gamma\"",
        &config.display().to_string(),
        &credentials.display().to_string(),
        "they define: alpha, beta",
        "aws configure --profile gamma",
    ] {
        assert!(message.contains(part), "{part} in: {message}");
    }
    assert!(!message.contains(SECRET));

    // A profile either file defines is taken, from the config file or the credentials file.
    for profile in ["alpha", "beta"] {
        ctq_s3::S3Trail::connect(location.clone(), with_profile(profile))
            .await
            .unwrap_or_else(|e| panic!("{profile}: {e}"));
    }
}

#[test]
fn a_profile_is_looked_for_in_the_files_the_environment_names() {
    const NAME: &str = "faults::a_profile_is_looked_for_in_the_files_the_environment_names";
    if !running_alone() {
        let (dir, config, credentials) = profile_files();
        return rerun_alone(
            NAME,
            &[
                ("HOME", dir.path().as_os_str()),
                ("AWS_CONFIG_FILE", config.as_os_str()),
                ("AWS_SHARED_CREDENTIALS_FILE", credentials.as_os_str()),
                ("AWS_PROFILE", "delta".as_ref()),
                ("AWS_EC2_METADATA_DISABLED", "true".as_ref()),
            ],
        );
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let server = server_with(&trail()[..2]).await;
        let location: ctq_s3::S3Location = format!("s3://{BUCKET}/").parse().unwrap();
        // AWS_PROFILE names it, as the SDK would read it; the files are the environment's.
        let options = ctq_s3::S3Options {
            static_credentials: None,
            ..options(&server)
        };
        let error = ctq_s3::S3Trail::connect(location, options)
            .await
            .unwrap_err();
        let message = error.to_string();
        let config = std::env::var("AWS_CONFIG_FILE").unwrap();
        let credentials = std::env::var("AWS_SHARED_CREDENTIALS_FILE").unwrap();
        for part in ["\"delta\"", &config, &credentials, "alpha, beta"] {
            assert!(message.contains(part), "{part} in: {message}");
        }
    });
}

/// Runs a listing with the environment's credential chain, which finds nothing, and checks the
/// error and how long the chain took.
fn no_credentials_alone(within: std::time::Duration) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let server = server_with(&trail()[..2]).await;
        let location: ctq_s3::S3Location = format!("s3://{BUCKET}/").parse().unwrap();
        let options = ctq_s3::S3Options {
            static_credentials: None,
            ..options(&server)
        };
        let trail = ctq_s3::S3Trail::connect(location, options).await.unwrap();
        let started = std::time::Instant::now();
        let error = trail.list(&Pruning::default()).await.unwrap_err();
        let elapsed = started.elapsed();
        assert!(matches!(error, S3Error::NoCredentials { .. }), "{error}");
        let message = error.to_string();
        let config = std::env::var("AWS_CONFIG_FILE").unwrap();
        for part in [
            "no AWS credentials",
            "AWS_ACCESS_KEY_ID",
            "profile \"default\"",
            &config,
            "SSO",
            "web identity",
            "container",
            "EC2 instance metadata",
            "aws configure",
            "--profile",
        ] {
            assert!(message.contains(part), "{part} in: {message}");
        }
        assert!(elapsed < within, "the chain took {elapsed:?}");
        // Not retried: trying the chain again finds nothing more.
        assert_eq!(S3Stats::get(&trail.stats.retries), 0);
        assert_eq!(server.counts.lists(), 0, "nothing is sent unsigned");
    });
}

#[test]
fn without_credentials_the_error_names_the_sources_tried_and_how_to_configure_some() {
    const NAME: &str =
        "faults::without_credentials_the_error_names_the_sources_tried_and_how_to_configure_some";
    if running_alone() {
        return no_credentials_alone(std::time::Duration::from_secs(3));
    }
    let dir = tempfile::tempdir().unwrap();
    let config = ctq_testkit::write(dir.path(), "config", b"");
    let credentials = ctq_testkit::write(dir.path(), "credentials", b"");
    rerun_alone(
        NAME,
        &[
            ("HOME", dir.path().as_os_str()),
            ("AWS_CONFIG_FILE", config.as_os_str()),
            ("AWS_SHARED_CREDENTIALS_FILE", credentials.as_os_str()),
            ("AWS_EC2_METADATA_DISABLED", "true".as_ref()),
        ],
    );
}

#[test]
fn an_instance_metadata_service_that_does_not_answer_adds_seconds_not_minutes() {
    const NAME: &str =
        "faults::an_instance_metadata_service_that_does_not_answer_adds_seconds_not_minutes";
    if running_alone() {
        // The SDK's IMDS client: 1 s to connect, 1 s to answer, timeouts not retried.
        return no_credentials_alone(std::time::Duration::from_secs(8));
    }
    let imds = BrokenServer::start(Breakage::Silent);
    let dir = tempfile::tempdir().unwrap();
    let config = ctq_testkit::write(dir.path(), "config", b"");
    let credentials = ctq_testkit::write(dir.path(), "credentials", b"");
    rerun_alone(
        NAME,
        &[
            ("HOME", dir.path().as_os_str()),
            ("AWS_CONFIG_FILE", config.as_os_str()),
            ("AWS_SHARED_CREDENTIALS_FILE", credentials.as_os_str()),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.endpoint.as_ref()),
        ],
    );
    assert!(
        imds.connections.load(std::sync::atomic::Ordering::SeqCst) >= 1,
        "the chain asked the metadata service"
    );
}
