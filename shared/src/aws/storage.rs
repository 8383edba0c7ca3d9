//! Creative media in S3: presigned upload and download URLs, and reading an object's
//! first bytes to learn what it really is. Objects are addressed as `s3://bucket/key`.

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use chrono::{DateTime, Utc};

use super::LazyClient;
use crate::config::{ConfigError, required};
use crate::error::AppError;

#[derive(Clone)]
/// The assets bucket: presigned uploads and downloads, HEAD, copies and deletes.
pub struct Storage {
    client: LazyClient<aws_sdk_s3::Client>,
    bucket: String,
}

/// A URL the client can use directly, and the headers it must send with it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Presigned {
    /// The URL to send the request to.
    pub url: String,
    /// HTTP method to use.
    pub method: String,
    /// Headers the request must carry exactly.
    pub headers: std::collections::BTreeMap<String, String>,
    /// When the URL stops working.
    pub expires_at: DateTime<Utc>,
}

impl Storage {
    /// The bucket `bucket` through `client`.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client: LazyClient::ready(client),
            bucket: bucket.into(),
        }
    }

    /// The bucket from `ASSETS_BUCKET`; the S3 client is made when first used.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            client: LazyClient::on_first_use(),
            bucket: required("ASSETS_BUCKET")?,
        })
    }

    async fn s3(&self) -> &aws_sdk_s3::Client {
        self.client.get().await
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The `s3://` URL of `key` in this bucket.
    pub fn url_of(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    /// The key of an `s3://` URL in this bucket.
    pub fn key_of<'a>(&self, url: &'a str) -> Option<&'a str> {
        url.strip_prefix("s3://")?
            .strip_prefix(self.bucket.as_str())?
            .strip_prefix('/')
    }

    fn presigning(ttl: Duration) -> Result<PresigningConfig, AppError> {
        PresigningConfig::expires_in(ttl).map_err(AppError::internal)
    }

    /// A PUT for exactly `size` bytes of `content_type`: both are signed, so S3 refuses
    /// any other body.
    pub async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        size: i64,
        ttl: Duration,
    ) -> Result<Presigned, AppError> {
        let req = self
            .s3()
            .await
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(size)
            .presigned(Self::presigning(ttl)?)
            .await
            .map_err(|e| AppError::Internal(format!("presign put: {e:?}")))?;
        Ok(Presigned::of(&req, "PUT", ttl))
    }

    /// A GET URL for `key`, valid for `ttl`; with `filename`, the browser saves it under that name.
    pub async fn presign_get(
        &self,
        key: &str,
        filename: Option<&str>,
        ttl: Duration,
    ) -> Result<Presigned, AppError> {
        let mut op = self.s3().await.get_object().bucket(&self.bucket).key(key);
        if let Some(name) = filename {
            op = op.response_content_disposition(format!(
                "attachment; filename=\"{}\"",
                name.replace('"', "")
            ));
        }
        let req = op
            .presigned(Self::presigning(ttl)?)
            .await
            .map_err(|e| AppError::Internal(format!("presign get: {e:?}")))?;
        Ok(Presigned::of(&req, "GET", ttl))
    }

    /// The object's size in bytes, or `None` if there is no such object.
    pub async fn size(&self, key: &str) -> Result<Option<i64>, AppError> {
        Ok(self.head(key).await?.map(|h| h.size))
    }

    /// The object's size and ETag, or `None` if there is no such object.
    pub async fn head(&self, key: &str) -> Result<Option<Head>, AppError> {
        match self
            .s3()
            .await
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(head) => Ok(Some(Head {
                size: head.content_length().unwrap_or(0),
                etag: head.e_tag().unwrap_or_default().to_owned(),
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(AppError::Internal(format!("head object: {e:?}"))),
        }
    }

    /// Up to `len` bytes of the object starting at `offset`.
    pub async fn read_range(&self, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, AppError> {
        let range = format!("bytes={offset}-{}", offset + len.max(1) - 1);
        let out = self
            .s3()
            .await
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .range(range)
            .send()
            .await
            .map_err(|e| AppError::Internal(format!("get object range: {e:?}")))?;
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| AppError::Internal(format!("read object: {e}")))?;
        Ok(bytes.into_bytes().to_vec())
    }

    /// Stores bytes (used by generation and by tests arranging state).
    pub async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> Result<(), AppError> {
        self.s3()
            .await
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(bytes.into())
            .send()
            .await
            .map_err(|e| AppError::Internal(format!("put object: {e:?}")))?;
        Ok(())
    }

    /// Removes an object (one nobody may have any more: a cancelled generation's media).
    pub async fn delete(&self, key: &str) -> Result<(), AppError> {
        self.s3()
            .await
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| AppError::Internal(format!("delete object: {e:?}")))?;
        Ok(())
    }
}

/// What HEAD says of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// Bytes.
    pub size: i64,
    /// The entity tag S3 gave the object.
    pub etag: String,
}

impl Presigned {
    fn of(req: &aws_sdk_s3::presigning::PresignedRequest, method: &str, ttl: Duration) -> Self {
        Self {
            url: req.uri().to_owned(),
            method: method.to_owned(),
            headers: req
                .headers()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            expires_at: expiry(ttl),
        }
    }
}

fn expiry(ttl: Duration) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(ttl).unwrap_or_default()
}
