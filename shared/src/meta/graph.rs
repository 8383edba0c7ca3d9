//! The one Meta Graph API client (Marketing API v25.0). Base URL from `META_GRAPH_URL`
//! (default `https://graph.facebook.com/v25.0`); the login dialog lives on the same
//! path under `www.facebook.com` (or, for any other host, under that host). Every call
//! carries the user's token in the `Authorization` header (never in a URL, so it cannot
//! reach a log) with `appsecret_proof`. POST parameters are form-encoded with nested
//! values as JSON, as Meta's SDKs send them. Answers carry the usage headers
//! (`X-Business-Use-Case-Usage`, `X-Ad-Account-Usage`, `X-FB-Ads-Insights-Throttle`);
//! errors are classified by Meta's code.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::config::{ConfigError, or_default, required};
use crate::outbound::{AllowList, LazyHttp};
use crate::signature::hmac_sha256_hex;

/// The Graph API version Adpilot speaks.
pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com/v25.0";
/// The permissions Facebook Login must grant.
pub const SCOPES: [&str; 3] = ["ads_management", "ads_read", "business_management"];
/// Asked for but not required: without it the brand analysis skips the Page's posts.
pub const OPTIONAL_SCOPES: [&str; 1] = ["pages_read_engagement"];

#[derive(Clone)]
/// Meta's Graph API for one app: every call signed with `appsecret_proof`, usage headers
/// read from every answer.
pub struct Graph {
    http: LazyHttp,
    base: String,
    /// The Meta app's id (in Facebook Login URLs).
    pub app_id: String,
    app_secret: String,
}

/// What to do about a failed call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Codes 4, 17, 32, 613, 80000–80004: back off and come back later.
    RateLimited,
    /// Code 190: the token expired or was revoked; the user must reconnect.
    TokenInvalid,
    /// HTTP 5xx, codes 1 and 2, network: retry with backoff.
    Transient,
    /// Anything else: Meta refused the request; its message says why.
    Refused,
}

#[derive(Clone, Debug, PartialEq, Eq)]
/// A failed Graph call, classified.
pub struct GraphError {
    /// What to do about it.
    pub kind: ErrorKind,
    /// The HTTP status.
    pub status: u16,
    /// Meta's error code.
    pub code: i64,
    /// Meta's error subcode, when it gives one.
    pub subcode: Option<i64>,
    /// Meta's message (safe to show: it describes the request, not our secrets).
    pub message: String,
}

impl std::fmt::Display for GraphError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Meta error {} ({}): {}",
            self.code, self.status, self.message
        )
    }
}

/// What to do about an answer with HTTP `status` and Meta error `code`.
pub fn classify(status: u16, code: i64) -> ErrorKind {
    match code {
        4 | 17 | 32 | 613 | 80000..=80004 => ErrorKind::RateLimited,
        190 => ErrorKind::TokenInvalid,
        1 | 2 => ErrorKind::Transient,
        _ if status >= 500 => ErrorKind::Transient,
        _ => ErrorKind::Refused,
    }
}

/// The usage headers of one answer, as Meta sent them (JSON strings parsed).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Usage {
    /// `x-business-use-case-usage`.
    pub business_use_case: Option<Value>,
    /// `x-ad-account-usage`.
    pub ad_account: Option<Value>,
    /// `x-fb-ads-insights-throttle`.
    pub insights_throttle: Option<Value>,
}

impl Usage {
    /// The highest utilisation percentage any header reports (0–100+).
    pub fn max_util_pct(&self) -> f64 {
        let mut pcts = Vec::new();
        if let Some(b) = self.business_use_case.as_ref().and_then(Value::as_object) {
            for entries in b.values().filter_map(Value::as_array) {
                for e in entries {
                    for k in ["call_count", "total_cputime", "total_time"] {
                        pcts.extend(e[k].as_f64());
                    }
                }
            }
        }
        if let Some(a) = &self.ad_account {
            pcts.extend(a["acc_id_util_pct"].as_f64());
        }
        if let Some(t) = &self.insights_throttle {
            pcts.extend(t["app_id_util_pct"].as_f64());
            pcts.extend(t["acc_id_util_pct"].as_f64());
        }
        pcts.into_iter().fold(0.0, f64::max)
    }

    /// Minutes Meta says to wait before the account regains access, if any.
    pub fn regain_access_minutes(&self) -> i64 {
        let mut most = 0;
        if let Some(b) = self.business_use_case.as_ref().and_then(Value::as_object) {
            for entries in b.values().filter_map(Value::as_array) {
                for e in entries {
                    most = most.max(e["estimated_time_to_regain_access"].as_i64().unwrap_or(0));
                }
            }
        }
        if let Some(a) = &self.ad_account {
            most = most.max(a["reset_time_duration"].as_i64().unwrap_or(0) / 60);
        }
        most
    }

    fn from_headers(h: &reqwest::header::HeaderMap) -> Self {
        let parse = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| serde_json::from_str(v).ok())
        };
        Self {
            business_use_case: parse("x-business-use-case-usage"),
            ad_account: parse("x-ad-account-usage"),
            insights_throttle: parse("x-fb-ads-insights-throttle"),
        }
    }
}

/// A successful answer.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The answer's JSON.
    pub body: Value,
    /// Its usage headers.
    pub usage: Usage,
}

#[derive(Debug, Deserialize)]
/// An access token from a code exchange or a token extension.
pub struct AccessToken {
    /// The token.
    pub access_token: String,
    /// Seconds until it expires, when Meta says.
    pub expires_in: Option<i64>,
}

impl Graph {
    /// A client for the Graph API at `base` (`…/v25.0`) for the app `app_id`.
    pub fn new(base: &str, app_id: &str, app_secret: &str) -> Self {
        Self {
            http: LazyHttp::with_timeout(Duration::from_secs(60)),
            base: base.trim_end_matches('/').to_owned(),
            app_id: app_id.to_owned(),
            app_secret: app_secret.to_owned(),
        }
    }

    /// `META_GRAPH_URL`, `META_APP_ID`, `META_APP_SECRET`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self::new(
            &or_default("META_GRAPH_URL", DEFAULT_GRAPH_URL),
            &required("META_APP_ID")?,
            &required("META_APP_SECRET")?,
        ))
    }

    /// The API's base URL, version included.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The Facebook Login dialog for `scopes`, returning to `redirect_uri` with `state`.
    pub fn dialog_url(&self, redirect_uri: &str, state: &str) -> String {
        let dialog_base = self.base.replacen("://graph.", "://www.", 1);
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.app_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", state)
            .append_pair(
                "scope",
                &[&SCOPES[..], &OPTIONAL_SCOPES[..]].concat().join(","),
            )
            .append_pair("response_type", "code")
            .finish();
        format!("{dialog_base}/dialog/oauth?{query}")
    }

    /// Exchanges the dialog's code for a (short-lived) user token.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
    ) -> Result<AccessToken, GraphError> {
        self.token(&[
            ("client_id", self.app_id.as_str()),
            ("client_secret", self.app_secret.as_str()),
            ("redirect_uri", redirect_uri),
            ("code", code),
        ])
        .await
    }

    /// Exchanges a short-lived token for a long-lived one (about 60 days).
    pub async fn long_lived(&self, short: &str) -> Result<AccessToken, GraphError> {
        self.token(&[
            ("grant_type", "fb_exchange_token"),
            ("client_id", self.app_id.as_str()),
            ("client_secret", self.app_secret.as_str()),
            ("fb_exchange_token", short),
        ])
        .await
    }

    async fn token(&self, params: &[(&str, &str)]) -> Result<AccessToken, GraphError> {
        // The token endpoint takes its parameters in the query; the secret travels to
        // Meta only, never into our logs.
        let url = with_query(
            &format!("{}/oauth/access_token", self.base),
            params.iter().copied(),
        );
        let reply = self.send(self.http.client().get(url)).await?;
        serde_json::from_value(reply.body).map_err(|e| GraphError {
            kind: ErrorKind::Transient,
            status: 200,
            code: 0,
            subcode: None,
            message: format!("unexpected token answer: {e}"),
        })
    }

    fn proof(&self, token: &str) -> String {
        hmac_sha256_hex(self.app_secret.as_bytes(), token.as_bytes())
    }

    /// The URL of `path`; a full URL (a `paging.next` from Meta's answer) must be on the
    /// Graph API's own origin, or the token would go wherever the answer pointed.
    fn url(&self, path: &str) -> Result<String, GraphError> {
        if !(path.starts_with("http://") || path.starts_with("https://")) {
            return Ok(format!("{}/{}", self.base, path.trim_start_matches('/')));
        }
        let url = reqwest::Url::parse(path).ok();
        let on_graph = url
            .as_ref()
            .zip(AllowList::new(&self.base, "").ok())
            .is_some_and(|(url, graph)| graph.same_origin(url));
        if !on_graph {
            tracing::warn!(
                host = url.as_ref().and_then(|u| u.host_str()),
                "refused a Graph URL outside the Graph API's origin"
            );
            return Err(GraphError {
                kind: ErrorKind::Refused,
                status: 0,
                code: 0,
                subcode: None,
                message: "a paging URL in Meta's answer points outside the Graph API".into(),
            });
        }
        Ok(path.to_owned())
    }

    /// GET `path` (or a full `paging.next` URL) with query parameters.
    pub async fn get(
        &self,
        path: &str,
        token: &str,
        params: &[(&str, String)],
    ) -> Result<Reply, GraphError> {
        let proof = self.proof(token);
        let url = with_query(
            &self.url(path)?,
            params
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .chain([("appsecret_proof", proof.as_str())]),
        );
        let req = self
            .http
            .client()
            .get(url)
            .header("authorization", format!("OAuth {token}"));
        self.send(req).await
    }

    /// POST form parameters to `path`.
    pub async fn post(
        &self,
        path: &str,
        token: &str,
        params: &[(&str, String)],
    ) -> Result<Reply, GraphError> {
        let mut form: Vec<(&str, String)> = params.to_vec();
        form.push(("appsecret_proof", self.proof(token)));
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        let req = self
            .http
            .client()
            .post(self.url(path)?)
            .header("authorization", format!("OAuth {token}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }

    /// DELETEs `path` with the user's `token`.
    pub async fn delete(&self, path: &str, token: &str) -> Result<Reply, GraphError> {
        let proof = self.proof(token);
        let url = with_query(&self.url(path)?, [("appsecret_proof", proof.as_str())]);
        let req = self
            .http
            .client()
            .delete(url)
            .header("authorization", format!("OAuth {token}"));
        self.send(req).await
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Reply, GraphError> {
        let transient = |message: String| GraphError {
            kind: ErrorKind::Transient,
            status: 0,
            code: 0,
            subcode: None,
            message,
        };
        let res = req
            .send()
            .await
            .map_err(|e| transient(format!("request failed: {}", without_url(&e))))?;
        let status = res.status().as_u16();
        let usage = Usage::from_headers(res.headers());
        let text = res
            .text()
            .await
            .map_err(|e| transient(format!("answer unreadable: {}", without_url(&e))))?;
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if let Some(err) = body.get("error").filter(|e| e.is_object()) {
            let code = err["code"].as_i64().unwrap_or(0);
            return Err(GraphError {
                kind: classify(status, code),
                status,
                code,
                subcode: err["error_subcode"].as_i64(),
                message: err["message"]
                    .as_str()
                    .unwrap_or("unknown error")
                    .to_owned(),
            });
        }
        if !(200..300).contains(&status) || body.is_null() {
            return Err(GraphError {
                kind: classify(status, 0),
                status,
                code: 0,
                subcode: None,
                message: format!("HTTP {status}"),
            });
        }
        Ok(Reply { body, usage })
    }
}

/// `url` with `params` appended to its query (a `paging.next` URL already has one).
fn with_query<'a>(url: &str, params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let extra = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    match (extra.is_empty(), url.contains('?')) {
        (true, _) => url.to_owned(),
        (false, true) => format!("{url}&{extra}"),
        (false, false) => format!("{url}?{extra}"),
    }
}

/// A reqwest error's text without the URL (which may carry secrets in a query).
fn without_url(e: &reqwest::Error) -> String {
    let mut e = e.to_string();
    if let Some(i) = e.find(" for url (") {
        e.truncate(i);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn codes_decide_what_to_do() {
        for code in [4, 17, 32, 613, 80000, 80004] {
            assert_eq!(classify(400, code), ErrorKind::RateLimited, "{code}");
        }
        assert_eq!(classify(400, 190), ErrorKind::TokenInvalid);
        assert_eq!(classify(500, 0), ErrorKind::Transient);
        assert_eq!(classify(400, 100), ErrorKind::Refused);
    }

    #[test]
    fn usage_headers_give_the_highest_utilisation_and_the_wait() {
        let u = Usage {
            business_use_case: Some(
                json!({"1234": [{"type": "ads_insights", "call_count": 28, "total_cputime": 91,
                                                     "total_time": 40, "estimated_time_to_regain_access": 7}]}),
            ),
            ad_account: Some(json!({"acc_id_util_pct": 12.5, "reset_time_duration": 0})),
            insights_throttle: Some(json!({"app_id_util_pct": 3, "acc_id_util_pct": 55})),
        };
        assert_eq!(u.max_util_pct(), 91.0);
        assert_eq!(u.regain_access_minutes(), 7);
    }

    #[test]
    fn the_dialog_is_on_www_for_facebook_and_on_the_same_host_otherwise() {
        let fb = Graph::new(DEFAULT_GRAPH_URL, "123", "s");
        let url = fb.dialog_url("https://api.example/v1/meta/callback", "st");
        assert!(
            url.starts_with("https://www.facebook.com/v25.0/dialog/oauth?client_id=123&"),
            "{url}"
        );
        assert!(url.contains(
            "scope=ads_management%2Cads_read%2Cbusiness_management%2Cpages_read_engagement"
        ));
        let local = Graph::new("http://127.0.0.1:9/v25.0", "123", "s");
        assert!(
            local
                .dialog_url("x", "y")
                .starts_with("http://127.0.0.1:9/v25.0/dialog/oauth?")
        );
    }
}
