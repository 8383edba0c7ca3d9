//! Delivery summed over a window (a day, a week, a campaign's life): the five additive
//! figures Meta reports, and the ratios derived from them, which are missing (never
//! zero) when their divisor is zero.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A campaign's unique reach over one window, as Meta counts it, with the window's
/// impressions (frequency is impressions / reach).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reach {
    /// People reached.
    pub reach: i64,
    /// Impressions in the same window.
    pub impressions: i64,
}

/// Summed delivery of a campaign, a day, a creative or a breakdown value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sums {
    /// Impressions.
    pub impressions: i64,
    /// Link clicks.
    pub clicks: i64,
    /// Spend in the account currency.
    pub spend: Decimal,
    /// Results (purchases, leads, installs, … as the purpose counts them).
    pub conversions: i64,
    /// The value of the results, in the account currency.
    pub conversion_value: Decimal,
}

impl Sums {
    /// Adds `o` into these sums.
    pub fn add(&mut self, o: &Sums) {
        self.impressions += o.impressions;
        self.clicks += o.clicks;
        self.spend += o.spend;
        self.conversions += o.conversions;
        self.conversion_value += o.conversion_value;
    }

    /// Spend per result; none without results.
    pub fn cost_per_result(&self) -> Option<Decimal> {
        (self.conversions > 0).then(|| (self.spend / Decimal::from(self.conversions)).round_dp(2))
    }

    /// Clicks per impression, in percent; none without impressions.
    pub fn ctr_percent(&self) -> Option<f64> {
        (self.impressions > 0).then(|| self.clicks as f64 * 100.0 / self.impressions as f64)
    }

    /// Conversion value per unit spent; none without spend.
    pub fn roas(&self) -> Option<Decimal> {
        (!self.spend.is_zero()).then(|| (self.conversion_value / self.spend).round_dp(2))
    }
}

/// How finely a campaign's series is cut in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// One point per day.
    Day,
    /// One point per hour of each day.
    Hour,
}

/// Which of Meta's breakdowns a series is split by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Breakdown {
    /// The whole day.
    None,
    /// Per Meta platform (facebook, instagram, …).
    Platform,
    /// Per placement (feed, story, …).
    Placement,
    /// Per age range.
    Age,
    /// Per gender.
    Gender,
    /// Per region.
    Location,
}
