//! The `creative_results` responses: what the API answers, each made from its `shared::repo::creative_results` row.

use crate::repo::creative_results as row;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

/// A creative's results over every day synced.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CreativeResults {
    /// In the campaign's currency.
    #[schema(value_type = String, example = "1520.50")]
    pub spend: Decimal,
    /// Impressions.
    pub impressions: i64,
    /// Link clicks.
    pub clicks: i64,
    /// Conversions.
    pub conversions: i64,
    /// Value of the conversions.
    #[schema(value_type = String, example = "9800.00")]
    pub conversion_value: Decimal,
    /// Days with results.
    pub days: i64,
}

impl From<row::CreativeResults> for CreativeResults {
    fn from(r: row::CreativeResults) -> Self {
        Self {
            spend: r.spend,
            impressions: r.impressions,
            clicks: r.clicks,
            conversions: r.conversions,
            conversion_value: r.conversion_value,
            days: r.days,
        }
    }
}
