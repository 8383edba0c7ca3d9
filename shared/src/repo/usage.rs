//! Credit usage: the current subscription's allowance and the `usage_logs` ledger.

use chrono::{DateTime, Utc};

use crate::db::Tenant;
use crate::domain::billing::{SubscriptionStatus, Tier};
use crate::error::AppError;

#[derive(Clone, Debug)]
pub struct Allowance {
    pub tier: Tier,
    pub status: SubscriptionStatus,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub credits_used: i32,
    pub credits_limit: i32,
    pub credits_remaining: i32,
}

pub async fn current_allowance(t: &Tenant<'_>) -> Result<Option<Allowance>, AppError> {
    let row = t
        .tx
        .query_opt(
            "SELECT tier, status, current_period_start, current_period_end, monthly_ai_credits_used, \
                    monthly_ai_credits_limit FROM subscriptions WHERE is_current",
            &[],
        )
        .await?;
    Ok(row.map(|r| {
        let (used, limit): (i32, i32) = (r.get(4), r.get(5));
        Allowance {
            tier: Tier::parse(r.get(0)).unwrap_or(Tier::Starter),
            status: SubscriptionStatus::parse(r.get(1)).unwrap_or(SubscriptionStatus::Expired),
            period_start: r.get(2),
            period_end: r.get(3),
            credits_used: used,
            credits_limit: limit,
            credits_remaining: (limit - used).max(0),
        }
    }))
}

#[derive(Clone, Debug)]
pub struct FeatureUsage {
    pub feature: String,
    /// Net credits (refunds subtract).
    pub credits: i64,
    /// Number of charges, not counting refunds.
    pub uses: i64,
}

/// Net credits per feature for `[from, to)`.
pub async fn by_feature(
    t: &Tenant<'_>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<FeatureUsage>, AppError> {
    let rows = t
        .tx
        .query(
            "SELECT feature, sum(credits_consumed)::int8, count(*) FILTER (WHERE credits_consumed > 0) \
             FROM usage_logs WHERE logged_at >= $1 AND logged_at < $2 GROUP BY feature ORDER BY feature",
            &[&from, &to],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| FeatureUsage {
            feature: r.get(0),
            credits: r.get(1),
            uses: r.get(2),
        })
        .collect())
}
