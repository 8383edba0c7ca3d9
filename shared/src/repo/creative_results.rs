//! `creative_performance`: each campaign asset's own results per day, from Meta's
//! ad-level insights (the ad that showed it is found through the launch progress), and
//! the `performance_score` of every creative, recomputed with each sync.

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::db::{Tenant, Worker};
use crate::domain::campaign::Purpose;
use crate::domain::launch::LaunchProgress;
use crate::domain::score::{Counts, performance_score};
use crate::error::AppError;

/// One creative's results on one day.
#[derive(Clone, Debug, PartialEq)]
pub struct CreativeDay {
    pub campaign_id: Uuid,
    pub asset_id: Uuid,
    pub meta_ad_id: String,
    pub date: NaiveDate,
    pub impressions: i64,
    pub clicks: i64,
    pub spend: Decimal,
    pub conversions: i64,
    pub conversion_value: Decimal,
}

/// The campaign asset each of our Meta ads shows: ad id → (campaign, asset, purpose),
/// for the launched campaigns of one user's ad account.
pub async fn ads_of(
    w: &Worker<'_>,
    user: Uuid,
    ad_account_id: &str,
) -> Result<HashMap<String, (Uuid, Uuid, Purpose)>, AppError> {
    let rows = w
        .tx
        .query(
            "SELECT id, purpose, meta_launch FROM campaigns \
             WHERE user_id = $1 AND meta_ad_account_id = $2 AND meta_launch IS NOT NULL AND deleted_at IS NULL",
            &[&user, &ad_account_id],
        )
        .await?;
    let mut out = HashMap::new();
    for r in rows {
        let campaign: Uuid = r.get(0);
        let purpose = Purpose::parse(r.get(1)).unwrap_or(Purpose::Sales);
        let progress = LaunchProgress::from_stored(r.get(2)).unwrap_or_default();
        for (asset, ad) in progress.ads {
            if let (Some(ad_id), Ok(asset)) = (ad.ad_id, asset.parse::<Uuid>()) {
                out.insert(ad_id, (campaign, asset, purpose));
            }
        }
    }
    Ok(out)
}

/// Writes the days idempotently (unchanged rows are left alone); how many changed.
pub async fn upsert(w: &Worker<'_>, days: &[CreativeDay]) -> Result<u64, AppError> {
    let mut unique: HashMap<(Uuid, Uuid, NaiveDate), &CreativeDay> = HashMap::new();
    for d in days {
        unique.insert((d.campaign_id, d.asset_id, d.date), d);
    }
    let days: Vec<&CreativeDay> = unique.into_values().collect();
    let mut changed = 0;
    for chunk in days.chunks(500) {
        let col = |f: fn(&CreativeDay) -> Uuid| chunk.iter().map(|d| f(d)).collect::<Vec<_>>();
        let n = w
            .tx
            .execute(
                "INSERT INTO creative_performance (campaign_id, asset_id, meta_ad_id, date, impressions, clicks, \
                                                   spend, conversions, conversion_value) \
                 SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::date[], $5::int8[], $6::int8[], \
                                      $7::numeric[], $8::int8[], $9::numeric[]) \
                 ON CONFLICT (campaign_id, asset_id, date) DO UPDATE SET meta_ad_id = EXCLUDED.meta_ad_id, \
                     impressions = EXCLUDED.impressions, clicks = EXCLUDED.clicks, spend = EXCLUDED.spend, \
                     conversions = EXCLUDED.conversions, conversion_value = EXCLUDED.conversion_value \
                 WHERE (creative_performance.impressions, creative_performance.clicks, creative_performance.spend, \
                        creative_performance.conversions, creative_performance.conversion_value) \
                       IS DISTINCT FROM (EXCLUDED.impressions, EXCLUDED.clicks, EXCLUDED.spend, \
                                         EXCLUDED.conversions, EXCLUDED.conversion_value)",
                &[
                    &col(|d| d.campaign_id),
                    &col(|d| d.asset_id),
                    &chunk.iter().map(|d| d.meta_ad_id.as_str()).collect::<Vec<_>>(),
                    &chunk.iter().map(|d| d.date).collect::<Vec<_>>(),
                    &chunk.iter().map(|d| d.impressions).collect::<Vec<_>>(),
                    &chunk.iter().map(|d| d.clicks).collect::<Vec<_>>(),
                    &chunk.iter().map(|d| d.spend).collect::<Vec<_>>(),
                    &chunk.iter().map(|d| d.conversions).collect::<Vec<_>>(),
                    &chunk.iter().map(|d| d.conversion_value).collect::<Vec<_>>(),
                ],
            )
            .await?;
        changed += n;
    }
    Ok(changed)
}

/// A creative's results over every day synced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CreativeResults {
    /// In the campaign's currency.
    pub spend: Decimal,
    pub impressions: i64,
    pub clicks: i64,
    pub conversions: i64,
    pub conversion_value: Decimal,
    /// Days with results.
    pub days: i64,
}

impl CreativeResults {
    fn counts(&self) -> Counts {
        Counts {
            impressions: self.impressions,
            clicks: self.clicks,
            conversions: self.conversions,
        }
    }
}

const TOTALS: &str = "SELECT asset_id, sum(spend), sum(impressions)::int8, sum(clicks)::int8, \
                      sum(conversions)::int8, sum(conversion_value), count(*) \
                      FROM creative_performance WHERE campaign_id = $1 GROUP BY asset_id";

fn totals_of(rows: &[tokio_postgres::Row]) -> HashMap<Uuid, CreativeResults> {
    rows.iter()
        .map(|r| {
            (
                r.get(0),
                CreativeResults {
                    spend: r.get(1),
                    impressions: r.get(2),
                    clicks: r.get(3),
                    conversions: r.get(4),
                    conversion_value: r.get(5),
                    days: r.get(6),
                },
            )
        })
        .collect()
}

/// Each creative's results in a campaign of the tenant, by asset.
pub async fn totals(
    t: &Tenant<'_>,
    campaign: Uuid,
) -> Result<HashMap<Uuid, CreativeResults>, AppError> {
    Ok(totals_of(&t.tx.query(TOTALS, &[&campaign]).await?))
}

/// Recomputes every creative's `performance_score` in these campaigns against the
/// campaign's own creatives together (null while a creative's sample is too small).
pub async fn rescore(w: &Worker<'_>, campaigns: &[Uuid]) -> Result<(), AppError> {
    for campaign in campaigns {
        let by_asset = totals_of(&w.tx.query(TOTALS, &[campaign]).await?);
        let whole = by_asset.values().fold(Counts::default(), |a, r| Counts {
            impressions: a.impressions + r.impressions,
            clicks: a.clicks + r.clicks,
            conversions: a.conversions + r.conversions,
        });
        for (asset, results) in &by_asset {
            w.tx.execute(
                "UPDATE campaign_assets SET performance_score = $3 WHERE campaign_id = $1 AND asset_id = $2",
                &[campaign, asset, &performance_score(results.counts(), whole)],
            )
            .await?;
        }
    }
    Ok(())
}
