//! An S3 server for tests: `s3s-fs` (a real S3 protocol implementation over a folder) serving
//! on `127.0.0.1` with an OS-chosen port, in the test's own process.
//!
//! It owns what tests need to watch and disturb the traffic: counts of LIST and GET requests as
//! the server saw them, `503 SlowDown` answers to chosen GETs, and bodies cut short; and it answers
//! requests on a missing bucket `NoSuchBucket`, as S3 does. It is not a
//! mock of the AWS SDK: clients talk HTTP to it like to any S3-compatible store.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::{Datelike, NaiveDate};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use s3s::service::{S3Service, S3ServiceBuilder};

type Body = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// The only credentials the server accepts.
pub const ACCESS_KEY: &str = "AKIACTQTESTKEY000001";
pub const SECRET_KEY: &str = "ctq-test-secret-never-printed";

/// Requests as the server counted them.
#[derive(Debug, Default)]
pub struct Counts {
    pub list: AtomicU64,
    pub get: AtomicU64,
    pub other: AtomicU64,
}

impl Counts {
    pub fn lists(&self) -> u64 {
        self.list.load(Ordering::SeqCst)
    }

    pub fn gets(&self) -> u64 {
        self.get.load(Ordering::SeqCst)
    }
}

/// Faults to inject, by object key.
#[derive(Debug, Default)]
pub struct Faults {
    /// Keys whose next N GETs are answered `503 SlowDown`.
    slow_down: Mutex<HashMap<String, u32>>,
    /// Keys whose body is always cut to half its length, under a full Content-Length.
    cut_short: Mutex<HashSet<String>>,
    /// Answer every listing `403 AccessDenied`.
    deny_lists: std::sync::atomic::AtomicBool,
}

impl Faults {
    pub fn slow_down(&self, key: &str, times: u32) {
        self.slow_down
            .lock()
            .unwrap()
            .insert(key.to_string(), times);
    }

    pub fn cut_short(&self, key: &str) {
        self.cut_short.lock().unwrap().insert(key.to_string());
    }

    pub fn deny_lists(&self) {
        self.deny_lists.store(true, Ordering::SeqCst);
    }

    fn take_slow_down(&self, key: &str) -> bool {
        let mut map = self.slow_down.lock().unwrap();
        match map.get_mut(key) {
            Some(left) if *left > 0 => {
                *left -= 1;
                true
            }
            _ => false,
        }
    }

    fn is_cut(&self, key: &str) -> bool {
        self.cut_short.lock().unwrap().contains(key)
    }
}

/// A running server; stops when dropped.
pub struct TestS3 {
    /// `http://127.0.0.1:PORT`, for path-style addressing.
    pub endpoint: String,
    pub counts: Arc<Counts>,
    pub faults: Arc<Faults>,
    root: Root,
    server: tokio::task::JoinHandle<()>,
}

/// The folder served: a temporary one for tests, or one given (each subfolder a bucket).
enum Root {
    Temporary(tempfile::TempDir),
    Given(std::path::PathBuf),
}

impl Root {
    fn path(&self) -> &Path {
        match self {
            Root::Temporary(dir) => dir.path(),
            Root::Given(path) => path,
        }
    }
}

impl Drop for TestS3 {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestS3 {
    /// Starts the server on the current tokio runtime, over a new temporary folder.
    pub async fn start() -> Self {
        let root = tempfile::tempdir().expect("a temporary folder for the server");
        Self::serve(Root::Temporary(root), 0).await
    }

    /// Serves an existing folder, whose subfolders are buckets, on `port` (0: any free port).
    pub async fn start_at(root: &Path, port: u16) -> Self {
        Self::serve(Root::Given(root.to_path_buf()), port).await
    }

    async fn serve(root: Root, port: u16) -> Self {
        let fs = s3s_fs::FileSystem::new(root.path()).expect("s3s-fs over the folder");
        let mut builder = S3ServiceBuilder::new(fs);
        // Requests are checked against SigV4 with these keys, as S3 checks them.
        builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("a loopback port");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let counts = Arc::new(Counts::default());
        let faults = Arc::new(Faults::default());
        let (c, f) = (counts.clone(), faults.clone());
        let buckets = Arc::new(root.path().to_path_buf());
        let server = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let (service, counts, faults) = (service.clone(), c.clone(), f.clone());
                let buckets = buckets.clone();
                tokio::spawn(async move {
                    let handler = hyper::service::service_fn(move |req| {
                        let server = Server {
                            service: service.clone(),
                            counts: counts.clone(),
                            faults: faults.clone(),
                            buckets: buckets.clone(),
                        };
                        handle(server, req)
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(socket), handler)
                        .await;
                });
            }
        });
        Self {
            endpoint,
            counts,
            faults,
            root,
            server,
        }
    }

    /// Stores an object by writing it where s3s-fs keeps it.
    pub fn put(&self, bucket: &str, key: &str, bytes: &[u8]) {
        let path = self.root.path().join(bucket).join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    /// The object `key` as s3s-fs keeps it, if there is one.
    pub fn read(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        std::fs::read(self.root.path().join(bucket).join(key)).ok()
    }

    /// Creates an empty bucket.
    pub fn create_bucket(&self, bucket: &str) {
        std::fs::create_dir_all(self.root.path().join(bucket)).unwrap();
    }

    /// Uploads every file under `dir` as `prefix` + its relative path.
    pub fn put_tree(&self, bucket: &str, prefix: &str, dir: &Path) -> usize {
        let mut count = 0;
        let mut stack = vec![dir.to_path_buf()];
        while let Some(folder) = stack.pop() {
            for entry in std::fs::read_dir(&folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let relative = path
                        .strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/");
                    self.put(
                        bucket,
                        &format!("{prefix}{relative}"),
                        &std::fs::read(&path).unwrap(),
                    );
                    count += 1;
                }
            }
        }
        count
    }

    pub fn reset_counts(&self) {
        self.counts.list.store(0, Ordering::SeqCst);
        self.counts.get.store(0, Ordering::SeqCst);
        self.counts.other.store(0, Ordering::SeqCst);
    }
}

/// The object key of a path-style GET (`/bucket/key`), if the request is one.
fn object_key(req: &Request<Incoming>) -> Option<String> {
    let path = req.uri().path().trim_start_matches('/');
    let (_, key) = path.split_once('/')?;
    (!key.is_empty()).then(|| percent_decode(key))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// What one connection's requests are served with.
struct Server {
    service: S3Service,
    counts: Arc<Counts>,
    faults: Arc<Faults>,
    /// The folder whose subfolders are the buckets.
    buckets: Arc<std::path::PathBuf>,
}

fn error_response(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    Response::builder()
        .status(status)
        .header("content-type", "application/xml")
        .body(full(xml))
        .unwrap()
}

async fn handle(server: Server, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let Server {
        service,
        counts,
        faults,
        buckets,
    } = server;
    let is_get = req.method() == hyper::Method::GET;
    let is_list = is_get && req.uri().query().is_some_and(|q| q.contains("list-type=2"));
    let key = if is_get && !is_list {
        object_key(&req)
    } else {
        None
    };
    if is_list {
        counts.list.fetch_add(1, Ordering::SeqCst);
    } else if key.is_some() {
        counts.get.fetch_add(1, Ordering::SeqCst);
    } else {
        counts.other.fetch_add(1, Ordering::SeqCst);
    }
    if is_list && faults.deny_lists.load(Ordering::SeqCst) {
        return Ok(error_response(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Access Denied",
        ));
    }
    // S3 answers any request on a missing bucket NoSuchBucket; s3s-fs answers a GET of an object
    // in one NoSuchKey, which would let a client take a missing bucket for an empty one.
    let bucket = req.uri().path().trim_start_matches('/').split('/').next();
    let creates_bucket =
        req.method() == hyper::Method::PUT && !req.uri().path().trim_matches('/').contains('/');
    if let Some(bucket) = bucket.filter(|b| !b.is_empty())
        && !creates_bucket
        && !buckets.join(percent_decode(bucket)).is_dir()
    {
        return Ok(error_response(
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist",
        ));
    }
    if let Some(key) = &key
        && faults.take_slow_down(key)
    {
        return Ok(error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "SlowDown",
            "Please reduce your request rate.",
        ));
    }
    // S3 commits a request it has fully received whatever the client does next. s3s-fs renames
    // an object into place and then writes its metadata: run it in its own task so a client
    // killed at that moment does not cancel it halfway, leaving an object S3 never would.
    let call = tokio::spawn(async move { hyper::service::Service::call(&service, req).await });
    let response = match call.await.expect("the S3 service does not panic") {
        Ok(response) => response,
        Err(e) => {
            let response = Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .body(full(format!("{e:?}")))
                .unwrap();
            return Ok(response);
        }
    };
    let (parts, body) = response.into_parts();
    if let Some(key) = &key
        && parts.status.is_success()
        && faults.is_cut(key)
    {
        let bytes = body
            .collect()
            .await
            .map(http_body_util::Collected::to_bytes)
            .unwrap_or_default();
        // The header still promises every byte; the body fails after half of them, so the
        // connection ends early as when a network path drops.
        let half = bytes.slice(..bytes.len() / 2);
        let frames: Vec<Result<Frame<Bytes>, Box<dyn std::error::Error + Send + Sync>>> = vec![
            Ok(Frame::data(half)),
            Err("connection cut by the test server".into()),
        ];
        let cut = StreamBody::new(futures_util::stream::iter(frames));
        return Ok(Response::from_parts(parts, BodyExt::boxed(cut)));
    }
    Ok(Response::from_parts(parts, body.boxed()))
}

/// One object of a synthetic trail.
pub struct TrailObject {
    pub key: String,
    pub bytes: Vec<u8>,
    /// Delivery time in the key, milliseconds since the epoch.
    pub delivered_ms: i64,
    pub event_ids: Vec<String>,
}

/// A multi-day trail in the real layout: `accounts` (the first in an organization folder when
/// `organization` is set), `regions`, one file every `every_minutes` per account and region, with
/// events from the minutes before each delivery. Deterministic.
pub fn synthetic_trail(
    start_day: (i32, u32, u32),
    days: i64,
    accounts: &[&str],
    regions: &[&str],
    every_minutes: i64,
    organization: Option<&str>,
) -> Vec<TrailObject> {
    let day0 = i64::from(
        NaiveDate::from_ymd_opt(start_day.0, start_day.1, start_day.2)
            .expect("a calendar day")
            .to_epoch_days(),
    );
    let mut objects = Vec::new();
    let mut counter = 0u64;
    for (a, account) in accounts.iter().enumerate() {
        let base = match (a, organization) {
            (0, Some(org)) => format!("AWSLogs/{org}/{account}"),
            _ => format!("AWSLogs/{account}"),
        };
        for region in regions {
            for slot in 0..(days * 24 * 60 / every_minutes) {
                let delivered_min = day0 * 1440 + slot * every_minutes + 7;
                let delivered = date_of(delivered_min.div_euclid(1440));
                let (y, m, d) = (delivered.year(), delivered.month(), delivered.day());
                let (hh, mm) = (
                    delivered_min.rem_euclid(1440) / 60,
                    delivered_min.rem_euclid(60),
                );
                let mut records = Vec::new();
                let mut event_ids = Vec::new();
                for i in 0..3 {
                    counter += 1;
                    let event_min = delivered_min - 3 - 2 * i;
                    let event = date_of(event_min.div_euclid(1440));
                    let (ey, em, ed) = (event.year(), event.month(), event.day());
                    let time = format!(
                        "{ey:04}-{em:02}-{ed:02}T{:02}:{:02}:{:02}Z",
                        event_min.rem_euclid(1440) / 60,
                        event_min.rem_euclid(60),
                        counter % 60
                    );
                    let id = format!("{account}-{region}-{counter:08}");
                    let denied = counter.is_multiple_of(7);
                    let error = if denied {
                        format!(
                            r#","errorCode":"AccessDenied","errorMessage":"User: arn:aws:iam::{account}:user/u{} is not authorized to perform: s3:GetObject""#,
                            counter % 5
                        )
                    } else {
                        String::new()
                    };
                    records.push(format!(
                        r#"{{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::{account}:user/u{}","accountId":"{account}"}},"eventTime":"{time}","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"{region}"{error},"requestParameters":{{"bucketName":"b{}"}},"eventID":"{id}","eventType":"AwsApiCall","recipientAccountId":"{account}"}}"#,
                        counter % 5,
                        counter % 3
                    ));
                    event_ids.push(id);
                }
                let json = format!(r#"{{"Records":[{}]}}"#, records.join(","));
                let key = format!(
                    "{base}/CloudTrail/{region}/{y:04}/{m:02}/{d:02}/{account}_CloudTrail_{region}_{y:04}{m:02}{d:02}T{hh:02}{mm:02}Z_{counter:016x}.json.gz"
                );
                objects.push(TrailObject {
                    key,
                    bytes: gzip(json.as_bytes()),
                    delivered_ms: delivered_min * 60_000,
                    event_ids,
                });
            }
        }
    }
    objects
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The date of a day counted from 1970-01-01.
fn date_of(epoch_day: i64) -> NaiveDate {
    NaiveDate::from_epoch_days(epoch_day.try_into().expect("a day in range"))
        .expect("a day in range")
}
