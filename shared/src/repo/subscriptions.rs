//! The `subscriptions` table. Every account has exactly one current subscription from
//! signup on; a trigger copies its tier and status onto `users` in the same transaction.

use chrono::{DateTime, Utc};

use crate::db::Tenant;
use crate::error::AppError;

/// Opens the starter trial for a new account: free, `credits` AI credits, ends at `ends_at`.
pub async fn start_trial(
    t: &Tenant<'_>,
    credits: i32,
    ends_at: DateTime<Utc>,
) -> Result<(), AppError> {
    t.tx.execute(
        "INSERT INTO subscriptions (user_id, tier, billing_cycle, price, currency, status, \
                                    current_period_start, current_period_end, monthly_ai_credits_limit) \
         VALUES ($1, 'starter', 'monthly', 0, 'INR', 'trial', now(), $2, $3)",
        &[&t.user().0, &ends_at, &credits],
    )
    .await?;
    Ok(())
}
