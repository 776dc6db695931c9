//! `ctq ingest` and `--store`: a killed ingest run again ends with every record once; queries
//! over the store; `ctq ddl`.

use std::process::Command;
use std::time::Duration;

use crate::support::*;

/// The article's saved query, as quiet CSV; append a source and `ARTICLE_PARAMS`.
const ARTICLE_QUERY_CSV: [&str; 6] = [
    "query",
    "-f",
    "queries/access-denied.sql",
    "--format",
    "csv",
    "-q",
];

const COUNTS: &str = "SELECT count(*) AS n, count(DISTINCT eventid) AS ids FROM cloudtrail";

fn counts(source: &[&str]) -> String {
    let mut args = vec!["query", "-q", "--format", "csv", COUNTS];
    args.extend_from_slice(source);
    let output = ctq(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    stdout(&output)
}

#[test]
fn a_killed_ingest_run_again_ends_with_every_record_once() {
    // The raw trail holds one event twice; the store holds each once.
    let raw = counts(&["--source", "sample-logs"]);
    let ids = raw
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap()
        .to_string();
    let expected = format!("\"n\",\"ids\"\n{ids},{ids}\n");
    // Kills spread over the time a whole run takes on this machine now, so that some land
    // mid-run however loaded it is.
    let timing = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let whole = ctq(&[
        "ingest",
        "-q",
        "-s",
        "sample-logs",
        "--store",
        timing.path().join("store").to_str().unwrap(),
        "--files-per-commit",
        "3",
    ]);
    assert_eq!(whole.status.code(), Some(0), "{}", stderr(&whole));
    let span_ms = started.elapsed().as_millis() as u64;
    let mut interrupted = 0;
    for percent in [0u64, 10, 25, 40, 55, 70, 85] {
        let delay_ms = span_ms * percent / 100;
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let store = store.to_str().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_ctq"))
            .args(["ingest", "-q", "-s", "sample-logs", "--store", store])
            .args(["--files-per-commit", "3"])
            .current_dir(repo())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap();
        child.wait().unwrap();
        let rerun = ctq(&["ingest", "-s", "sample-logs", "--store", store]);
        assert_eq!(rerun.status.code(), Some(0), "{}", stderr(&rerun));
        // Killed between commits: the rerun found part of the trail stored already.
        let summary = stderr(&rerun);
        if !summary.contains(" 0 unchanged") && !summary.contains(" 0 read") {
            interrupted += 1;
        }
        assert_eq!(
            counts(&["--store", store]),
            expected,
            "killed after {delay_ms} ms"
        );
    }
    assert!(interrupted > 0, "no kill landed in the middle of a run");
}

#[test]
fn the_article_query_runs_on_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let store = store.to_str().unwrap();
    let first = ctq(&["ingest", "-s", "sample-logs", "--store", store]);
    assert_eq!(first.status.code(), Some(0));
    assert!(
        stderr(&first).contains("1 duplicate deliveries dropped"),
        "{}",
        stderr(&first)
    );
    let again = ctq(&["ingest", "-s", "sample-logs", "--store", store]);
    assert!(stderr(&again).contains(" 0 read"), "{}", stderr(&again));

    let run = |source: &[&str]| {
        let mut args = ARTICLE_QUERY_CSV.to_vec();
        args.extend_from_slice(source);
        args.extend_from_slice(&ARTICLE_PARAMS);
        stdout(&ctq(&args))
    };
    let from_store = run(&["--store", store]);
    assert_eq!(from_store, run(&["--source", "sample-logs"]));
    assert!(from_store.contains("0406f0c1-47a8-4f71-8a94-18267b84042a"));

    let explain = ctq(&["explain", "--store", store, "--format", "json", "-q"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&explain)).unwrap();
    assert_eq!(
        report["excluded"]["duplicates"], 0,
        "the store holds each event once"
    );
}

#[test]
fn a_folder_that_is_not_a_store_says_how_to_make_one() {
    let output = ctq(&["query", "SELECT 1", "--store", "sample-logs"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("ctq ingest --source"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn ddl_for_each_engine() {
    for engine in ["athena", "trino", "spark"] {
        let output = ctq(&[
            "ddl",
            "--engine",
            engine,
            "--location",
            "s3://acme-ctq/store",
        ]);
        assert_eq!(output.status.code(), Some(0));
        insta::assert_snapshot!(format!("ddl_{engine}"), stdout(&output));
    }
}

/// A child process killed when dropped, so a failed assertion leaves no server behind.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `ctq`, killing it if it has not finished within `limit`.
fn ctq_within(args: &[&str], limit: Duration) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ctq"))
        .args(args)
        .current_dir(repo())
        .env_remove("CTQ_SOURCE")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve(args: &[&str]) -> Server {
    Server(
        Command::new(env!("CARGO_BIN_EXE_ctq"))
            .args(args)
            .stderr(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    )
}

#[test]
fn the_article_query_runs_on_a_ballista_cluster_of_ctq_processes() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let store = store.to_str().unwrap();
    assert_eq!(
        ctq(&["ingest", "-q", "-s", "sample-logs", "--store", store])
            .status
            .code(),
        Some(0)
    );
    let (scheduler, flight, grpc) = (free_port(), free_port(), free_port());
    let scheduler_address = format!("127.0.0.1:{scheduler}");
    let _scheduler = serve(&["cluster", "scheduler", "--bind", &scheduler_address]);
    // An executor that cannot reach its scheduler exits; on a loaded machine the scheduler may
    // take a while to listen.
    let listening = (0..600).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        std::net::TcpStream::connect(&scheduler_address).is_ok()
    });
    assert!(
        listening,
        "the scheduler never listened on {scheduler_address}"
    );
    let _executor = serve(&[
        "cluster",
        "executor",
        "--scheduler",
        &scheduler_address,
        "--bind-host",
        "127.0.0.1",
        "--port",
        &flight.to_string(),
        "--grpc-port",
        &grpc.to_string(),
    ]);
    let url = format!("df://{scheduler_address}");
    let mut args = ARTICLE_QUERY_CSV.to_vec();
    args.extend_from_slice(&ARTICLE_PARAMS);
    let local = stdout(&ctq(&[&args[..], &["--store", store]].concat()));
    // The processes take a moment to start and find each other.
    let mut last = String::new();
    for _ in 0..60 {
        // A job with no executor to run it waits for one: bound each attempt.
        let output = ctq_within(
            &[&args[..], &["--store", store, "--cluster", &url]].concat(),
            Duration::from_mins(1),
        );
        if output.status.success() {
            assert_eq!(stdout(&output), local);
            assert!(local.contains("14e5e77c-f682-45e1-8c88-12d15af293dd"));
            return;
        }
        last = stderr(&output);
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("the cluster never answered: {last}");
}

#[test]
fn a_killed_reingest_of_a_changed_file_loses_none_of_its_neighbours() {
    for delay_ms in [10, 25, 40, 60, 90] {
        let dir = tempfile::tempdir().unwrap();
        let trail = dir.path().join("trail");
        let store = dir.path().join("store");
        let (trail_arg, store_arg) = (trail.to_str().unwrap(), store.to_str().unwrap());
        assert!(
            Command::new("cp")
                .args(["-r", "sample-logs", trail_arg])
                .current_dir(repo())
                .status()
                .unwrap()
                .success()
        );
        // One commit: data files hold the rows of many sources.
        let first = ctq(&["ingest", "-q", "-s", trail_arg, "--store", store_arg]);
        assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));

        // A delivered file changes: its data files are retired and their other sources re-read.
        let day = trail.join("AWSLogs/123456789012/CloudTrail/us-east-1/2019/10/29");
        let mut files: Vec<_> = std::fs::read_dir(&day)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let donor = std::fs::read(files.last().unwrap()).unwrap();
        std::fs::write(&files[0], [donor.as_slice(), donor.as_slice()].concat()).unwrap();

        let mut child = Command::new(env!("CARGO_BIN_EXE_ctq"))
            .args(["ingest", "-q", "-s", trail_arg, "--store", store_arg])
            .args(["--files-per-commit", "1"])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap();
        child.wait().unwrap();
        let rerun = ctq(&["ingest", "-q", "-s", trail_arg, "--store", store_arg]);
        assert_eq!(rerun.status.code(), Some(0), "{}", stderr(&rerun));

        let raw = counts(&["--source", trail_arg]);
        let distinct = raw.lines().nth(1).unwrap().split(',').nth(1).unwrap();
        assert_eq!(
            counts(&["--store", store_arg]),
            format!("\"n\",\"ids\"\n{distinct},{distinct}\n"),
            "killed after {delay_ms} ms"
        );
    }
}
