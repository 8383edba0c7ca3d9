//! The `subscriptions` responses: what the API answers, each made from its `shared::repo::subscriptions` row.

use crate::domain::billing::{BillingCycle, Provider, SubscriptionStatus, Tier};
use crate::repo::subscriptions as row;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A subscription as its owner sees it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Subscription {
    /// The subscription's id.
    pub id: Uuid,
    /// The plan.
    pub tier: Tier,
    /// Monthly or annual.
    pub billing_cycle: BillingCycle,
    /// trial, active, past_due, paused, cancelled or expired (created: checkout not finished).
    pub status: SubscriptionStatus,
    /// What each cycle costs, in `currency`.
    #[schema(value_type = String, example = "3999.00")]
    pub price: Decimal,
    /// ISO 4217.
    pub currency: String,
    /// When the current period started.
    pub current_period_start: DateTime<Utc>,
    /// When it ends (and renews, unless cancelled).
    pub current_period_end: DateTime<Utc>,
    /// Cancelled: ends at the period's end instead of renewing.
    pub cancel_at_period_end: bool,
    /// AI credits spent this month.
    pub credits_used: i32,
    /// AI credits a month on this plan.
    pub credits_limit: i32,
    /// AI credits left this month.
    pub credits_remaining: i32,
    /// The provider that charges it (null for the trial).
    pub payment_method: Option<Provider>,
    /// What the provider charges: card, upi, emandate, … (when it has told us).
    pub payment_method_type: Option<String>,
    /// The card's brand and last four digits, never its number.
    pub card: Option<CardSummary>,
}

impl From<row::Subscription> for Subscription {
    fn from(r: row::Subscription) -> Self {
        Self {
            id: r.id,
            tier: r.tier,
            billing_cycle: r.billing_cycle,
            status: r.status,
            price: r.price,
            currency: r.currency,
            current_period_start: r.current_period_start,
            current_period_end: r.current_period_end,
            cancel_at_period_end: r.cancel_at_period_end,
            credits_used: r.credits_used,
            credits_limit: r.credits_limit,
            credits_remaining: r.credits_remaining,
            payment_method: r.payment_method,
            payment_method_type: r.payment_method_type,
            card: r.card.map(Into::into),
        }
    }
}

/// A card as its owner may see it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CardSummary {
    /// The card's brand (visa, mastercard, …).
    #[schema(example = "visa")]
    pub brand: Option<String>,
    /// Its last four digits.
    #[schema(example = "4242")]
    pub last4: String,
}

impl From<row::CardSummary> for CardSummary {
    fn from(r: row::CardSummary) -> Self {
        Self {
            brand: r.brand,
            last4: r.last4,
        }
    }
}
