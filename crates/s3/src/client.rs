//! The S3 client, its retries, and fetching objects with a bounded number in flight.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls;
use ctq_ingest::{Fetched, FileDamage, TrailFile};
use futures::StreamExt;

use crate::{S3Error, S3Location};

/// How to reach S3. Credentials come from the AWS chain (environment, profiles, SSO,
/// `credential_process`, web identity, container and instance roles) unless given here.
#[derive(Debug, Clone)]
pub struct S3Options {
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
            static_credentials: None,
        }
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

/// A trail under an S3 location, with a client configured to read it.
#[derive(Debug, Clone)]
pub struct S3Trail {
    pub(crate) client: Client,
    pub(crate) location: S3Location,
    pub(crate) options: S3Options,
    /// The chain the client signs with, handed on to `object_store` (the client's own
    /// configuration does not give it back).
    pub(crate) credentials: Option<aws_sdk_s3::config::SharedCredentialsProvider>,
    pub stats: Arc<S3Stats>,
}

/// What went wrong with one request, and whether trying again can help.
pub(crate) struct Failure {
    pub retryable: bool,
    pub code: Option<String>,
    pub status: Option<u16>,
    pub message: String,
    pub region_hint: Option<String>,
}

pub(crate) fn classify<E: ProvideErrorMetadata + std::error::Error + 'static>(
    error: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> Failure {
    let status = error.raw_response().map(|r| r.status().as_u16());
    let code = error.code().map(str::to_owned);
    let region_hint = error
        .raw_response()
        .and_then(|r| r.headers().get("x-amz-bucket-region"))
        .map(str::to_owned);
    let retryable = match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
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
        _ => {
            // The SDK's own text for transport failures, with its causes.
            let mut text = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            text
        }
    };
    Failure {
        retryable,
        code,
        status,
        message,
        region_hint,
    }
}

/// A body cut short is a transport failure like any other: worth trying again.
pub(crate) fn body_cut_short(error: impl std::fmt::Display) -> Failure {
    Failure {
        retryable: true,
        code: None,
        status: None,
        message: format!("the response body ended early: {error}"),
        region_hint: None,
    }
}

/// The error for a request that failed for good. `denied` is the error for a 403, which names
/// the permissions the operation needs.
pub(crate) fn request_error(
    bucket: &str,
    operation: &'static str,
    prefix: &str,
    failure: Failure,
    attempts: u32,
    denied: impl FnOnce(String) -> S3Error,
) -> S3Error {
    let bucket = bucket.to_string();
    match (failure.status, failure.code.as_deref()) {
        (Some(403), _) | (_, Some("AccessDenied")) => {
            denied(failure.code.unwrap_or_else(|| "403 Forbidden".into()))
        }
        (_, Some("NoSuchBucket")) => S3Error::NoSuchBucket { bucket },
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

impl S3Trail {
    /// Builds the client. Nothing is requested from S3 until [`list`](Self::list).
    pub async fn connect(location: S3Location, options: S3Options) -> Self {
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        // Retries are ctq's own (below), so that each one is counted and reported.
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client)
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .operation_attempt_timeout(Duration::from_mins(2))
                    .build(),
            );
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
        Self {
            client: Client::from_conf(config.build()),
            credentials: sdk.credentials_provider(),
            location,
            options,
            stats: Arc::new(S3Stats::default()),
        }
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

    /// Runs `request` until it succeeds, fails for good, or runs out of attempts.
    pub(crate) async fn with_retries<T, F, Fut>(&self, mut request: F) -> Result<T, (Failure, u32)>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match request().await {
                Ok(value) => return Ok(value),
                Err(failure) if failure.retryable && attempt < self.options.max_attempts.max(1) => {
                    S3Stats::add(&self.stats.retries, 1);
                    tokio::time::sleep(self.backoff(attempt - 1)).await;
                }
                Err(failure) => return Err((failure, attempt)),
            }
        }
    }

    async fn get_object(&self, key: &str) -> Result<Vec<u8>, (Failure, u32)> {
        self.with_retries(|| async {
            S3Stats::add(&self.stats.get_requests, 1);
            let response = self
                .client
                .get_object()
                .bucket(&self.location.bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| classify(&e))?;
            let body = response.body.collect().await.map_err(body_cut_short)?;
            Ok(body.into_bytes().to_vec())
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
                let fetched = match self.get_object(&key).await {
                    Ok(bytes) => {
                        S3Stats::add(&self.stats.bytes_fetched, bytes.len() as u64);
                        Ok(bytes)
                    }
                    Err((failure, attempts)) => {
                        S3Stats::add(&self.stats.objects_lost, 1);
                        Err(FileDamage::FetchFailed(
                            self.describe_get_failure(&key, &failure, attempts),
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

    fn describe_get_failure(&self, key: &str, failure: &Failure, attempts: u32) -> String {
        if failure.status == Some(403) || failure.code.as_deref() == Some("AccessDenied") {
            format!(
                "S3 denied GetObject ({}); ctq needs s3:GetObject on arn:aws:s3:::{}/{key}",
                failure.message, self.location.bucket
            )
        } else {
            format!(
                "GetObject failed after {attempts} attempt(s): {}",
                failure.message
            )
        }
    }
}
