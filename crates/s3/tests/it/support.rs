use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use ctq_ingest::TrailFile;
use ctq_s3::{S3Location, S3Options, S3Trail};
use ctq_s3_testserver::{TestS3, TrailObject, synthetic_trail};

pub const BUCKET: &str = "trail-bucket";
pub const SECRET: &str = ctq_s3_testserver::SECRET_KEY;

/// Three days, two accounts (the first in an organization folder), two regions, a file every
/// 20 minutes: 864 objects.
pub fn trail() -> Vec<TrailObject> {
    synthetic_trail(
        (2019, 10, 28),
        3,
        &["111111111111", "222222222222"],
        &["us-east-1", "eu-west-1"],
        20,
        Some("o-a1b2c3d4e5"),
    )
}

pub async fn server_with(objects: &[TrailObject]) -> TestS3 {
    let server = TestS3::start().await;
    server.create_bucket(BUCKET);
    for object in objects {
        server.put(BUCKET, &object.key, &object.bytes);
    }
    server
}

/// Options for the S3-compatible server at `endpoint`, signing with the test server's keys.
pub fn options_at(endpoint: &str) -> S3Options {
    S3Options {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.to_string()),
        path_style: true,
        static_credentials: Some((ctq_s3_testserver::ACCESS_KEY.into(), SECRET.into())),
        retry_base_delay: Duration::from_millis(5),
        max_in_flight: 8,
        ..S3Options::default()
    }
}

pub fn options(server: &TestS3) -> S3Options {
    options_at(&server.endpoint)
}

pub async fn trail_at(server: &TestS3, prefix: &str) -> S3Trail {
    let location: S3Location = format!("s3://{BUCKET}/{prefix}").parse().unwrap();
    S3Trail::connect(location, options(server))
        .await
        .expect("no profile is named")
}

/// Trail files to fetch, as a listing would name them.
pub fn trail_files(keys: impl IntoIterator<Item = String>) -> Vec<TrailFile> {
    keys.into_iter()
        .map(|key| TrailFile {
            path: PathBuf::from(format!("s3://{BUCKET}/{key}")),
            partition: ctq_ingest::path::Partition::default(),
        })
        .collect()
}

pub fn ms(y: i32, m: u32, d: u32, hh: u32, mm: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|day| day.and_hms_opt(hh, mm, 0))
        .expect("a calendar time")
        .and_utc()
        .timestamp_millis()
}

/// How a [`BrokenServer`] answers each connection.
#[derive(Debug, Clone, Copy)]
pub enum Breakage {
    /// Accepts the connection and never writes a byte.
    Silent,
    /// Reads the request, answers `200` with the length of a whole body, sends its first part
    /// and nothing more.
    StopsMidBody {
        content_type: &'static str,
        first_part: &'static str,
    },
}

/// A server on loopback (a std listener in a thread) that breaks every connection the same
/// way and keeps it open until dropped: what a black-holed path, a hung proxy or a crashed
/// server looks like to a client.
pub struct BrokenServer {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Connections accepted.
    pub connections: Arc<AtomicUsize>,
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    acceptor: Option<std::thread::JoinHandle<()>>,
}

impl BrokenServer {
    pub fn start(breakage: Breakage) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let address = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let (stopped, count) = (stop.clone(), connections.clone());
        let acceptor = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                let stopped = stopped.clone();
                std::thread::spawn(move || serve_broken(stream, breakage, &stopped));
            }
        });
        Self {
            endpoint: format!("http://{address}"),
            connections,
            address,
            stop,
            acceptor: Some(acceptor),
        }
    }
}

fn serve_broken(mut stream: TcpStream, breakage: Breakage, stop: &AtomicBool) {
    if let Breakage::StopsMidBody {
        content_type,
        first_part,
    } = breakage
    {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let mut request = Vec::new();
        let mut buffer = [0u8; 4096];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buffer) {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&buffer[..n]),
            }
        }
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
            first_part.len() * 100
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(first_part.as_bytes());
        let _ = stream.flush();
    }
    // Held open, silent, until the server stops.
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for BrokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the acceptor, which then sees the flag.
        let _ = TcpStream::connect(self.address);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// Options that give up on a silent server quickly: 1 s read and connect timeouts, a 3 s budget.
pub fn impatient_options(endpoint: &str) -> S3Options {
    S3Options {
        max_in_flight: 3,
        ..options_at(endpoint)
    }
    .with_timeout(Duration::from_secs(1))
}

/// The environment variable that tells a test it runs as the child of [`rerun_alone`].
const ALONE: &str = "CTQ_S3_TEST_ALONE";

/// Whether this test runs as the child of [`rerun_alone`], in the environment it was given.
pub fn running_alone() -> bool {
    std::env::var_os(ALONE).is_some()
}

/// Runs the test `name` (`module::test`) of this binary again in a child process whose
/// environment is only `env`, and fails unless it passes. The AWS credential chain reads the
/// process's environment, which tests running side by side in threads cannot change for one
/// of them alone.
pub fn rerun_alone(name: &str, env: &[(&str, &std::ffi::OsStr)]) {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args([name, "--exact", "--nocapture", "--test-threads", "1"])
        .env_clear()
        .env(ALONE, "1");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("the test binary runs again");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{name} alone failed:\n{text}");
    assert!(text.contains("1 passed"), "{name} did not run:\n{text}");
}
