//! Cancelling at their provider (Razorpay or Stripe) the subscriptions a newer paid one
//! superseded. The webhook that made the new one current sweeps its user's right after
//! its commit; maintenance sweeps everyone's every minute, so a failed or interrupted
//! attempt is retried with backoff until the provider confirms the subscription ended.

use serde::Serialize;
use uuid::Uuid;

use super::Gateways;
use crate::db::WorkerDb;
use crate::error::AppError;
use crate::repo::subscriptions::{self, DueCancellation};

/// What one sweep did.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct Swept {
    /// Provider subscriptions cancelled.
    pub cancelled: usize,
    /// Cancellations that failed and will be tried again.
    pub failed: usize,
}

/// Seconds before attempt `attempts + 1`: 30 s doubling up to six hours.
pub fn backoff_seconds(attempts: i32) -> i64 {
    (30i64 << attempts.clamp(0, 10)).min(6 * 3600)
}

/// Cancels every due superseded subscription (of `user` only, when given).
pub async fn cancel_due(
    db: &WorkerDb,
    gateways: &Gateways,
    user: Option<Uuid>,
) -> Result<Swept, AppError> {
    let due = db
        .run("claim-superseded", async |w| {
            subscriptions::claim_due_cancellations(w, user, 50).await
        })
        .await?;
    let mut swept = Swept::default();
    for sub in due {
        if cancel_one(db, gateways, &sub).await? {
            swept.cancelled += 1;
        } else {
            swept.failed += 1;
        }
    }
    Ok(swept)
}

async fn cancel_one(
    db: &WorkerDb,
    gateways: &Gateways,
    sub: &DueCancellation,
) -> Result<bool, AppError> {
    let remote_id = sub.remote_id.as_str();
    // An open Stripe Checkout Session is expired: it can no longer be paid.
    let outcome = if sub.checkout {
        gateways.close_checkout(sub.provider, remote_id).await
    } else {
        gateways.end_now(sub.provider, remote_id).await
    };
    db.run("record-superseded", async |w| match &outcome {
        Ok(status) => {
            tracing::info!(subscription_id = %sub.id, user_id = %sub.user_id, provider = sub.provider.as_str(),
                           remote_id, status, "superseded subscription ended at its provider");
            subscriptions::cancellation_done(w, sub.id, status).await
        }
        Err(e) => {
            tracing::warn!(subscription_id = %sub.id, user_id = %sub.user_id, provider = sub.provider.as_str(),
                           remote_id, attempts = sub.attempts, error = %e, "cancelling a superseded subscription failed; will retry");
            subscriptions::cancellation_failed(w, sub.id, &e.to_string(), backoff_seconds(sub.attempts)).await
        }
    })
    .await?;
    Ok(outcome.is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_thirty_seconds_to_six_hours() {
        assert_eq!(backoff_seconds(0), 30);
        assert_eq!(backoff_seconds(1), 60);
        assert_eq!(backoff_seconds(5), 960);
        assert_eq!(backoff_seconds(40), 6 * 3600);
    }
}
