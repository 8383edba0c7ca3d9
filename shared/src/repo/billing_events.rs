//! `billing_events` (every Razorpay or Stripe webhook accepted, once per provider and
//! event id) and `payments` (amounts already converted from the provider's smallest
//! unit by the currency's exponent).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

use crate::db::Worker;
use crate::domain::billing::Provider;
use crate::error::AppError;

pub struct NewEvent<'a> {
    pub provider: Provider,
    pub provider_event_id: &'a str,
    pub event_type: &'a str,
    /// The provider's subscription id (or Stripe Checkout Session id) it concerns.
    pub provider_subscription_id: Option<&'a str>,
    pub created_at: DateTime<Utc>,
    pub payload: &'a Value,
}

/// Records the event; false when this event id was recorded before (a redelivery).
/// A concurrent duplicate waits on the unique index and then finds the first one.
pub async fn record(w: &Worker<'_>, e: &NewEvent<'_>) -> Result<bool, AppError> {
    let n =
        w.tx.execute(
            "INSERT INTO billing_events (provider, provider_event_id, event_type, provider_subscription_id, \
                                         event_created_at, payload, outcome) \
             VALUES ($6, $1, $2, $3, $4, $5, 'received') \
             ON CONFLICT (provider, provider_event_id) DO NOTHING",
            &[
                &e.provider_event_id,
                &e.event_type,
                &e.provider_subscription_id,
                &e.created_at,
                e.payload,
                &e.provider.as_str(),
            ],
        )
        .await?;
    Ok(n == 1)
}

/// What applying the event did, for support and audits.
pub async fn set_outcome(
    w: &Worker<'_>,
    provider: Provider,
    provider_event_id: &str,
    user: Option<Uuid>,
    outcome: &str,
) -> Result<(), AppError> {
    w.tx.execute(
        "UPDATE billing_events SET outcome = $2, user_id = $3 WHERE provider_event_id = $1 AND provider = $4",
        &[&provider_event_id, &outcome, &user, &provider.as_str()],
    )
    .await?;
    Ok(())
}

pub struct Payment<'a> {
    pub provider: Provider,
    /// Razorpay's pay_…, or Stripe's invoice id in_….
    pub provider_payment_id: &'a str,
    pub user_id: Option<Uuid>,
    pub subscription_id: Option<Uuid>,
    pub amount: Decimal,
    pub currency: &'a str,
    pub status: &'a str,
    pub error_description: Option<&'a str>,
    pub paid_at: DateTime<Utc>,
}

/// Records a payment; a captured payment is never turned back into a failed one.
pub async fn upsert_payment(w: &Worker<'_>, p: &Payment<'_>) -> Result<(), AppError> {
    w.tx.execute(
        "INSERT INTO payments (provider_payment_id, user_id, subscription_id, amount, currency, status, \
                               error_description, paid_at, provider) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (provider, provider_payment_id) DO UPDATE SET \
             status = EXCLUDED.status, error_description = EXCLUDED.error_description, \
             user_id = coalesce(payments.user_id, EXCLUDED.user_id), \
             subscription_id = coalesce(payments.subscription_id, EXCLUDED.subscription_id) \
         WHERE payments.status NOT IN ('captured', 'refunded') OR EXCLUDED.status = 'refunded'",
        &[
            &p.provider_payment_id,
            &p.user_id,
            &p.subscription_id,
            &p.amount,
            &p.currency,
            &p.status,
            &p.error_description,
            &p.paid_at,
            &p.provider.as_str(),
        ],
    )
    .await?;
    Ok(())
}
