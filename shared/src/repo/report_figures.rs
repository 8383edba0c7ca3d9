//! What a report shows, read in the owner's tenant transaction: per campaign totals with
//! their goals, the daily trend, creatives, breakdowns by platform, placement, age and
//! gender, what the optimizer did and the credits used. Sums come from one kind of
//! `performance_analytics` row each (see `analytics`); totals, days, creatives and
//! breakdowns count only campaigns in the report's currency (the ad account's), so no
//! sum mixes rupees with dollars; a campaign in another currency is listed on its own.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::db::Tenant;
use crate::domain::metrics::Breakdown;
pub use crate::domain::metrics::Sums;
use crate::error::AppError;
use crate::repo::sql::{DAILY_TOTALS, DELIVERY_SUMS, delivery_at};

/// What the owner set as the campaign's goals, read as the optimizer's presets read them.
pub use crate::rules::presets::Goals;

#[derive(Clone, Debug)]
pub struct CampaignLine {
    pub id: Uuid,
    pub name: String,
    pub status: String,
    pub purpose: String,
    pub currency: String,
    pub goals: Goals,
    pub sums: Sums,
}

#[derive(Clone, Debug)]
pub struct DayLine {
    pub date: NaiveDate,
    pub sums: Sums,
}

#[derive(Clone, Debug)]
pub struct CreativeLine {
    pub asset_id: Uuid,
    pub campaign_name: String,
    pub asset_type: String,
    pub filename: Option<String>,
    pub file_url: Option<String>,
    pub content_type: Option<String>,
    pub sums: Sums,
}

#[derive(Clone, Debug)]
pub struct BreakdownLine {
    /// platform, placement, age or gender.
    pub dimension: &'static str,
    pub value: String,
    pub sums: Sums,
}

#[derive(Clone, Debug)]
pub struct OptimizationLine {
    pub campaign_name: String,
    pub optimization_type: Option<String>,
    pub trigger_condition: Option<String>,
    pub success: Option<bool>,
    pub impact_description: Option<String>,
    pub optimized_at: DateTime<Utc>,
}

/// Everything one report shows.
#[derive(Clone, Debug)]
pub struct Figures {
    pub business_name: Option<String>,
    pub currency: String,
    pub period: (NaiveDate, NaiveDate),
    pub campaigns: Vec<CampaignLine>,
    /// Every day of the period, zero where nothing was delivered.
    pub days: Vec<DayLine>,
    pub creatives: Vec<CreativeLine>,
    pub breakdowns: Vec<BreakdownLine>,
    pub optimizations: Vec<OptimizationLine>,
    /// Credits charged in the period, net of refunds.
    pub credits_used: i64,
}

impl Figures {
    /// The totals of the campaigns in the report's currency.
    pub fn totals(&self) -> Sums {
        let mut t = Sums::default();
        for c in self
            .campaigns
            .iter()
            .filter(|c| c.currency == self.currency)
        {
            t.add(&c.sums);
        }
        t
    }
}

/// Reads the figures of `period` (the ad account's days, both ends included; events with
/// a time, such as optimizations and credit charges, are placed on days in `timezone`).
pub async fn read(
    t: &Tenant<'_>,
    period: (NaiveDate, NaiveDate),
    timezone: &str,
) -> Result<Figures, AppError> {
    let currency = currency(t).await?;
    Ok(Figures {
        business_name: business_name(t).await?,
        campaigns: campaigns(t, period).await?,
        days: days(t, period, &currency).await?,
        creatives: creatives(t, period, &currency).await?,
        breakdowns: breakdowns(t, period, &currency).await?,
        optimizations: optimizations(t, period, timezone).await?,
        credits_used: credits_used(t, period, timezone).await?,
        currency,
        period,
    })
}

/// The ad account's currency, else the campaigns' most common, else INR.
async fn currency(t: &Tenant<'_>) -> Result<String, AppError> {
    Ok(t.tx
        .query_one(
            "SELECT coalesce( \
               (SELECT currency FROM meta_ad_accounts WHERE sync_enabled ORDER BY created_at DESC LIMIT 1), \
               (SELECT currency FROM campaigns WHERE deleted_at IS NULL GROUP BY currency \
                 ORDER BY count(*) DESC, currency LIMIT 1), 'INR')::text",
            &[],
        )
        .await?
        .get(0))
}

async fn business_name(t: &Tenant<'_>) -> Result<Option<String>, AppError> {
    Ok(t.tx
        .query_opt(
            "SELECT business_name FROM business_profiles WHERE deleted_at IS NULL LIMIT 1",
            &[],
        )
        .await?
        .and_then(|r| r.get(0)))
}

/// Campaigns with delivery in the period, and live ones without; biggest spend first.
async fn campaigns(
    t: &Tenant<'_>,
    (from, to): (NaiveDate, NaiveDate),
) -> Result<Vec<CampaignLine>, AppError> {
    let sql = format!(
        "SELECT c.id, c.name, c.status, c.purpose, c.currency::text, c.optimization_goals, {DELIVERY_SUMS} \
           FROM campaigns c LEFT JOIN performance_analytics p ON p.campaign_id = c.id \
                AND p.date BETWEEN $1 AND $2 AND {} \
          GROUP BY c.id \
         HAVING count(p.campaign_id) > 0 OR (c.status = 'active' AND c.deleted_at IS NULL) \
          ORDER BY 9 DESC, c.name, c.id",
        DAILY_TOTALS
    );
    Ok(t.tx
        .query(&sql, &[&from, &to])
        .await?
        .iter()
        .map(|r| {
            let goals: Option<serde_json::Value> = r.get(5);
            CampaignLine {
                id: r.get(0),
                name: r.get(1),
                status: r.get(2),
                purpose: r.get(3),
                currency: r.get(4),
                goals: goals.as_ref().map(Goals::from_json).unwrap_or_default(),
                sums: delivery_at(r, 6),
            }
        })
        .collect())
}

async fn days(
    t: &Tenant<'_>,
    (from, to): (NaiveDate, NaiveDate),
    currency: &str,
) -> Result<Vec<DayLine>, AppError> {
    let sql = format!(
        "SELECT d::date, {DELIVERY_SUMS} FROM generate_series($1::date, $2::date, interval '1 day') d \
           LEFT JOIN (SELECT p.* FROM performance_analytics p JOIN campaigns c ON c.id = p.campaign_id \
                       WHERE c.currency = $3 AND p.date BETWEEN $1 AND $2 AND {}) p ON p.date = d::date \
          GROUP BY d ORDER BY d",
        DAILY_TOTALS
    );
    Ok(t.tx
        .query(&sql, &[&from, &to, &currency])
        .await?
        .iter()
        .map(|r| DayLine {
            date: r.get(0),
            sums: delivery_at(r, 1),
        })
        .collect())
}

/// Each creative's delivery in the period (per asset, over its campaigns).
async fn creatives(
    t: &Tenant<'_>,
    (from, to): (NaiveDate, NaiveDate),
    currency: &str,
) -> Result<Vec<CreativeLine>, AppError> {
    let sql = format!(
        "SELECT a.id, min(c.name), a.asset_type, a.filename, a.file_url, a.content_type, {DELIVERY_SUMS} \
           FROM creative_performance p JOIN campaigns c ON c.id = p.campaign_id \
           JOIN creative_assets a ON a.id = p.asset_id \
          WHERE c.currency = $3 AND p.date BETWEEN $1 AND $2 \
          GROUP BY a.id ORDER BY a.id"
    );
    Ok(t.tx
        .query(&sql, &[&from, &to, &currency])
        .await?
        .iter()
        .map(|r| CreativeLine {
            asset_id: r.get(0),
            campaign_name: r.get(1),
            asset_type: r.get(2),
            filename: r.get(3),
            file_url: r.get(4),
            content_type: r.get(5),
            sums: delivery_at(r, 6),
        })
        .collect())
}

async fn breakdowns(
    t: &Tenant<'_>,
    (from, to): (NaiveDate, NaiveDate),
    currency: &str,
) -> Result<Vec<BreakdownLine>, AppError> {
    let mut out = Vec::new();
    for (dimension, b) in [
        ("platform", Breakdown::Platform),
        ("placement", Breakdown::Placement),
        ("age", Breakdown::Age),
        ("gender", Breakdown::Gender),
    ] {
        let (column, filter) = crate::repo::analytics::rows_of(b);
        let sql = format!(
            "SELECT {column}::text, {DELIVERY_SUMS} FROM performance_analytics p JOIN campaigns c ON c.id = p.campaign_id \
              WHERE c.currency = $3 AND p.date BETWEEN $1 AND $2 AND p.hour IS NULL AND {filter} \
              GROUP BY 1 ORDER BY 4 DESC, 1"
        );
        for r in t.tx.query(&sql, &[&from, &to, &currency]).await? {
            out.push(BreakdownLine {
                dimension,
                value: r.get(0),
                sums: delivery_at(&r, 1),
            });
        }
    }
    Ok(out)
}

/// What the optimizer did to the owner's campaigns in the period, oldest first.
async fn optimizations(
    t: &Tenant<'_>,
    (from, to): (NaiveDate, NaiveDate),
    timezone: &str,
) -> Result<Vec<OptimizationLine>, AppError> {
    Ok(t.tx
        .query(
            "SELECT c.name, o.optimization_type, o.trigger_condition, o.success, o.impact_description, \
                    o.optimized_at \
               FROM ai_optimization_logs o JOIN campaigns c ON c.id = o.campaign_id \
              WHERE (o.optimized_at AT TIME ZONE $3)::date BETWEEN $1 AND $2 \
              ORDER BY o.optimized_at LIMIT 200",
            &[&from, &to, &timezone],
        )
        .await?
        .iter()
        .map(|r| OptimizationLine {
            campaign_name: r.get(0),
            optimization_type: r.get(1),
            trigger_condition: r.get(2),
            success: r.get(3),
            impact_description: r.get(4),
            optimized_at: r.get(5),
        })
        .collect())
}

async fn credits_used(
    t: &Tenant<'_>,
    (from, to): (NaiveDate, NaiveDate),
    timezone: &str,
) -> Result<i64, AppError> {
    Ok(t.tx
        .query_one(
            "SELECT coalesce(sum(credits_consumed), 0)::int8 FROM usage_logs \
              WHERE (logged_at AT TIME ZONE $3)::date BETWEEN $1 AND $2",
            &[&from, &to, &timezone],
        )
        .await?
        .get(0))
}
