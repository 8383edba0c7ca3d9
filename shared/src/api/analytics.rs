//! The `analytics` responses: what the API answers, each made from its `shared::repo::analytics` row.

use crate::repo::analytics as row;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Summed figures of one bucket (a day, an hour, a breakdown value, or a whole range).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Metrics {
    /// Impressions.
    pub impressions: i64,
    /// Link clicks.
    pub clicks: i64,
    /// Amount spent, INR.
    #[schema(value_type = String, example = "1520.50")]
    pub spend: Decimal,
    /// Conversions (purchases, leads, installs: the campaign's goal).
    pub conversions: i64,
    /// Value of the conversions, INR.
    #[schema(value_type = String, example = "6100.00")]
    pub conversion_value: Decimal,
    /// clicks / impressions.
    #[schema(value_type = Option<String>)]
    pub ctr: Option<Decimal>,
    /// spend / clicks, INR.
    #[schema(value_type = Option<String>)]
    pub cpc: Option<Decimal>,
    /// spend / conversions, INR.
    #[schema(value_type = Option<String>)]
    pub cpa: Option<Decimal>,
    /// conversion value / spend.
    #[schema(value_type = Option<String>)]
    pub roas: Option<Decimal>,
}

impl From<row::Metrics> for Metrics {
    fn from(r: row::Metrics) -> Self {
        Self {
            impressions: r.impressions,
            clicks: r.clicks,
            spend: r.spend,
            conversions: r.conversions,
            conversion_value: r.conversion_value,
            ctr: r.ctr,
            cpc: r.cpc,
            cpa: r.cpa,
            roas: r.roas,
        }
    }
}

/// One point of a campaign's series: a day, an hour of it, or one breakdown value of a day.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Point {
    /// The day.
    pub date: NaiveDate,
    /// 0–23, for hourly series.
    pub hour: Option<i32>,
    /// The breakdown value (e.g. "instagram", "25-34", "female").
    pub key: Option<String>,
    /// The point's figures.
    #[serde(flatten)]
    pub metrics: Metrics,
}

impl From<row::Point> for Point {
    fn from(r: row::Point) -> Self {
        Self {
            date: r.date,
            hour: r.hour,
            key: r.key,
            metrics: r.metrics.into(),
        }
    }
}

/// One campaign's figures over the summary's range.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CampaignSummary {
    /// The campaign.
    pub campaign_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its status (draft, active, paused, …).
    pub status: String,
    /// Its figures over the range (zero when it did not deliver).
    #[serde(flatten)]
    pub metrics: Metrics,
}

impl From<row::CampaignSummary> for CampaignSummary {
    fn from(r: row::CampaignSummary) -> Self {
        Self {
            campaign_id: r.campaign_id,
            name: r.name,
            status: r.status,
            metrics: r.metrics.into(),
        }
    }
}
