//! Google's generative models over REST, one client for both, base URL from
//! `GEMINI_API_URL` (default `https://generativelanguage.googleapis.com/v1beta`), key in
//! the `x-goog-api-key` header:
//! - images: `POST models/{model}:generateContent` with
//!   `generationConfig.responseModalities = ["IMAGE"]` and `imageConfig.aspectRatio`;
//!   the picture comes back base64 in `candidates[].content.parts[].inlineData`.
//! - video (Veo): `POST models/{model}:predictLongRunning` returns an operation; `GET
//!   {operation name}` until `done`, then download
//!   `response.generateVideoResponse.generatedSamples[0].video.uri`. The key goes only
//!   to the API's own origin: a URI elsewhere is refused, and the download's redirects
//!   (Google answers with one to its storage) are followed without the key, only to the
//!   hosts in `VEO_DOWNLOAD_HOSTS`.
//!
//! 429 and 5xx are transient (retry later); other refusals are permanent and carry
//! Google's message.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use shared::config::{ConfigError, or_default, required};
use shared::outbound::{AllowList, LazyHttp};

/// Where a video download may be redirected (besides the API's own origin).
pub const DEFAULT_DOWNLOAD_HOSTS: &str = "*.googleusercontent.com,storage.googleapis.com";
/// Redirects a download follows at most.
const MAX_REDIRECTS: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelError {
    /// Will not succeed if tried again (refused prompt, bad request, no output).
    Permanent(String),
    /// Worth retrying later (rate limit, outage, network).
    Transient(String),
}

#[derive(Clone)]
pub struct Google {
    http: LazyHttp,
    base: String,
    key: String,
    downloads: AllowList,
}

/// Media as the model returned it.
pub struct Media {
    pub bytes: Vec<u8>,
    pub mime: String,
}

/// Where a video generation stands.
pub enum VideoState {
    Running,
    Done { uri: String },
}

impl Google {
    /// `download_hosts`: where downloads may be redirected, comma-separated (`*.suffix` ok).
    pub fn new(base: &str, key: &str, download_hosts: &str) -> Result<Self, ConfigError> {
        let downloads =
            AllowList::new(base, download_hosts).map_err(|reason| ConfigError::Invalid {
                name: "GEMINI_API_URL",
                reason,
            })?;
        Ok(Self {
            http: LazyHttp::with_timeout(Duration::from_secs(120)),
            base: base.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
            downloads,
        })
    }

    /// `GEMINI_API_URL`, `GEMINI_API_KEY`, `VEO_DOWNLOAD_HOSTS`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new(
            &or_default(
                "GEMINI_API_URL",
                "https://generativelanguage.googleapis.com/v1beta",
            ),
            &required("GEMINI_API_KEY")?,
            &or_default("VEO_DOWNLOAD_HOSTS", DEFAULT_DOWNLOAD_HOSTS),
        )
    }

    pub async fn generate_image(
        &self,
        model: &str,
        prompt: &str,
        aspect_ratio: &str,
        reference: Option<&Media>,
    ) -> Result<Media, ModelError> {
        let mut parts = vec![json!({"text": prompt})];
        if let Some(r) = reference {
            parts.push(
                json!({"inlineData": {"mimeType": r.mime, "data": STANDARD.encode(&r.bytes)}}),
            );
        }
        let body = json!({
            "contents": [{"role": "user", "parts": parts}],
            "generationConfig": {
                "responseModalities": ["IMAGE"],
                "imageConfig": {"aspectRatio": aspect_ratio},
            },
        });
        let answer = self
            .call(
                self.http
                    .client()
                    .post(format!("{}/models/{model}:generateContent", self.base))
                    .json(&body),
            )
            .await?;
        let parts = answer["candidates"][0]["content"]["parts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let inline = parts
            .iter()
            .find_map(|p| p.get("inlineData").or_else(|| p.get("inline_data")));
        let Some(inline) = inline else {
            let why = answer["promptFeedback"]["blockReason"]
                .as_str()
                .or_else(|| answer["candidates"][0]["finishReason"].as_str())
                .unwrap_or("no image in the answer");
            return Err(ModelError::Permanent(format!(
                "the model returned no image ({why})"
            )));
        };
        let bytes = STANDARD
            .decode(inline["data"].as_str().unwrap_or_default())
            .map_err(|e| ModelError::Permanent(format!("the model's image is not base64: {e}")))?;
        Ok(Media {
            bytes,
            mime: inline["mimeType"]
                .as_str()
                .or_else(|| inline["mime_type"].as_str())
                .unwrap_or("image/png")
                .to_owned(),
        })
    }

    /// Starts a Veo generation; returns the operation's name.
    pub async fn start_video(
        &self,
        model: &str,
        prompt: &str,
        aspect_ratio: &str,
    ) -> Result<String, ModelError> {
        let body = json!({
            "instances": [{"prompt": prompt}],
            "parameters": {"aspectRatio": aspect_ratio},
        });
        let op = self
            .call(
                self.http
                    .client()
                    .post(format!("{}/models/{model}:predictLongRunning", self.base))
                    .json(&body),
            )
            .await?;
        op["name"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ModelError::Transient("the answer named no operation".into()))
    }

    pub async fn poll_video(&self, operation: &str) -> Result<VideoState, ModelError> {
        let op = self
            .call(self.http.client().get(format!("{}/{operation}", self.base)))
            .await?;
        if !op["done"].as_bool().unwrap_or(false) {
            return Ok(VideoState::Running);
        }
        if let Some(message) = op["error"]["message"].as_str() {
            return Err(ModelError::Permanent(format!(
                "video generation failed: {message}"
            )));
        }
        let response = &op["response"]["generateVideoResponse"];
        match response["generatedSamples"][0]["video"]["uri"].as_str() {
            Some(uri) => Ok(VideoState::Done {
                uri: uri.to_owned(),
            }),
            None => Err(ModelError::Permanent(format!(
                "the model returned no video ({})",
                response["raiMediaFilteredReasons"][0]
                    .as_str()
                    .unwrap_or("no sample in the answer")
            ))),
        }
    }

    /// The video at `uri`, which must be on the API's origin (the key goes nowhere else);
    /// redirects are followed without the key, only to allowed hosts.
    pub async fn download(&self, uri: &str) -> Result<Vec<u8>, ModelError> {
        let refuse =
            |what: &str| ModelError::Permanent(format!("{what} is outside the allowed hosts"));
        let mut url = reqwest::Url::parse(uri)
            .map_err(|_| ModelError::Permanent("the video URI is not a URL".into()))?;
        if !self.downloads.same_origin(&url) {
            tracing::warn!(
                host = url.host_str(),
                "refused a video URI outside the API's origin"
            );
            return Err(refuse("the video URI"));
        }
        for hop in 0..=MAX_REDIRECTS {
            let mut req = self.http.client().get(url.clone());
            if hop == 0 {
                req = req.header("x-goog-api-key", &self.key);
            }
            let res = req
                .send()
                .await
                .map_err(|e| ModelError::Transient(format!("download: {}", e.without_url())))?;
            let status = res.status();
            if status.is_redirection() {
                url = res
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok())
                    .filter(|next| self.downloads.allows(next))
                    .ok_or_else(|| refuse("the download's redirect"))?;
                continue;
            }
            if !status.is_success() {
                return Err(classify(
                    status,
                    &format!("download answered HTTP {status}"),
                ));
            }
            return res
                .bytes()
                .await
                .map(|b| b.to_vec())
                .map_err(|e| ModelError::Transient(format!("download: {e}")));
        }
        Err(ModelError::Transient("download: too many redirects".into()))
    }

    async fn call(&self, req: reqwest::RequestBuilder) -> Result<Value, ModelError> {
        let res = req
            .header("x-goog-api-key", &self.key)
            .send()
            .await
            .map_err(|e| ModelError::Transient(format!("request: {e}")))?;
        let status = res.status();
        let text = res
            .text()
            .await
            .map_err(|e| ModelError::Transient(format!("response: {e}")))?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !status.is_success() {
            let message = value["error"]["message"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("HTTP {status}"));
            return Err(classify(status, &message));
        }
        if value.is_null() {
            return Err(ModelError::Transient("the answer is not JSON".into()));
        }
        Ok(value)
    }
}

fn classify(status: reqwest::StatusCode, message: &str) -> ModelError {
    if status.as_u16() == 429 || status.is_server_error() || status.as_u16() == 408 {
        ModelError::Transient(format!("{status}: {message}"))
    } else {
        ModelError::Permanent(message.to_owned())
    }
}
