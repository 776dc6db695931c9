//! Single objects under a location, read and written whole: what a Parquet store on S3 needs.
//! And an `object_store` client configured like ctq's own, so that DataFusion's listing tables
//! read the same bucket with the same endpoint, addressing, credentials and timeouts.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::config::ProvideCredentials;
use aws_sdk_s3::primitives::ByteStream;
use object_store::aws::{AmazonS3, AmazonS3Builder, AwsCredential};
use object_store::{BackoffConfig, ClientOptions, RetryConfig};

use crate::client::{Purpose, S3Stats};
use crate::{S3Error, S3Trail};

impl S3Trail {
    /// The key of `relative` under the location's prefix.
    pub fn key_of(&self, relative: &str) -> String {
        let prefix = self.location.prefix.trim_end_matches('/');
        if prefix.is_empty() {
            relative.to_string()
        } else {
            format!("{prefix}/{relative}")
        }
    }

    /// Every object under the location, as (key relative to the prefix, size).
    pub async fn list_all(&self) -> Result<Vec<(String, u64)>, S3Error> {
        let prefix = self.key_of("");
        let (_, keys) = self.list_page_set(&prefix, None, Purpose::Store).await?;
        Ok(keys
            .into_iter()
            .filter_map(|(key, version)| {
                key.strip_prefix(&prefix)
                    .map(|relative| (relative.to_string(), version.size))
            })
            .collect())
    }

    /// The object `relative`, or `None` when there is none. A missing bucket is an error, not
    /// an absent object.
    pub async fn get_if_exists(&self, relative: &str) -> Result<Option<Vec<u8>>, S3Error> {
        let key = self.key_of(relative);
        let fetched = self
            .with_retries(|deadline| {
                let request = self
                    .client
                    .get_object()
                    .bucket(&self.location.bucket)
                    .key(&key)
                    .send();
                async move {
                    S3Stats::add(&self.stats.get_requests, 1);
                    let response = match self.answer(Some(deadline), request).await {
                        Ok(response) => response,
                        Err(failure) => {
                            let absent = failure.code.as_deref() == Some("NoSuchKey")
                                || (failure.status == Some(404)
                                    && failure.code.as_deref() != Some("NoSuchBucket"));
                            return if absent { Ok(None) } else { Err(failure) };
                        }
                    };
                    Ok(Some(self.read_body(response.body).await?))
                }
            })
            .await
            .map_err(|gave_up| self.request_error(Purpose::Store, "GetObject", &key, gave_up))?;
        if let Some(bytes) = &fetched {
            S3Stats::add(&self.stats.bytes_fetched, bytes.len() as u64);
        }
        Ok(fetched)
    }

    /// Writes `relative` whole. S3 makes an object visible only once all of it is stored, so a
    /// reader sees the old object or the new one, never a part.
    pub async fn put(&self, relative: &str, bytes: Vec<u8>) -> Result<(), S3Error> {
        let key = self.key_of(relative);
        let timeouts = self.put_timeouts(bytes.len());
        let body = bytes::Bytes::from(bytes);
        self.with_retries(|_| {
            let request = self
                .client
                .put_object()
                .bucket(&self.location.bucket)
                .key(&key)
                .body(ByteStream::from(body.clone()))
                .customize()
                .config_override(
                    aws_sdk_s3::config::Builder::default().timeout_config(timeouts.clone()),
                )
                .send();
            async move {
                S3Stats::add(&self.stats.put_requests, 1);
                // Not cut at the budget: the wait includes the upload, which a large body needs.
                self.answer(None, request).await.map(|_| ())
            }
        })
        .await
        .map_err(|gave_up| self.request_error(Purpose::Store, "PutObject", &key, gave_up))
    }

    /// Removes `relative`; removing an object that is not there is not an error.
    pub async fn delete(&self, relative: &str) -> Result<(), S3Error> {
        let key = self.key_of(relative);
        self.with_retries(|deadline| {
            let request = self
                .client
                .delete_object()
                .bucket(&self.location.bucket)
                .key(&key)
                .send();
            async move {
                S3Stats::add(&self.stats.delete_requests, 1);
                self.answer(Some(deadline), request).await.map(|_| ())
            }
        })
        .await
        .map_err(|gave_up| self.request_error(Purpose::Store, "DeleteObject", &key, gave_up))
    }

    /// An `object_store` client for this location's bucket, for DataFusion to read objects
    /// with: the same region, endpoint, addressing style and credential chain as this client.
    pub fn object_store(&self) -> Result<AmazonS3, S3Error> {
        let config = self.client.config();
        let region = config
            .region()
            .map_or_else(|| "us-east-1".to_string(), std::string::ToString::to_string);
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&self.location.bucket)
            .with_region(region)
            .with_virtual_hosted_style_request(false);
        // object_store has no wait-for-first-byte timeout: each of its requests gets the budget
        // whole, and no retry starts after it.
        let options = &self.options;
        let mut client = ClientOptions::new()
            .with_connect_timeout(options.connect_timeout)
            .with_timeout(options.request_budget);
        if self.endpoint.custom {
            // S3-compatible servers are often plain HTTP on a private network.
            client = client.with_allow_http(self.endpoint.name.starts_with("http://"));
            builder = builder.with_endpoint(&self.endpoint.name);
        }
        builder = builder.with_client_options(client).with_retry(RetryConfig {
            backoff: BackoffConfig {
                init_backoff: options.retry_base_delay,
                max_backoff: Duration::from_secs(5),
                base: 2.0,
            },
            max_retries: options.max_attempts.saturating_sub(1) as usize,
            retry_timeout: options.request_budget,
        });
        if let Some(provider) = &self.credentials {
            builder = builder.with_credentials(Arc::new(SdkCredentials(provider.clone())));
        }
        builder.build().map_err(|e| S3Error::Request {
            operation: "configure",
            bucket: self.location.bucket.clone(),
            prefix: self.location.prefix.clone(),
            attempts: 0,
            reason: e.to_string(),
        })
    }
}

/// The AWS SDK's credential chain (profiles, SSO, `credential_process`, web identity, roles) as
/// `object_store` credentials, refreshed by the SDK's cache.
#[derive(Debug)]
struct SdkCredentials(aws_sdk_s3::config::SharedCredentialsProvider);

#[async_trait::async_trait]
impl object_store::CredentialProvider for SdkCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        let credentials =
            self.0
                .provide_credentials()
                .await
                .map_err(|e| object_store::Error::Generic {
                    store: "S3",
                    source: Box::new(e),
                })?;
        Ok(Arc::new(AwsCredential {
            key_id: credentials.access_key_id().to_string(),
            secret_key: credentials.secret_access_key().to_string(),
            token: credentials.session_token().map(str::to_string),
        }))
    }
}
