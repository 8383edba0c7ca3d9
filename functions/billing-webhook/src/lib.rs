//! Payment providers' webhooks: `POST /webhooks/razorpay` and `POST /webhooks/stripe`.
//! Each checks its provider's signature, records each event once by the provider's
//! event id, and applies subscription and payment events to the one subscription state
//! machine (`apply`), whichever provider charged. Answers fast: the work is one short
//! worker transaction; then, when a payment made a subscription current, the user's
//! superseded subscriptions are cancelled at their providers (a failure there is
//! retried by maintenance and never fails the delivery).

pub mod razorpay;
pub mod stripe;

use chrono::{DateTime, Utc};
use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::billing::{Gateways, superseded};
use shared::config::{ConfigError, DbConfig, required};
use shared::db::{Worker, WorkerDb};
use shared::domain::billing::SubscriptionStatus;
use shared::domain::notification::{Category, Notice};
use shared::error::AppError;
use shared::repo::notifications;
use shared::repo::subscriptions::{self, Billed, Change};
use utoipa::ToSchema;

pub struct State {
    pub db: WorkerDb,
    /// `RAZORPAY_WEBHOOK_SECRET`: signs `X-Razorpay-Signature`.
    pub webhook_secret: String,
    /// `STRIPE_WEBHOOK_SECRET`: the endpoint's signing secret (whsec_…).
    pub stripe_webhook_secret: String,
    /// Cancels the subscriptions a newly paid one supersedes; reads Stripe cards.
    pub gateways: Gateways,
}

impl State {
    /// `DATABASE_WORKER_URL`, the webhook secrets and the providers' API keys.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            db: WorkerDb::connect(&DbConfig::worker_from_env()?)?,
            webhook_secret: required("RAZORPAY_WEBHOOK_SECRET")?,
            stripe_webhook_secret: required("STRIPE_WEBHOOK_SECRET")?,
            gateways: Gateways::from_env()?,
        })
    }
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    shared::http::serve(req, async |req| route(state, req).await).await
}

async fn route(state: &State, req: Request) -> Result<Response<Body>, AppError> {
    match (req.uri().path().trim_end_matches('/'), req.method().clone()) {
        ("/webhooks/razorpay", Method::POST) => razorpay::receive(state, &req).await,
        ("/webhooks/stripe", Method::POST) => stripe::receive(state, &req).await,
        ("/webhooks/razorpay" | "/webhooks/stripe", _) => Err(AppError::MethodNotAllowed),
        _ => Err(AppError::NotFound),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Received {
    /// The event id the delivery was recorded under.
    pub event_id: String,
    /// applied, duplicate, stale, ignored or unknown_subscription (with a reason).
    pub outcome: String,
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

/// Applies one provider event's `change` to our locked subscription, by the rules
/// every provider shares: a superseded subscription never changes again; an event
/// older than the last one applied keeps only what it proves for good (paid, its
/// period), so any delivery order ends in the same state. Returns the outcome.
pub async fn apply(
    w: &Worker<'_>,
    sub: &Billed,
    remote_id: &str,
    change: Change,
    event_at: DateTime<Utc>,
) -> Result<String, AppError> {
    if sub.superseded {
        return Ok(format!(
            "ignored: {remote_id} was superseded by a newer subscription"
        ));
    }
    if sub.last_event_at.is_some_and(|t| t > event_at) {
        let change = Change {
            event_at: Some(event_at),
            ..change.only_lasting()
        };
        subscriptions::apply_change(w, sub, &change).await?;
        return Ok("stale: older than the last event applied".to_owned());
    }
    let change = Change {
        event_at: Some(event_at),
        ..change
    };
    subscriptions::apply_change(w, sub, &change).await?;
    if change.status == Some(SubscriptionStatus::PastDue)
        && sub.status != SubscriptionStatus::PastDue
    {
        tell_payment_failed(w, sub).await?;
    }
    Ok(format!(
        "applied: {}",
        change
            .status
            .map_or_else(|| "unchanged".to_owned(), SubscriptionStatus::as_str)
    ))
}

/// A payment failed and the subscription is past due: the owner hears of it once per
/// billing period (in the app and by email, which cannot be switched off), in the
/// transaction that records it.
async fn tell_payment_failed(w: &Worker<'_>, sub: &Billed) -> Result<(), AppError> {
    let notice = Notice {
        category: Category::Payment,
        event_key: format!(
            "payment:{}:past_due:{}",
            sub.id,
            sub.current_period_start.date_naive()
        ),
        title: "Your payment failed".into(),
        body: format!(
            "We could not charge your {} plan. Update your payment method so your ads and credits keep running.",
            sub.tier.as_str()
        ),
        link: Some("/billing".into()),
    };
    notifications::notify(w, sub.user_id, &notice).await?;
    Ok(())
}

/// After an event committed for `user`: their superseded subscriptions are cancelled
/// at their providers now (maintenance retries what fails).
async fn sweep_superseded(state: &State, user: uuid::Uuid) {
    match superseded::cancel_due(&state.db, &state.gateways, Some(user)).await {
        Ok(swept) if swept != superseded::Swept::default() => {
            tracing::info!(%user, ?swept, "superseded subscriptions swept")
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(%user, error = %e, "superseded sweep failed; maintenance retries")
        }
    }
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(razorpay::receive, stripe::receive))]
pub struct Api;
