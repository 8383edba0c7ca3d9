//! Reading `performance_analytics`. The sync worker stores several kinds of rows per
//! day: the daily total (no hour, no breakdown), hourly totals, and breakdown rows
//! (platform/placement, age/gender, location). Every figure here is summed from the
//! rows of one kind, and ratios are computed from the sums — never averaged — and are
//! null when their divisor is zero.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::db::Tenant;
use crate::domain::CampaignId;
use crate::domain::metrics::{Breakdown, Granularity};
use crate::domain::weeks::WeekCover;
use crate::error::AppError;

/// The column whose value names a series of `breakdown`, and the filter picking its rows.
pub(crate) fn rows_of(breakdown: Breakdown) -> (&'static str, &'static str) {
    match breakdown {
        Breakdown::None => (
            "NULL::text",
            "platform IS NULL AND placement IS NULL AND age_range IS NULL AND gender IS NULL AND location IS NULL",
        ),
        Breakdown::Platform => (
            "platform",
            "platform IS NOT NULL AND age_range IS NULL AND gender IS NULL AND location IS NULL",
        ),
        Breakdown::Placement => (
            "placement",
            "placement IS NOT NULL AND age_range IS NULL AND gender IS NULL AND location IS NULL",
        ),
        Breakdown::Age => (
            "age_range",
            "age_range IS NOT NULL AND platform IS NULL AND location IS NULL",
        ),
        Breakdown::Gender => (
            "gender",
            "gender IS NOT NULL AND platform IS NULL AND location IS NULL",
        ),
        Breakdown::Location => (
            "location",
            "location IS NOT NULL AND platform IS NULL AND age_range IS NULL AND gender IS NULL",
        ),
    }
}

/// Summed figures of one bucket (a day, an hour, a breakdown value, or a whole range).
#[derive(Clone, Debug)]
pub struct Metrics {
    pub impressions: i64,
    pub clicks: i64,
    pub spend: Decimal,
    pub conversions: i64,
    pub conversion_value: Decimal,
    /// clicks / impressions.
    pub ctr: Option<Decimal>,
    /// spend / clicks, INR.
    pub cpc: Option<Decimal>,
    /// spend / conversions, INR.
    pub cpa: Option<Decimal>,
    /// conversion value / spend.
    pub roas: Option<Decimal>,
}

const SUMS: &str = "coalesce(sum(impressions), 0)::int8 AS impressions, coalesce(sum(clicks), 0)::int8 AS clicks, \
    coalesce(sum(spend), 0)::numeric(14,2) AS spend, coalesce(sum(conversions), 0)::int8 AS conversions, \
    coalesce(sum(conversion_value), 0)::numeric(14,2) AS conversion_value, \
    CASE WHEN sum(impressions) > 0 THEN round(sum(clicks)::numeric / sum(impressions), 6) END AS ctr, \
    CASE WHEN sum(clicks) > 0 THEN round(sum(spend) / sum(clicks), 4) END AS cpc, \
    CASE WHEN sum(conversions) > 0 THEN round(sum(spend) / sum(conversions), 4) END AS cpa, \
    CASE WHEN sum(spend) > 0 THEN round(sum(conversion_value) / sum(spend), 4) END AS roas";

impl From<&Row> for Metrics {
    fn from(r: &Row) -> Self {
        Self {
            impressions: r.get("impressions"),
            clicks: r.get("clicks"),
            spend: r.get("spend"),
            conversions: r.get("conversions"),
            conversion_value: r.get("conversion_value"),
            ctr: r.get("ctr"),
            cpc: r.get("cpc"),
            cpa: r.get("cpa"),
            roas: r.get("roas"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Point {
    pub date: NaiveDate,
    /// 0–23, for hourly series.
    pub hour: Option<i32>,
    /// The breakdown value (e.g. "instagram", "25-34", "female").
    pub key: Option<String>,
    pub metrics: Metrics,
}

/// The series for one campaign over `[from, to]`.
pub async fn series(
    t: &Tenant<'_>,
    campaign: CampaignId,
    from: NaiveDate,
    to: NaiveDate,
    granularity: Granularity,
    breakdown: Breakdown,
) -> Result<Vec<Point>, AppError> {
    let (key, kind) = rows_of(breakdown);
    let hour = match granularity {
        Granularity::Day => "hour IS NULL",
        Granularity::Hour => "hour IS NOT NULL",
    };
    let sql = format!(
        "SELECT date, hour, {key} AS key, {SUMS} FROM performance_analytics \
         WHERE campaign_id = $1 AND date BETWEEN $2 AND $3 AND {hour} AND {kind} \
         GROUP BY date, hour, {key} ORDER BY date, hour NULLS FIRST, key NULLS FIRST"
    );
    let rows = t.tx.query(&sql, &[&campaign.0, &from, &to]).await?;
    Ok(rows
        .iter()
        .map(|r| Point {
            date: r.get("date"),
            hour: r.get("hour"),
            key: r.get("key"),
            metrics: Metrics::from(r),
        })
        .collect())
}

/// The campaign's totals over `[from, to]`, from its daily rollup (`campaign_daily_totals`).
pub async fn totals(
    t: &Tenant<'_>,
    campaign: CampaignId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Metrics, AppError> {
    let sql = format!(
        "SELECT {SUMS} FROM campaign_daily_totals WHERE campaign_id = $1 AND date BETWEEN $2 AND $3"
    );
    Ok(Metrics::from(
        &t.tx.query_one(&sql, &[&campaign.0, &from, &to]).await?,
    ))
}

#[derive(Clone, Debug)]
pub struct CampaignSummary {
    pub campaign_id: Uuid,
    pub name: String,
    pub status: String,
    pub metrics: Metrics,
}

/// The ratios of one row's already-summed figures (see `SUMS`).
const RATIOS: &str = "impressions, clicks, spend, conversions, conversion_value, \
    CASE WHEN impressions > 0 THEN round(clicks::numeric / impressions, 6) END AS ctr, \
    CASE WHEN clicks > 0 THEN round(spend / clicks, 4) END AS cpc, \
    CASE WHEN conversions > 0 THEN round(spend / conversions, 4) END AS cpa, \
    CASE WHEN spend > 0 THEN round(conversion_value / spend, 4) END AS roas";

/// Per-campaign totals for every live campaign of the tenant over `[from, to]` (the
/// newest 1,000), and the totals of all of them: the whole weeks of the range from the
/// weekly rollup, the days at either end from the daily one (about ten rows per campaign
/// for thirty days), summed once per campaign.
pub async fn summary(
    t: &Tenant<'_>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(Vec<CampaignSummary>, Metrics), AppError> {
    let cover = WeekCover::of(from, to);
    let figures = "campaign_id, impressions, clicks, spend, conversions, conversion_value";
    let per = format!(
        "WITH parts AS (SELECT {figures} FROM campaign_weekly_totals WHERE user_id = $1 AND week BETWEEN $2 AND $3 \
                        UNION ALL \
                        SELECT {figures} FROM campaign_daily_totals WHERE user_id = $1 AND date BETWEEN $4 AND $5 \
                        UNION ALL \
                        SELECT {figures} FROM campaign_daily_totals WHERE user_id = $1 AND date BETWEEN $6 AND $7), \
              per AS (SELECT campaign_id, sum(impressions) AS impressions, sum(clicks) AS clicks, sum(spend) AS spend, \
                             sum(conversions) AS conversions, sum(conversion_value) AS conversion_value \
                      FROM parts GROUP BY campaign_id), \
              live AS (SELECT c.id, c.name, c.status, c.created_at, \
                              coalesce(p.impressions, 0)::int8 AS impressions, coalesce(p.clicks, 0)::int8 AS clicks, \
                              coalesce(p.spend, 0)::numeric(14,2) AS spend, \
                              coalesce(p.conversions, 0)::int8 AS conversions, \
                              coalesce(p.conversion_value, 0)::numeric(14,2) AS conversion_value \
                       FROM campaigns c LEFT JOIN per p ON p.campaign_id = c.id \
                       WHERE c.user_id = $1 AND c.deleted_at IS NULL) \
         (SELECT false AS whole, created_at, id, name, status, {RATIOS} FROM live \
          ORDER BY created_at DESC, id DESC LIMIT 1000) \
         UNION ALL \
         SELECT true, NULL, NULL, NULL, NULL, {SUMS} FROM live \
         ORDER BY whole, created_at DESC, id DESC"
    );
    let rows =
        t.tx.query(
            &per,
            &[
                &t.user().0,
                &cover.weeks.0,
                &cover.weeks.1,
                &cover.head.0,
                &cover.head.1,
                &cover.tail.0,
                &cover.tail.1,
            ],
        )
        .await?;
    let (all, each): (Vec<Row>, Vec<Row>) = rows.into_iter().partition(|r| r.get("whole"));
    let all = all
        .first()
        .ok_or_else(|| AppError::Internal("summary without its totals row".into()))?;
    let campaigns = each
        .iter()
        .map(|r| CampaignSummary {
            campaign_id: r.get("id"),
            name: r.get("name"),
            status: r.get("status"),
            metrics: Metrics::from(r),
        })
        .collect();
    Ok((campaigns, Metrics::from(all)))
}
