//! CloudTrail trails in S3.
//!
//! This crate owns talking to S3: the AWS credential chain and client settings ([`S3Options`]),
//! listing a trail's objects with the query's pruning applied to prefixes and keys
//! ([`S3Trail::list`]), and fetching them with a bounded number of requests in flight, retries
//! with backoff, and an account of what was retried and lost ([`S3Trail::fetch`]). Every request
//! is bounded in time: a connect timeout, a read timeout for each wait for S3 (the first byte of
//! an answer, the next part of a body), and a budget over its attempts, so that an endpoint that
//! does not answer is reported by name within the budget instead of hanging the run.
//!
//! A Parquet store on S3 uses it too: whole objects read, written and removed under a prefix,
//! and an `object_store` client with the same settings for DataFusion to read the store with.
//!
//! It does not decode anything: fetched bytes go to `ctq-ingest`'s decoders, which treat an
//! object that could not be fetched like a damaged file. Nor does it know about SQL.

mod client;
mod list;
mod objects;

use std::fmt;
use std::str::FromStr;

pub use client::{
    BUDGET_IN_READ_TIMEOUTS, DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, S3Options, S3Stats,
    S3Trail,
};
pub use list::{Listing, ObjectVersion};

/// `s3://bucket[/prefix]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Empty for the bucket root; otherwise ends with `/` unless it names a single key.
    pub prefix: String,
}

impl S3Location {
    /// Whether a source argument names S3 rather than a local path.
    pub fn is_s3_url(text: &str) -> bool {
        text.starts_with("s3://")
    }

    /// The URL of one key of this bucket, as files are named in reports.
    pub fn url_of(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

/// Where a trail is: a local folder or file, or an S3 location. A command line names both the same
/// way; this is where the text `s3://…` stops being a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrailLocation {
    Local(std::path::PathBuf),
    S3(S3Location),
}

impl TrailLocation {
    /// Reads a source argument: `s3://bucket[/prefix]` is S3, anything else a local path.
    pub fn from_arg(arg: &std::path::Path) -> Result<Self, S3Error> {
        match arg.to_str() {
            Some(text) if S3Location::is_s3_url(text) => Ok(TrailLocation::S3(text.parse()?)),
            _ => Ok(TrailLocation::Local(arg.to_path_buf())),
        }
    }
}

/// A local path, whatever its text (`s3://` in a path is read only by [`TrailLocation::from_arg`]).
impl From<std::path::PathBuf> for TrailLocation {
    fn from(path: std::path::PathBuf) -> Self {
        TrailLocation::Local(path)
    }
}

impl From<&std::path::Path> for TrailLocation {
    fn from(path: &std::path::Path) -> Self {
        TrailLocation::Local(path.to_path_buf())
    }
}

impl FromStr for S3Location {
    type Err = S3Error;

    fn from_str(text: &str) -> Result<Self, S3Error> {
        let invalid = |why: &str| S3Error::InvalidUrl {
            url: text.to_string(),
            reason: why.to_string(),
        };
        let rest = text
            .strip_prefix("s3://")
            .ok_or_else(|| invalid("it must start with s3://"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(invalid("the bucket name is missing"));
        }
        Ok(S3Location {
            bucket: bucket.to_string(),
            prefix: prefix.trim_start_matches('/').to_string(),
        })
    }
}

impl fmt::Display for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// Errors that stop reading a trail from S3. An object that cannot be fetched is not one: it is
/// reported with the damaged files.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("invalid S3 URL {url:?}: {reason}; write it as s3://bucket/prefix")]
    InvalidUrl { url: String, reason: String },
    #[error(
        "S3 denied {operation} on bucket {bucket} with prefix {prefix:?} ({code}). ctq needs s3:ListBucket on arn:aws:s3:::{bucket} for that prefix and s3:GetObject on arn:aws:s3:::{bucket}/{prefix}*; see docs/s3.md for a minimal policy"
    )]
    AccessDenied {
        operation: &'static str,
        bucket: String,
        prefix: String,
        code: String,
    },
    #[error(
        "S3 denied {operation} on bucket {bucket} under prefix {prefix:?} ({code}). A store on S3 needs s3:ListBucket on arn:aws:s3:::{bucket} for that prefix and s3:GetObject, s3:PutObject and s3:DeleteObject on arn:aws:s3:::{bucket}/{prefix}*; see docs/store.md"
    )]
    StoreAccessDenied {
        operation: &'static str,
        bucket: String,
        prefix: String,
        code: String,
    },
    #[error(
        "bucket {bucket} does not exist or is not visible with these credentials; check the bucket name in the s3:// URL, and --profile or --endpoint-url"
    )]
    NoSuchBucket { bucket: String },
    #[error(
        "bucket {bucket} of the store does not exist or is not visible with these credentials; fix the bucket name, --region or --profile, or for a new store create the bucket first: `{create}`"
    )]
    NoSuchStoreBucket { bucket: String, create: String },
    #[error(
        "{reason} ({operation} on {url}: {attempts} attempt(s) in {elapsed}); check {check}, or give S3 more time with --s3-timeout SECS"
    )]
    NoAnswer {
        reason: String,
        operation: &'static str,
        url: String,
        attempts: u32,
        elapsed: String,
        check: &'static str,
    },
    #[error(
        "no AWS credentials found for S3; tried {tried}. Configure some with `aws configure` (or `aws configure sso`) and pass --profile NAME, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; see docs/s3.md"
    )]
    NoCredentials { tried: String },
    #[error("cannot get AWS credentials for S3: {reason}")]
    Credentials { reason: String },
    #[error(
        "AWS profile {profile:?} is not defined in {} or {}{}; check the name (`aws configure list-profiles`) or create it (`aws configure --profile {profile}`)",
        config.display(),
        credentials.display(),
        if defined.is_empty() { " (no profile is defined there)".to_string() } else { format!(" (they define: {})", defined.join(", ")) }
    )]
    ProfileNotFound {
        profile: String,
        config: std::path::PathBuf,
        credentials: std::path::PathBuf,
        defined: Vec<String>,
    },
    #[error(
        "cannot read the AWS profile files {} and {}: {reason}",
        config.display(),
        credentials.display()
    )]
    ProfileFiles {
        config: std::path::PathBuf,
        credentials: std::path::PathBuf,
        reason: String,
    },
    #[error(
        "bucket {bucket} is in another region{}; pass --region",
        region.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
    )]
    WrongRegion {
        bucket: String,
        region: Option<String>,
    },
    #[error(
        "{operation} on bucket {bucket} with prefix {prefix:?} failed after {attempts} attempts: {reason}"
    )]
    Request {
        operation: &'static str,
        bucket: String,
        prefix: String,
        attempts: u32,
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let l: S3Location = "s3://trail-bucket/AWSLogs/o-a1b2c3d4e5/".parse().unwrap();
        assert_eq!(l.bucket, "trail-bucket");
        assert_eq!(l.prefix, "AWSLogs/o-a1b2c3d4e5/");
        let root: S3Location = "s3://trail-bucket".parse().unwrap();
        assert_eq!(root.prefix, "");
        assert!("s3:///x".parse::<S3Location>().is_err());
        assert!("/tmp/x".parse::<S3Location>().is_err());
        assert_eq!(l.url_of("k.json.gz"), "s3://trail-bucket/k.json.gz");
    }
}
