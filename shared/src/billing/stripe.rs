//! The Stripe API client, plain HTTP with typed answers (the `reqwest` every provider
//! client already links; `async-stripe` would add its generated types to the binary for
//! the seven calls below). Base URL from `STRIPE_API_URL` (default
//! `https://api.stripe.com`), bearer auth with `STRIPE_SECRET_KEY`, form-encoded bodies,
//! an `Idempotency-Key` on every create so a retried request never makes a second
//! customer or checkout. Errors carry Stripe's own message.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::ended_status;
use crate::config::{ConfigError, or_default, required};
use crate::domain::billing::{BillingCycle, Tier};
use crate::error::AppError;
use crate::outbound::{LazyHttp, json_answer};

/// The API version our requests are read under (webhook payloads of older and newer
/// versions are read too; see `billing-webhook`).
pub const API_VERSION: &str = "2025-03-31.basil";

#[derive(Clone)]
/// Stripe's REST API (form-encoded requests, bearer secret key, pinned API version).
pub struct Stripe {
    http: LazyHttp,
    base: String,
    secret_key: String,
}

/// The part of a Checkout Session we use.
#[derive(Clone, Debug, Deserialize)]
pub struct CheckoutSession {
    /// Stripe's id (`cs_…`).
    pub id: String,
    /// The hosted payment page (null once the session is complete or expired).
    pub url: Option<String>,
    /// open, complete or expired.
    pub status: Option<String>,
}

/// The part of a subscription we use.
#[derive(Clone, Debug, Deserialize)]
pub struct StripeSubscription {
    /// Stripe's id (`sub_…`).
    pub id: String,
    /// incomplete, trialing, active, past_due, canceled, unpaid, …
    pub status: String,
}

/// A card's brand and last four digits, never its number.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Card {
    /// visa, mastercard, amex, …
    pub brand: Option<String>,
    /// The last four digits.
    pub last4: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
/// A saved payment method, with its card if it is one.
pub struct PaymentMethod {
    /// Stripe's id (`pm_…`).
    pub id: String,
    #[serde(rename = "type")]
    /// card, upi, …
    pub kind: String,
    /// The card's brand and last four, for cards.
    pub card: Option<Card>,
}

/// A Checkout Session's status alone (expiring reads nothing else).
#[derive(Clone, Debug, Deserialize)]
struct SessionStatus {
    status: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
struct Created {
    id: String,
    url: Option<String>,
}

/// A subscription checkout: one line, priced here, in the currency's smallest unit.
pub struct NewCheckout<'a> {
    /// The Stripe customer (`cus_…`) paying.
    pub customer: &'a str,
    /// Our subscription row the checkout will pay for (in the subscription's metadata,
    /// so its events find the row; and the idempotency key).
    pub subscription_row: Uuid,
    /// The user subscribing.
    pub user_id: Uuid,
    /// The tier bought.
    pub tier: Tier,
    /// Monthly or yearly.
    pub billing_cycle: BillingCycle,
    /// The line's name on the payment page.
    pub product_name: &'a str,
    /// Lower-case ISO code, as Stripe writes it.
    pub currency: &'a str,
    /// The price in the currency's smallest unit (paise, cents).
    pub unit_amount: i64,
    /// Where Stripe sends the customer after paying.
    pub success_url: &'a str,
    /// Where Stripe sends the customer who gives up.
    pub cancel_url: &'a str,
}

impl Stripe {
    /// A client for the API at `base`.
    pub fn new(base: &str, secret_key: &str) -> Self {
        Self {
            http: LazyHttp::with_timeout(std::time::Duration::from_secs(8)),
            base: base.trim_end_matches('/').to_owned(),
            secret_key: secret_key.to_owned(),
        }
    }

    /// `STRIPE_API_URL` (default the live API) and `STRIPE_SECRET_KEY`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self::new(
            &or_default("STRIPE_API_URL", "https://api.stripe.com"),
            &required("STRIPE_SECRET_KEY")?,
        ))
    }

    /// `POST /v1/customers`, once per user (the idempotency key is the user id).
    pub async fn create_customer(&self, user_id: Uuid, email: &str) -> Result<String, AppError> {
        let user = user_id.to_string();
        let created: Created = self
            .post(
                "/v1/customers",
                &[("email", email), ("metadata[user_id]", &user)],
                Some(&format!("customer-{user}")),
            )
            .await?;
        Ok(created.id)
    }

    /// `POST /v1/checkout/sessions` in `subscription` mode.
    pub async fn create_checkout(&self, c: &NewCheckout<'_>) -> Result<CheckoutSession, AppError> {
        let (row, user, amount) = (
            c.subscription_row.to_string(),
            c.user_id.to_string(),
            c.unit_amount.to_string(),
        );
        let (tier, cycle) = (c.tier.as_str(), c.billing_cycle.as_str());
        let interval = match c.billing_cycle {
            BillingCycle::Annual => "year",
            BillingCycle::Monthly => "month",
        };
        let form = [
            ("mode", "subscription"),
            ("customer", c.customer),
            ("client_reference_id", &user),
            ("success_url", c.success_url),
            ("cancel_url", c.cancel_url),
            ("line_items[0][quantity]", "1"),
            ("line_items[0][price_data][currency]", c.currency),
            ("line_items[0][price_data][unit_amount]", &amount),
            ("line_items[0][price_data][recurring][interval]", interval),
            (
                "line_items[0][price_data][product_data][name]",
                c.product_name,
            ),
            ("metadata[adpilot_subscription_id]", &row),
            ("subscription_data[metadata][adpilot_subscription_id]", &row),
            ("subscription_data[metadata][user_id]", &user),
            ("subscription_data[metadata][tier]", &tier),
            ("subscription_data[metadata][billing_cycle]", &cycle),
        ];
        self.post(
            "/v1/checkout/sessions",
            &form,
            Some(&format!("checkout-{row}")),
        )
        .await
    }

    /// `POST /v1/checkout/sessions/{id}/expire`: the page can no longer be paid. A session
    /// already expired counts as done; a completed one is refused (it was paid). Returns
    /// its status.
    pub async fn expire_checkout(&self, id: &str) -> Result<String, AppError> {
        let path = format!("/v1/checkout/sessions/{id}/expire");
        let expired = self
            .post::<SessionStatus>(&path, &[], None)
            .await
            .map(|s| s.status.unwrap_or_else(|| "expired".into()));
        let now = async {
            let session: SessionStatus = self.get(&format!("/v1/checkout/sessions/{id}")).await?;
            Ok(session.status.unwrap_or_default())
        };
        ended_status(expired, now, &["expired"]).await
    }

    /// `POST /v1/billing_portal/sessions`: where the customer changes cards or cancels.
    pub async fn portal(&self, customer: &str, return_url: &str) -> Result<String, AppError> {
        let created: Created = self
            .post(
                "/v1/billing_portal/sessions",
                &[("customer", customer), ("return_url", return_url)],
                None,
            )
            .await?;
        created.url.ok_or_else(|| AppError::Upstream {
            service: "Stripe",
            detail: "the billing portal session has no url".into(),
        })
    }

    /// `GET /v1/subscriptions/{id}`.
    pub async fn subscription(&self, id: &str) -> Result<StripeSubscription, AppError> {
        self.get(&format!("/v1/subscriptions/{id}")).await
    }

    /// `POST /v1/subscriptions/{id}` with `cancel_at_period_end`.
    pub async fn cancel_at_period_end(&self, id: &str) -> Result<StripeSubscription, AppError> {
        self.post(
            &format!("/v1/subscriptions/{id}"),
            &[("cancel_at_period_end", "true")],
            None,
        )
        .await
    }

    /// `DELETE /v1/subscriptions/{id}`: cancelled now.
    pub async fn cancel_now(&self, id: &str) -> Result<StripeSubscription, AppError> {
        let path = format!("/v1/subscriptions/{id}");
        let req = self.http.client().delete(format!("{}{path}", self.base));
        self.send(&path, req).await
    }

    /// Cancels `id` now unless it has already ended at Stripe (canceled or
    /// incomplete_expired), which counts as done. Returns its status.
    pub async fn end_now(&self, id: &str) -> Result<String, AppError> {
        let cancelled = self.cancel_now(id).await.map(|s| s.status);
        let now = async { Ok(self.subscription(id).await?.status) };
        ended_status(cancelled, now, &["canceled", "incomplete_expired"]).await
    }

    /// `GET /v1/payment_methods/{id}`: its type and, for a card, brand and last four.
    pub async fn payment_method(&self, id: &str) -> Result<PaymentMethod, AppError> {
        self.get(&format!("/v1/payment_methods/{id}")).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, AppError> {
        let req = self.http.client().get(format!("{}{path}", self.base));
        self.send(path, req).await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &[(&str, &str)],
        idempotency_key: Option<&str>,
    ) -> Result<T, AppError> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut req = self
            .http
            .client()
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(key) = idempotency_key {
            req = req.header("idempotency-key", key);
        }
        self.send(path, req).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        path: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<T, AppError> {
        let req = req
            .bearer_auth(&self.secret_key)
            .header("stripe-version", API_VERSION);
        json_answer(req, "Stripe", path, &["error", "message"]).await
    }
}
