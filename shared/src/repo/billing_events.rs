//! `billing_events` (every Razorpay webhook accepted, once per event id) and `payments`
//! (amounts already converted from paise to INR).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

use crate::db::Worker;
use crate::error::AppError;

pub struct NewEvent<'a> {
    pub provider_event_id: &'a str,
    pub event_type: &'a str,
    pub razorpay_subscription_id: Option<&'a str>,
    pub created_at: DateTime<Utc>,
    pub payload: &'a Value,
}

/// Records the event; false when this event id was recorded before (a redelivery).
/// A concurrent duplicate waits on the unique index and then finds the first one.
pub async fn record(w: &Worker<'_>, e: &NewEvent<'_>) -> Result<bool, AppError> {
    let n =
        w.tx.execute(
            "INSERT INTO billing_events (provider_event_id, event_type, razorpay_subscription_id, \
                                         event_created_at, payload, outcome) \
             VALUES ($1, $2, $3, $4, $5, 'received') ON CONFLICT (provider_event_id) DO NOTHING",
            &[
                &e.provider_event_id,
                &e.event_type,
                &e.razorpay_subscription_id,
                &e.created_at,
                e.payload,
            ],
        )
        .await?;
    Ok(n == 1)
}

/// What applying the event did, for support and audits.
pub async fn set_outcome(
    w: &Worker<'_>,
    provider_event_id: &str,
    user: Option<Uuid>,
    outcome: &str,
) -> Result<(), AppError> {
    w.tx.execute(
        "UPDATE billing_events SET outcome = $2, user_id = $3 WHERE provider_event_id = $1",
        &[&provider_event_id, &outcome, &user],
    )
    .await?;
    Ok(())
}

pub struct Payment<'a> {
    pub razorpay_payment_id: &'a str,
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
        "INSERT INTO payments (razorpay_payment_id, user_id, subscription_id, amount, currency, status, \
                               error_description, paid_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (razorpay_payment_id) DO UPDATE SET \
             status = EXCLUDED.status, error_description = EXCLUDED.error_description, \
             user_id = coalesce(payments.user_id, EXCLUDED.user_id), \
             subscription_id = coalesce(payments.subscription_id, EXCLUDED.subscription_id) \
         WHERE payments.status NOT IN ('captured', 'refunded') OR EXCLUDED.status = 'refunded'",
        &[
            &p.razorpay_payment_id,
            &p.user_id,
            &p.subscription_id,
            &p.amount,
            &p.currency,
            &p.status,
            &p.error_description,
            &p.paid_at,
        ],
    )
    .await?;
    Ok(())
}
