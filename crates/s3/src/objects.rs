//! Single objects under a location, read and written whole: what a Parquet store on S3 needs.
//! And an `object_store` client configured like ctq's own, so that DataFusion's listing tables
//! read the same bucket with the same endpoint, addressing and credentials.

use std::sync::Arc;

use aws_sdk_s3::config::ProvideCredentials;
use aws_sdk_s3::primitives::ByteStream;
use object_store::aws::{AmazonS3, AmazonS3Builder, AwsCredential};

use crate::client::{Failure, S3Stats, body_cut_short, classify, request_error};
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
        let (_, keys) = self.list_page_set(&prefix, None).await?;
        Ok(keys
            .into_iter()
            .filter_map(|(key, version)| {
                key.strip_prefix(&prefix)
                    .map(|relative| (relative.to_string(), version.size))
            })
            .collect())
    }

    /// The object `relative`, or `None` when there is none.
    pub async fn get_if_exists(&self, relative: &str) -> Result<Option<Vec<u8>>, S3Error> {
        let key = self.key_of(relative);
        let fetched = self
            .with_retries(|| async {
                S3Stats::add(&self.stats.get_requests, 1);
                let response = match self
                    .client
                    .get_object()
                    .bucket(&self.location.bucket)
                    .key(&key)
                    .send()
                    .await
                {
                    Ok(response) => response,
                    Err(e) => {
                        let failure = classify(&e);
                        if failure.status == Some(404)
                            || failure.code.as_deref() == Some("NoSuchKey")
                        {
                            return Ok(None);
                        }
                        return Err(failure);
                    }
                };
                let body = response.body.collect().await.map_err(body_cut_short)?;
                Ok(Some(body.into_bytes().to_vec()))
            })
            .await
            .map_err(|(failure, attempts)| {
                self.object_error("GetObject", &key, failure, attempts)
            })?;
        if let Some(bytes) = &fetched {
            S3Stats::add(&self.stats.bytes_fetched, bytes.len() as u64);
        }
        Ok(fetched)
    }

    /// Writes `relative` whole. S3 makes an object visible only once all of it is stored, so a
    /// reader sees the old object or the new one, never a part.
    pub async fn put(&self, relative: &str, bytes: Vec<u8>) -> Result<(), S3Error> {
        let key = self.key_of(relative);
        let body = bytes::Bytes::from(bytes);
        self.with_retries(|| async {
            S3Stats::add(&self.stats.put_requests, 1);
            self.client
                .put_object()
                .bucket(&self.location.bucket)
                .key(&key)
                .body(ByteStream::from(body.clone()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify(&e))
        })
        .await
        .map_err(|(failure, attempts)| self.object_error("PutObject", &key, failure, attempts))
    }

    /// Removes `relative`; removing an object that is not there is not an error.
    pub async fn delete(&self, relative: &str) -> Result<(), S3Error> {
        let key = self.key_of(relative);
        self.with_retries(|| async {
            S3Stats::add(&self.stats.delete_requests, 1);
            self.client
                .delete_object()
                .bucket(&self.location.bucket)
                .key(&key)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify(&e))
        })
        .await
        .map_err(|(failure, attempts)| self.object_error("DeleteObject", &key, failure, attempts))
    }

    fn object_error(
        &self,
        operation: &'static str,
        key: &str,
        failure: Failure,
        attempts: u32,
    ) -> S3Error {
        let bucket = &self.location.bucket;
        request_error(bucket, operation, key, failure, attempts, |code| {
            S3Error::StoreAccessDenied {
                operation,
                bucket: bucket.clone(),
                prefix: self.location.prefix.clone(),
                code,
            }
        })
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
        let endpoint = self.options.endpoint_url.clone().or_else(|| {
            ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
                .iter()
                .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        });
        if let Some(endpoint) = endpoint {
            // S3-compatible servers are often plain HTTP on a private network.
            builder = builder
                .with_allow_http(endpoint.starts_with("http://"))
                .with_endpoint(endpoint);
        }
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
