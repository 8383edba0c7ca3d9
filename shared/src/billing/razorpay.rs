//! The Razorpay Subscriptions API client: base URL from `RAZORPAY_API_URL` (default
//! `https://api.razorpay.com/v1`), HTTP basic auth with the key id and secret. Errors
//! carry Razorpay's own description, which is safe to show the user.

use super::ended_status;
use crate::config::{ConfigError, or_default, required};
use crate::error::AppError;
use crate::outbound::{LazyHttp, json_answer};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Clone)]
/// Razorpay's REST API (basic auth with the key id and secret).
pub struct Razorpay {
    http: LazyHttp,
    base: String,
    /// The public key id, which checkout pages are given.
    pub key_id: String,
    key_secret: String,
}

/// The part of a Razorpay subscription entity we use.
#[derive(Clone, Debug, Deserialize)]
pub struct RazorpaySubscription {
    /// Razorpay's id (`sub_…`).
    pub id: String,
    /// created, authenticated, active, pending, halted, cancelled, completed or expired.
    pub status: String,
    /// The hosted page where the customer authorises the mandate.
    pub short_url: Option<String>,
    /// The plan it bills (`plan_…`).
    pub plan_id: String,
}

impl Razorpay {
    /// A client for the API at `base`.
    pub fn new(base: &str, key_id: &str, key_secret: &str) -> Self {
        Self {
            http: LazyHttp::with_timeout(std::time::Duration::from_secs(8)),
            base: base.trim_end_matches('/').to_owned(),
            key_id: key_id.to_owned(),
            key_secret: key_secret.to_owned(),
        }
    }

    /// `RAZORPAY_API_URL` (default the live API), `RAZORPAY_KEY_ID`, `RAZORPAY_KEY_SECRET`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self::new(
            &or_default("RAZORPAY_API_URL", "https://api.razorpay.com/v1"),
            &required("RAZORPAY_KEY_ID")?,
            &required("RAZORPAY_KEY_SECRET")?,
        ))
    }

    /// `POST /subscriptions`: a subscription to `plan_id` for `total_count` cycles, with
    /// our user id in the notes so webhooks can be traced back.
    pub async fn create_subscription(
        &self,
        plan_id: &str,
        total_count: u32,
        user_id: &str,
    ) -> Result<RazorpaySubscription, AppError> {
        self.post(
            "/subscriptions",
            &json!({
                "plan_id": plan_id,
                "total_count": total_count,
                "quantity": 1,
                "customer_notify": 1,
                "notes": {"user_id": user_id},
            }),
        )
        .await
    }

    /// `POST /subscriptions/{id}/cancel`, now or at the end of the current cycle.
    pub async fn cancel_subscription(
        &self,
        id: &str,
        at_cycle_end: bool,
    ) -> Result<RazorpaySubscription, AppError> {
        self.post(
            &format!("/subscriptions/{id}/cancel"),
            &json!({"cancel_at_cycle_end": u8::from(at_cycle_end)}),
        )
        .await
    }

    /// `GET /subscriptions/{id}`.
    pub async fn subscription(&self, id: &str) -> Result<RazorpaySubscription, AppError> {
        let path = format!("/subscriptions/{id}");
        let req = self.http.client().get(format!("{}{path}", self.base));
        self.send(&path, req).await
    }

    /// Cancels `id` now unless it has already ended at Razorpay (cancelled, completed or
    /// expired), which counts as done: Razorpay refuses to cancel it again. Returns its
    /// status.
    pub async fn end_now(&self, id: &str) -> Result<String, AppError> {
        let cancelled = self.cancel_subscription(id, false).await.map(|s| s.status);
        let now = async { Ok(self.subscription(id).await?.status) };
        ended_status(cancelled, now, &["cancelled", "completed", "expired"]).await
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<T, AppError> {
        let req = self
            .http
            .client()
            .post(format!("{}{path}", self.base))
            .json(body);
        self.send(path, req).await
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<T, AppError> {
        let req = req.basic_auth(&self.key_id, Some(&self.key_secret));
        json_answer(req, "Razorpay", path, &["error", "description"]).await
    }
}
