//! The `system_config` responses: what the API answers, each made from its `shared::repo::system_config` row.

use crate::domain::billing::{BillingCycle, Provider, Tier};
use crate::repo::system_config as row;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

/// One tier's price for one billing cycle in one currency, and who charges it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Price {
    /// Monthly or annual.
    pub billing_cycle: BillingCycle,
    /// What a cycle costs, in `currency`.
    #[schema(value_type = String, example = "3999.00")]
    pub amount: Decimal,
    /// ISO 4217.
    #[schema(example = "INR")]
    pub currency: String,
    /// Who charges it.
    pub provider: Provider,
}

impl From<row::Price> for Price {
    fn from(r: row::Price) -> Self {
        Self {
            billing_cycle: r.billing_cycle,
            amount: r.amount,
            currency: r.currency,
            provider: r.provider,
        }
    }
}

/// A plan on sale: its tier, what it includes, and its prices.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Plan {
    /// The tier it sells.
    pub tier: Tier,
    /// Its name.
    pub name: String,
    /// AI credits per month.
    pub ai_credits: i32,
    /// Its prices, per cycle, currency and provider.
    pub prices: Vec<Price>,
}

impl From<row::Plan> for Plan {
    fn from(r: row::Plan) -> Self {
        Self {
            tier: r.tier,
            name: r.name,
            ai_credits: r.ai_credits,
            prices: r.prices.into_iter().map(Into::into).collect(),
        }
    }
}
