//! The `usage` responses: what the API answers, each made from its `shared::repo::usage` row.

use crate::domain::billing::{SubscriptionStatus, Tier};
use crate::repo::usage as row;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// The current period's AI credits.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Allowance {
    /// The plan.
    pub tier: Tier,
    /// The subscription's status.
    pub status: SubscriptionStatus,
    /// When the period started.
    pub period_start: DateTime<Utc>,
    /// When it ends.
    pub period_end: DateTime<Utc>,
    /// Credits spent.
    pub credits_used: i32,
    /// Credits allowed.
    pub credits_limit: i32,
    /// Credits left.
    pub credits_remaining: i32,
}

impl From<row::Allowance> for Allowance {
    fn from(r: row::Allowance) -> Self {
        Self {
            tier: r.tier,
            status: r.status,
            period_start: r.period_start,
            period_end: r.period_end,
            credits_used: r.credits_used,
            credits_limit: r.credits_limit,
            credits_remaining: r.credits_remaining,
        }
    }
}

/// Credits spent on one feature over a range of days.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FeatureUsage {
    /// The feature (image_generation, video_generation, …).
    pub feature: String,
    /// Net credits (refunds subtract).
    pub credits: i64,
    /// Number of charges, not counting refunds.
    pub uses: i64,
}

impl From<row::FeatureUsage> for FeatureUsage {
    fn from(r: row::FeatureUsage) -> Self {
        Self {
            feature: r.feature,
            credits: r.credits,
            uses: r.uses,
        }
    }
}
