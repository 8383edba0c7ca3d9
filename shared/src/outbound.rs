//! An outbound HTTPS client made on first use. Building a reqwest client loads the
//! platform's root certificates (≈ 3 ms here: the bundle and every file of the cert
//! directory), which a function should not pay at cold start for routes that never
//! call out (listing campaigns does not talk to Meta; reading a subscription does not
//! talk to Razorpay).
//!
//! The client never follows a redirect by itself: our requests carry credentials (a
//! Meta token, a Razorpay key, Google's API key in a header reqwest would forward), and
//! a URL from a provider's answer is hostile until checked. Code that must follow a URL
//! or a redirect checks it against an `AllowList` first and sends no credentials to it.
//! `json_answer` reads a provider's JSON answer, or its refusal in its own words.

use std::sync::OnceLock;
use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::error::AppError;

/// Sends `req` and reads its JSON answer as `T`. A refusal (not 2xx) is
/// `AppError::Upstream` carrying the provider's own message, found at `message_at` in its
/// error body (the HTTP status when there is none); a failed send or an answer of
/// another shape is an internal error naming `service` and `path`.
pub async fn json_answer<T: DeserializeOwned>(
    req: reqwest::RequestBuilder,
    service: &'static str,
    path: &str,
    message_at: &[&str],
) -> Result<T, AppError> {
    let name = service.to_ascii_lowercase();
    let failed = |e: &dyn std::fmt::Display| AppError::Internal(format!("{name} {path}: {e}"));
    let res = req.send().await.map_err(|e| failed(&e))?;
    let status = res.status();
    let text = res.text().await.map_err(|e| failed(&e))?;
    if !status.is_success() {
        let detail = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| {
                let message = message_at.iter().try_fold(&v, |v, key| v.get(key))?;
                message.as_str().map(str::to_owned)
            })
            .unwrap_or_else(|| format!("HTTP {status}"));
        tracing::warn!(service, path, %status, detail, "{name} refused");
        return Err(AppError::Upstream { service, detail });
    }
    serde_json::from_str(&text).map_err(|e| failed(&format!("unexpected answer: {e}")))
}

#[derive(Clone, Debug)]
/// An HTTP client made on first use (with its timeout), so a cold start that never calls
/// out does not pay for TLS roots.
pub struct LazyHttp {
    client: OnceLock<reqwest::Client>,
    timeout: Duration,
}

impl LazyHttp {
    /// A client whose every request gives up after `timeout`.
    pub fn with_timeout(timeout: Duration) -> Self {
        Self {
            client: OnceLock::new(),
            timeout,
        }
    }

    /// The client, made now if this is the first use.
    pub fn client(&self) -> &reqwest::Client {
        self.client.get_or_init(|| {
            crate::tls::install_process_default();
            reqwest::Client::builder()
                .timeout(self.timeout)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client with the platform's TLS settings")
        })
    }
}

/// The hosts a provider's URLs may point to: the configured API's own origin (as
/// configured, `http` included for the local simulators), plus `https` hosts by name or
/// `*.suffix`.
#[derive(Clone, Debug)]
pub struct AllowList {
    origin: reqwest::Url,
    https_hosts: Vec<String>,
}

impl AllowList {
    /// `base` is the API's configured URL; `hosts` is comma-separated.
    pub fn new(base: &str, hosts: &str) -> Result<Self, String> {
        let origin = reqwest::Url::parse(base).map_err(|e| format!("{base}: {e}"))?;
        let https_hosts = hosts
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        Ok(Self {
            origin,
            https_hosts,
        })
    }

    /// Whether `url` is on the API's own origin (where credentials may go).
    pub fn same_origin(&self, url: &reqwest::Url) -> bool {
        url.scheme() == self.origin.scheme()
            && url.host_str() == self.origin.host_str()
            && url.port_or_known_default() == self.origin.port_or_known_default()
    }

    /// Whether `url` may be fetched at all (credentials only if `same_origin`).
    pub fn allows(&self, url: &reqwest::Url) -> bool {
        if self.same_origin(url) {
            return true;
        }
        let Some(host) = url.host_str().filter(|_| url.scheme() == "https") else {
            return false;
        };
        let host = host.to_ascii_lowercase();
        self.https_hosts.iter().any(|h| match h.strip_prefix("*.") {
            Some(suffix) => host.ends_with(&format!(".{suffix}")),
            None => &host == h,
        }) && url.username().is_empty()
            && url.password().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> reqwest::Url {
        reqwest::Url::parse(s).unwrap()
    }

    #[test]
    fn only_the_apis_origin_and_listed_https_hosts_are_allowed() {
        let list = AllowList::new(
            "https://generativelanguage.googleapis.com/v1beta",
            "*.googleusercontent.com, storage.googleapis.com",
        )
        .unwrap();
        for ok in [
            "https://generativelanguage.googleapis.com/v1beta/files/a:download?alt=media",
            "https://video-downloads.googleusercontent.com/x",
            "https://storage.googleapis.com/bucket/x",
        ] {
            assert!(list.allows(&url(ok)), "{ok}");
        }
        for bad in [
            "http://storage.googleapis.com/bucket/x",
            "https://evil.example/x",
            "https://googleusercontent.com.evil.example/x",
            "https://evilgoogleusercontent.com/x",
            "https://generativelanguage.googleapis.com:8443/x",
            "http://generativelanguage.googleapis.com/x",
            "https://user:pw@storage.googleapis.com/x",
            "http://169.254.169.254/latest/meta-data",
        ] {
            assert!(!list.allows(&url(bad)), "{bad}");
        }
        assert!(!list.same_origin(&url("https://storage.googleapis.com/x")));
    }

    #[test]
    fn a_local_simulator_origin_is_allowed_as_configured() {
        let list = AllowList::new("http://127.0.0.1:4010/v25.0", "").unwrap();
        assert!(list.same_origin(&url("http://127.0.0.1:4010/v25.0/act_1/insights?after=x")));
        assert!(!list.allows(&url("http://127.0.0.1:4011/x")));
    }

    #[test]
    fn the_client_is_made_once_when_first_asked_for_and_then_reused() {
        let http = LazyHttp::with_timeout(Duration::from_secs(1));
        assert!(http.client.get().is_none(), "nothing is built up front");
        let first: *const reqwest::Client = http.client();
        assert!(std::ptr::eq(first, http.client()));
    }
}
