//! The S3 client, its timeouts and retries, and fetching objects with a bounded number in flight.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::provider::error::CredentialsError;
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_http_client::tls;
use ctq_ingest::{Fetched, FileDamage, TrailFile};
use futures::StreamExt;
use tokio::time::Instant;

use crate::{S3Error, S3Location};

/// The default longest wait for a connection (TCP and TLS) to open. A connection to S3 opens in
/// well under a second from anywhere; 5 s leaves room for a slow path, not for a dropped one.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The default longest silence within one attempt. S3 answers in well under a second, and
/// throttles with `503 SlowDown` rather than by staying silent: 10 s of silence means a dead
/// connection or path, which a new attempt on a new connection may not have.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A request's budget is this many read timeouts: three silent attempts in a row, 30 s by default.
pub const BUDGET_IN_READ_TIMEOUTS: u32 = 3;

/// The slowest upload a PUT is given time for, in bytes a second (1 Mbit/s): the read timeout
/// of a PUT runs from its first byte sent, so it grows with the body.
const SLOWEST_UPLOAD: u64 = 125_000;

/// How to reach S3. Credentials come from the AWS chain (environment, profiles, SSO,
/// `credential_process`, web identity, container and instance roles) unless given here.
#[derive(Debug, Clone)]
pub struct S3Options {
    /// A profile of the AWS config or credentials file; one that neither defines is an error.
    pub profile: Option<String>,
    pub region: Option<String>,
    /// An S3-compatible endpoint; `AWS_ENDPOINT_URL` works too.
    pub endpoint_url: Option<String>,
    /// `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key`.
    pub path_style: bool,
    /// GET requests in flight at once.
    pub max_in_flight: usize,
    /// Tries per request, the first included.
    pub max_attempts: u32,
    /// The first retry waits this long; each next one twice as long, up to 5 s.
    pub retry_base_delay: Duration,
    /// Longest wait for a connection to open, TLS included.
    pub connect_timeout: Duration,
    /// Longest silence within one attempt: from sending a request to the first byte of its answer
    /// (connecting included), and between two parts of a body. A PUT gets this plus the time its
    /// body takes to upload at 1 Mbit/s.
    pub read_timeout: Duration,
    /// What one request (a listing page, an object) may take over all its attempts: no attempt
    /// starts after it, and one still waiting for an answer is abandoned. A body that keeps
    /// arriving is not cut.
    pub request_budget: Duration,
    /// The AWS config file; `None`: `AWS_CONFIG_FILE`, else `~/.aws/config`.
    pub config_file: Option<PathBuf>,
    /// The AWS credentials file; `None`: `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
    pub credentials_file: Option<PathBuf>,
    /// Fixed access key and secret, for S3-compatible stores and tests.
    pub static_credentials: Option<(String, String)>,
}

impl Default for S3Options {
    fn default() -> Self {
        Self {
            profile: None,
            region: None,
            endpoint_url: None,
            path_style: false,
            max_in_flight: 32,
            max_attempts: 5,
            retry_base_delay: Duration::from_millis(200),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            request_budget: DEFAULT_READ_TIMEOUT * BUDGET_IN_READ_TIMEOUTS,
            config_file: None,
            credentials_file: None,
            static_credentials: None,
        }
    }
}

impl S3Options {
    /// Sets the read timeout, and the connect timeout and budget that go with it: the connect
    /// timeout no longer than it, the budget three times it.
    pub fn with_timeout(mut self, read_timeout: Duration) -> Self {
        self.read_timeout = read_timeout;
        self.connect_timeout = DEFAULT_CONNECT_TIMEOUT.min(read_timeout);
        self.request_budget = read_timeout * BUDGET_IN_READ_TIMEOUTS;
        self
    }
}

/// Counts of requests, for the run's summary and for tests of how little a query lists.
#[derive(Debug, Default)]
pub struct S3Stats {
    pub list_requests: AtomicU64,
    pub get_requests: AtomicU64,
    pub put_requests: AtomicU64,
    pub delete_requests: AtomicU64,
    pub retries: AtomicU64,
    pub objects_lost: AtomicU64,
    pub bytes_fetched: AtomicU64,
}

impl S3Stats {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn add_list(&self) {
        Self::add(&self.list_requests, 1);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Whether the endpoint answers at all, shared by every request of a trail: once an object was
/// given up while nothing answered any request, the objects left are not requested, so that a
/// dead endpoint costs one budget rather than one per object.
#[derive(Debug)]
pub(crate) struct Health {
    origin: Instant,
    /// Milliseconds after `origin`, plus one, of the last answer of any kind (headers or part of
    /// a body, an error included); 0 when nothing answered yet.
    last_answer_ms: AtomicU64,
    /// Why the objects left are not requested.
    down: OnceLock<String>,
}

impl Health {
    fn new() -> Self {
        Self {
            origin: Instant::now(),
            last_answer_ms: AtomicU64::new(0),
            down: OnceLock::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64
    }

    fn answered(&self) {
        self.last_answer_ms
            .fetch_max(self.now_ms() + 1, Ordering::Relaxed);
    }

    /// Whether nothing answered since `since_ms`.
    fn silent_since(&self, since_ms: u64) -> bool {
        self.last_answer_ms.load(Ordering::Relaxed) <= since_ms
    }
}

/// Where the requests go, for messages: the endpoint given, or S3's own for the region.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub name: String,
    pub custom: bool,
}

/// A trail under an S3 location, with a client configured to read it.
#[derive(Debug, Clone)]
pub struct S3Trail {
    pub(crate) client: Client,
    pub(crate) location: S3Location,
    pub(crate) options: S3Options,
    /// The chain the client signs with, handed on to `object_store` (the client's own
    /// configuration does not give it back).
    pub(crate) credentials: Option<aws_sdk_s3::config::SharedCredentialsProvider>,
    pub(crate) endpoint: Endpoint,
    /// The profile the chain reads, and the files it reads it from, for messages.
    profile: (String, ProfilePaths),
    pub(crate) health: Arc<Health>,
    pub stats: Arc<S3Stats>,
}

/// What went wrong with one request, and whether trying again can help.
pub(crate) struct Failure {
    pub retryable: bool,
    pub code: Option<String>,
    pub status: Option<u16>,
    pub message: String,
    pub region_hint: Option<String>,
    /// Nothing came back in time: no connection, no answer, or a body that stopped.
    pub silent: bool,
    /// The credential chain failed before anything was sent.
    pub credentials: Option<CredentialsProblem>,
}

pub(crate) enum CredentialsProblem {
    /// No source in the chain had credentials; the instance metadata service's refusal, when
    /// it answered one.
    NotFound { metadata: Option<String> },
    /// A source was configured but failed (an expired SSO session, a failing
    /// `credential_process`): its own words.
    Failed(String),
}

impl Failure {
    fn transport(message: String) -> Self {
        Failure {
            retryable: true,
            code: None,
            status: None,
            message,
            region_hint: None,
            silent: false,
            credentials: None,
        }
    }

    fn silence(message: String) -> Self {
        Failure {
            silent: true,
            ..Failure::transport(message)
        }
    }
}

/// A request that failed for good, after `attempts` tries over `elapsed`.
pub(crate) struct GaveUp {
    pub failure: Failure,
    pub attempts: u32,
    pub elapsed: Duration,
}

/// Whose request failed: a trail being read, or a store being read and written. They need other
/// permissions, and a missing bucket means something else to each.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Purpose {
    Trail,
    Store,
}

/// A body cut short is a transport failure like any other: worth trying again.
pub(crate) fn body_cut_short(error: impl std::fmt::Display) -> Failure {
    Failure::transport(format!("the response body ended early: {error}"))
}

/// An error's text followed by its causes'.
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// The credential chain's failure inside a request's error, if that is why it failed.
fn credentials_problem(error: &(dyn std::error::Error + 'static)) -> Option<CredentialsProblem> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(problem) = e.downcast_ref::<CredentialsError>() {
            let text = with_causes(problem);
            return Some(match problem {
                CredentialsError::CredentialsNotLoaded(_) => {
                    CredentialsProblem::NotFound { metadata: None }
                }
                // The metadata service is the chain's last source: when it refuses (outside EC2,
                // some networks answer its address with 403), no source had credentials.
                _ if text.contains("IMDS") => CredentialsProblem::NotFound {
                    metadata: Some(text),
                },
                _ => CredentialsProblem::Failed(text),
            });
        }
        current = e.source();
    }
    None
}

/// Whether the SDK's stalled-stream protection ended a body. Its error type is private; its
/// text is all there is to go by.
fn stalled(error: &(dyn std::error::Error + 'static)) -> bool {
    with_causes(error).contains("minimum throughput was specified")
}

/// `10 s`, `1.5 s`.
pub(crate) fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if duration.subsec_millis() == 0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs:.1} s")
    }
}

/// The AWS config and credentials files the chain reads, as named in messages.
#[derive(Debug, Clone)]
pub(crate) struct ProfilePaths {
    pub config: PathBuf,
    pub credentials: PathBuf,
}

impl ProfilePaths {
    fn of(options: &S3Options) -> Self {
        let home = std::env::var_os("HOME")
            .or_else(|| std::env::var_os("USERPROFILE"))
            .map(PathBuf::from);
        let resolve = |given: &Option<PathBuf>, variable: &str, default: &str| {
            if let Some(path) = given {
                return path.clone();
            }
            let named = std::env::var(variable)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| format!("~/{default}"));
            match (named.strip_prefix("~/"), &home) {
                (Some(rest), Some(home)) => home.join(rest),
                _ => PathBuf::from(named),
            }
        };
        Self {
            config: resolve(&options.config_file, "AWS_CONFIG_FILE", ".aws/config"),
            credentials: resolve(
                &options.credentials_file,
                "AWS_SHARED_CREDENTIALS_FILE",
                ".aws/credentials",
            ),
        }
    }
}

/// The profile files as the SDK takes them: the ones given, else its defaults (which follow
/// `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`).
fn profile_files(options: &S3Options) -> EnvConfigFiles {
    let mut files = EnvConfigFiles::builder()
        .include_default_config_file(options.config_file.is_none())
        .include_default_credentials_file(options.credentials_file.is_none());
    if let Some(path) = &options.config_file {
        files = files.with_file(EnvConfigFileKind::Config, path);
    }
    if let Some(path) = &options.credentials_file {
        files = files.with_file(EnvConfigFileKind::Credentials, path);
    }
    files.build()
}

/// Refuses a profile that neither file defines: the chain would skip it without a word and
/// sign with other credentials, or report none found. `default` may be missing, as with the AWS
/// CLI: it is what the chain reads when nothing names a profile.
async fn check_profile(
    name: &str,
    files: &EnvConfigFiles,
    paths: &ProfilePaths,
) -> Result<(), S3Error> {
    let loaded = aws_config::profile::load(
        &aws_types::os_shim_internal::Fs::real(),
        &aws_types::os_shim_internal::Env::real(),
        files,
        None,
    )
    .await;
    let set = loaded.map_err(|e| S3Error::ProfileFiles {
        config: paths.config.clone(),
        credentials: paths.credentials.clone(),
        reason: with_causes(&e),
    })?;
    if name == "default" || set.get_profile(name).is_some() {
        return Ok(());
    }
    let mut defined: Vec<String> = set.profiles().map(str::to_owned).collect();
    defined.sort();
    Err(S3Error::ProfileNotFound {
        profile: name.to_string(),
        config: paths.config.clone(),
        credentials: paths.credentials.clone(),
        defined,
    })
}

impl S3Trail {
    /// Builds the client. Nothing is requested from S3 until [`list`](Self::list); a profile
    /// that is not defined is an error here.
    pub async fn connect(location: S3Location, options: S3Options) -> Result<Self, S3Error> {
        // Loading the SDK's configuration is a large future; boxed, it does not weigh on the
        // futures of the sessions and commands that connect.
        Box::pin(Self::build(location, options)).await
    }

    async fn build(location: S3Location, options: S3Options) -> Result<Self, S3Error> {
        let files = profile_files(&options);
        let paths = ProfilePaths::of(&options);
        // The SDK reads AWS_PROFILE itself when no profile is given.
        let named = options
            .profile
            .clone()
            .or_else(|| std::env::var("AWS_PROFILE").ok().filter(|v| !v.is_empty()));
        if let Some(profile) = &named {
            check_profile(profile, &files, &paths).await?;
        }
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        // Retries are ctq's own (below), so that each one is counted and reported, and the
        // budget spans them. The SDK's read timeout is the wait for an answer's first byte; its
        // stalled-stream protection, given the same time, ends bodies (uploads, and the answers
        // the SDK reads itself, such as listings) that stop coming.
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client)
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(options.connect_timeout)
                    .read_timeout(options.read_timeout)
                    .build(),
            )
            .stalled_stream_protection(
                StalledStreamProtectionConfig::enabled()
                    .grace_period(options.read_timeout)
                    .build(),
            );
        if options.config_file.is_some() || options.credentials_file.is_some() {
            loader = loader.profile_files(files);
        }
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &options.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(endpoint) = &options.endpoint_url {
            loader = loader.endpoint_url(endpoint);
        }
        if let Some((key, secret)) = &options.static_credentials {
            loader = loader.credentials_provider(Credentials::new(key, secret, None, None, "ctq"));
        }
        let sdk = loader.load().await;
        let mut config =
            aws_sdk_s3::config::Builder::from(&sdk).force_path_style(options.path_style);
        if sdk.region().is_none() {
            // Signing needs a region; S3 answers a wrong one with the bucket's, reported to the user.
            config = config.region(Region::new("us-east-1"));
        }
        let client = Client::from_conf(config.build());
        let custom = options
            .endpoint_url
            .clone()
            .or_else(|| {
                ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
                    .iter()
                    .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
            })
            .or_else(|| sdk.endpoint_url().map(str::to_owned));
        let endpoint = match custom {
            Some(url) => Endpoint {
                name: url,
                custom: true,
            },
            None => Endpoint {
                name: format!(
                    "s3.{}.amazonaws.com",
                    client
                        .config()
                        .region()
                        .map_or_else(|| "us-east-1".to_string(), ToString::to_string)
                ),
                custom: false,
            },
        };
        let profile = named.unwrap_or_else(|| "default".to_string());
        Ok(Self {
            client,
            credentials: sdk.credentials_provider(),
            location,
            options,
            endpoint,
            profile: (profile, paths),
            health: Arc::new(Health::new()),
            stats: Arc::new(S3Stats::default()),
        })
    }

    pub fn location(&self) -> &S3Location {
        &self.location
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exponential = self
            .options
            .retry_base_delay
            .saturating_mul(1 << attempt.min(10));
        let capped = exponential.min(Duration::from_secs(5));
        // Up to a quarter of jitter, so that throttled requests do not return in lockstep.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        capped + capped.mul_f64(f64::from(nanos % 1000) / 4000.0)
    }

    /// Runs `request` until it succeeds, fails for good, runs out of attempts, or the budget
    /// would end before the next attempt starts. `request` gets the budget's deadline.
    pub(crate) async fn with_retries<T, F, Fut>(&self, mut request: F) -> Result<T, GaveUp>
    where
        F: FnMut(Instant) -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let started = Instant::now();
        let deadline = started + self.options.request_budget;
        let mut attempt = 0;
        // What the first silent attempt waited for: the last one may only have been cut short
        // by the budget.
        let mut first_silence: Option<String> = None;
        loop {
            attempt += 1;
            let mut failure = match request(deadline).await {
                Ok(value) => return Ok(value),
                Err(failure) => failure,
            };
            if failure.silent {
                match &first_silence {
                    Some(first) => failure.message.clone_from(first),
                    None => first_silence = Some(failure.message.clone()),
                }
            }
            let wait = self.backoff(attempt - 1);
            if failure.retryable
                && attempt < self.options.max_attempts.max(1)
                && Instant::now() + wait < deadline
            {
                S3Stats::add(&self.stats.retries, 1);
                tokio::time::sleep(wait).await;
            } else {
                return Err(GaveUp {
                    failure,
                    attempts: attempt,
                    elapsed: started.elapsed(),
                });
            }
        }
    }

    /// The answer to one attempt, waited for until `deadline` at most (`None` for a PUT, whose
    /// wait includes its upload and is bounded by its own read timeout).
    pub(crate) async fn answer<T, E>(
        &self,
        deadline: Option<Instant>,
        send: impl Future<Output = Result<T, SdkError<E, aws_sdk_s3::config::http::HttpResponse>>>,
    ) -> Result<T, Failure>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        // The SDK's request futures are large; boxed, the futures holding them stay small.
        let send = Box::pin(send);
        let outcome = match deadline {
            Some(deadline) => match tokio::time::timeout_at(deadline, send).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    return Err(Failure::silence(format!(
                        "no response from {} within the request's budget of {}",
                        self.endpoint.name,
                        seconds(self.options.request_budget)
                    )));
                }
            },
            None => send.await,
        };
        match outcome {
            Ok(value) => {
                self.health.answered();
                Ok(value)
            }
            Err(error) => {
                if error.raw_response().is_some() {
                    self.health.answered();
                }
                Err(self.classify(&error))
            }
        }
    }

    /// Reads a body whole, giving up when no part of it comes for the read timeout.
    pub(crate) async fn read_body(&self, mut body: ByteStream) -> Result<Vec<u8>, Failure> {
        let mut bytes = Vec::new();
        loop {
            match tokio::time::timeout(self.options.read_timeout, body.next()).await {
                Ok(None) => return Ok(bytes),
                Ok(Some(Ok(part))) => {
                    self.health.answered();
                    bytes.extend_from_slice(&part);
                }
                Ok(Some(Err(e))) if stalled(&e) => return Err(self.stopped()),
                Ok(Some(Err(e))) => return Err(body_cut_short(e)),
                Err(_) => return Err(self.stopped()),
            }
        }
    }

    /// A body that stopped coming.
    fn stopped(&self) -> Failure {
        Failure::silence(format!(
            "the transfer with {} stopped: no bytes for {}",
            self.endpoint.name,
            seconds(self.options.read_timeout)
        ))
    }

    /// The read timeout of a PUT of `size` bytes: its wait for an answer includes the upload.
    pub(crate) fn put_timeouts(&self, size: usize) -> TimeoutConfig {
        let upload = Duration::from_secs_f64(size as f64 / SLOWEST_UPLOAD as f64);
        TimeoutConfig::builder()
            .connect_timeout(self.options.connect_timeout)
            .read_timeout(self.options.read_timeout + upload)
            .build()
    }

    pub(crate) fn classify<E: ProvideErrorMetadata + std::error::Error + 'static>(
        &self,
        error: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    ) -> Failure {
        if let Some(problem) = credentials_problem(error) {
            return Failure {
                retryable: false,
                credentials: Some(problem),
                ..Failure::transport(with_causes(error))
            };
        }
        let status = error.raw_response().map(|r| r.status().as_u16());
        let code = error.code().map(str::to_owned);
        let region_hint = error
            .raw_response()
            .and_then(|r| r.headers().get("x-amz-bucket-region"))
            .map(str::to_owned);
        let endpoint = &self.endpoint.name;
        if stalled(error) {
            return self.stopped();
        }
        match error {
            SdkError::TimeoutError(_) => {
                return Failure::silence(format!(
                    "no response from {endpoint} within {}",
                    seconds(self.options.read_timeout)
                ));
            }
            SdkError::DispatchFailure(failure) if failure.is_timeout() => {
                // The HTTP client names the phase that timed out only in its text.
                return Failure::silence(if with_causes(error).contains("HTTP connect") {
                    format!(
                        "no connection to {endpoint} within {}",
                        seconds(self.options.connect_timeout)
                    )
                } else {
                    format!(
                        "no response from {endpoint} within {}",
                        seconds(self.options.read_timeout)
                    )
                });
            }
            SdkError::DispatchFailure(_) => {
                return Failure::transport(format!(
                    "cannot reach {endpoint}: {}",
                    with_causes(error)
                ));
            }
            _ => {}
        }
        let retryable = match error {
            SdkError::ResponseError(_) => true,
            SdkError::ServiceError(_) => {
                matches!(status, Some(500 | 502 | 503 | 504))
                    || matches!(
                        code.as_deref(),
                        Some(
                            "SlowDown"
                                | "InternalError"
                                | "RequestTimeout"
                                | "ServiceUnavailable"
                                | "Throttling"
                        )
                    )
            }
            _ => false,
        };
        let message = match (&code, error.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.clone(),
            // The SDK's own text, with its causes.
            _ => with_causes(error),
        };
        Failure {
            retryable,
            code,
            status,
            message,
            region_hint,
            silent: false,
            credentials: None,
        }
    }

    /// The error for a request that failed for good.
    pub(crate) fn request_error(
        &self,
        purpose: Purpose,
        operation: &'static str,
        prefix: &str,
        gave_up: GaveUp,
    ) -> S3Error {
        let GaveUp {
            failure,
            attempts,
            elapsed,
        } = gave_up;
        let bucket = self.location.bucket.clone();
        match failure.credentials {
            Some(CredentialsProblem::NotFound { metadata }) => {
                return S3Error::NoCredentials {
                    tried: self.credential_sources(metadata.as_deref()),
                };
            }
            Some(CredentialsProblem::Failed(reason)) => return S3Error::Credentials { reason },
            None => {}
        }
        if failure.silent {
            return S3Error::NoAnswer {
                reason: failure.message,
                operation,
                url: format!("s3://{bucket}/{prefix}"),
                attempts,
                elapsed: format!("{:.1} s", elapsed.as_secs_f64()),
                check: self.what_to_check(),
            };
        }
        match (failure.status, failure.code.as_deref()) {
            (Some(403), _) | (_, Some("AccessDenied")) => {
                let code = failure.code.unwrap_or_else(|| "403 Forbidden".into());
                match purpose {
                    Purpose::Trail => S3Error::AccessDenied {
                        operation,
                        bucket,
                        prefix: prefix.to_string(),
                        code,
                    },
                    Purpose::Store => S3Error::StoreAccessDenied {
                        operation,
                        bucket,
                        prefix: self.location.prefix.clone(),
                        code,
                    },
                }
            }
            (_, Some("NoSuchBucket")) => match purpose {
                Purpose::Trail => S3Error::NoSuchBucket { bucket },
                Purpose::Store => S3Error::NoSuchStoreBucket {
                    create: self.make_bucket_command(),
                    bucket,
                },
            },
            (Some(301), _) | (_, Some("PermanentRedirect" | "AuthorizationHeaderMalformed")) => {
                S3Error::WrongRegion {
                    bucket,
                    region: failure.region_hint,
                }
            }
            _ => S3Error::Request {
                operation,
                bucket,
                prefix: prefix.to_string(),
                attempts,
                reason: failure.message,
            },
        }
    }

    /// `aws s3 mb s3://bucket --region r [--endpoint-url u]`, as the bucket would be made.
    fn make_bucket_command(&self) -> String {
        let mut command = format!("aws s3 mb s3://{}", self.location.bucket);
        if let Some(region) = self.client.config().region() {
            command.push_str(&format!(" --region {region}"));
        }
        if self.endpoint.custom {
            command.push_str(&format!(" --endpoint-url {}", self.endpoint.name));
        }
        command
    }

    /// What to check when the endpoint does not answer.
    fn what_to_check(&self) -> &'static str {
        if self.endpoint.custom {
            "--endpoint-url (or AWS_ENDPOINT_URL) and the network"
        } else {
            "--region, the network and any firewall or proxy on the way to S3"
        }
    }

    /// The sources the default chain tried, as the user can check them.
    fn credential_sources(&self, metadata: Option<&str>) -> String {
        let (profile, paths) = &self.profile;
        let imds = match metadata {
            Some(refusal) => format!("EC2 instance metadata ({})", refusal.trim_end_matches('.')),
            None if std::env::var("AWS_EC2_METADATA_DISABLED")
                .is_ok_and(|v| v.eq_ignore_ascii_case("true")) =>
            {
                "EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)".to_string()
            }
            None => "EC2 instance metadata".to_string(),
        };
        format!(
            "the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), profile {profile:?} in {} and {} (keys, SSO, credential_process, roles), web identity (AWS_WEB_IDENTITY_TOKEN_FILE), container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI) and {imds}",
            paths.config.display(),
            paths.credentials.display()
        )
    }

    async fn get_object(&self, key: &str) -> Result<Vec<u8>, GaveUp> {
        self.with_retries(|deadline| async move {
            S3Stats::add(&self.stats.get_requests, 1);
            let request = self
                .client
                .get_object()
                .bucket(&self.location.bucket)
                .key(key)
                .send();
            let response = self.answer(Some(deadline), request).await?;
            self.read_body(response.body).await
        })
        .await
    }

    /// Fetches `files` (named `s3://bucket/key`) with at most `max_in_flight` GETs at once,
    /// sending each to `deliver` as it completes. An object that cannot be fetched is sent as
    /// damaged, with the reason. Stops early when the receiver is dropped.
    pub async fn fetch(
        &self,
        files: Vec<TrailFile>,
        deliver: tokio::sync::mpsc::Sender<(TrailFile, Fetched)>,
    ) {
        let prefix_len = format!("s3://{}/", self.location.bucket).len();
        let mut fetches = futures::stream::iter(files)
            .map(|file| async move {
                let key = file.path.to_string_lossy()[prefix_len..].to_string();
                if let Some(reason) = self.health.down.get() {
                    S3Stats::add(&self.stats.objects_lost, 1);
                    return (file, Err(FileDamage::FetchFailed(reason.clone())));
                }
                let started_ms = self.health.now_ms();
                let fetched = match self.get_object(&key).await {
                    Ok(bytes) => {
                        S3Stats::add(&self.stats.bytes_fetched, bytes.len() as u64);
                        Ok(bytes)
                    }
                    Err(gave_up) => {
                        S3Stats::add(&self.stats.objects_lost, 1);
                        if gave_up.failure.silent && self.health.silent_since(started_ms) {
                            let _ = self.health.down.set(format!(
                                "not requested: {} answered no request for {}",
                                self.endpoint.name,
                                seconds(self.options.request_budget)
                            ));
                        }
                        Err(FileDamage::FetchFailed(
                            self.describe_get_failure(&key, gave_up),
                        ))
                    }
                };
                (file, fetched)
            })
            .buffer_unordered(self.options.max_in_flight.max(1));
        while let Some(item) = fetches.next().await {
            if deliver.send(item).await.is_err() {
                break;
            }
        }
    }

    fn describe_get_failure(&self, key: &str, gave_up: GaveUp) -> String {
        let failure = &gave_up.failure;
        if failure.status == Some(403) || failure.code.as_deref() == Some("AccessDenied") {
            format!(
                "S3 denied GetObject ({}); ctq needs s3:GetObject on arn:aws:s3:::{}/{key}",
                failure.message, self.location.bucket
            )
        } else if failure.silent || failure.credentials.is_some() {
            self.request_error(Purpose::Trail, "GetObject", key, gave_up)
                .to_string()
        } else {
            format!(
                "GetObject failed after {} attempt(s): {}",
                gave_up.attempts, failure.message
            )
        }
    }
}
