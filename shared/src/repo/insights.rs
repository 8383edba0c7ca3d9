//! Writing Meta insights into `performance_analytics`: batched idempotent upserts on the
//! natural key (every breakdown column, NULLS NOT DISTINCT) that leave unchanged rows
//! untouched, and the campaigns' cached totals refreshed from the daily rows.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::db::Worker;
use crate::domain::campaign::{CampaignStatus, Purpose};
use crate::domain::notification::{Category, Notice};
use crate::domain::weeks::monday_of;
use crate::error::AppError;
use crate::repo::notifications;
use crate::repo::sql::daily_totals_of;

/// One row of performance: a day (or an hour of it), whole or for one breakdown value.
#[derive(Clone, Debug, PartialEq)]
pub struct InsightRow {
    pub campaign_id: Uuid,
    pub date: NaiveDate,
    pub hour: Option<i32>,
    pub platform: Option<String>,
    pub placement: Option<String>,
    pub age_range: Option<String>,
    pub gender: Option<String>,
    pub location: Option<String>,
    pub impressions: i64,
    pub clicks: i64,
    pub spend: Decimal,
    pub conversions: i64,
    pub conversion_value: Decimal,
}

impl InsightRow {
    /// Whether this is a campaign's whole day: no hour and no breakdown.
    pub fn is_daily_total(&self) -> bool {
        self.hour.is_none()
            && self.platform.is_none()
            && self.placement.is_none()
            && self.age_range.is_none()
            && self.gender.is_none()
            && self.location.is_none()
    }

    /// A campaign's whole day (no hour, no breakdown) with these figures.
    pub fn daily_total(
        campaign_id: Uuid,
        date: NaiveDate,
        s: &crate::domain::metrics::Sums,
    ) -> Self {
        Self {
            campaign_id,
            date,
            hour: None,
            platform: None,
            placement: None,
            age_range: None,
            gender: None,
            location: None,
            impressions: s.impressions,
            clicks: s.clicks,
            spend: s.spend,
            conversions: s.conversions,
            conversion_value: s.conversion_value,
        }
    }
}

type Key = (Uuid, NaiveDate, Option<i32>, [Option<String>; 5]);

fn key(r: &InsightRow) -> Key {
    (
        r.campaign_id,
        r.date,
        r.hour,
        [
            r.platform.clone(),
            r.placement.clone(),
            r.age_range.clone(),
            r.gender.clone(),
            r.location.clone(),
        ],
    )
}

/// Rows per statement: large enough to amortise the round trip, small enough to keep
/// each statement's lock footprint and parameter arrays modest.
pub const BATCH: usize = 500;

/// Put before `SELECT campaign_id, date, user_id, <the five sums>` and before
/// `DAILY_TOTALS_ON_CONFLICT`: writes those days into the daily rollup.
const INTO_DAILY_TOTALS: &str = "INSERT INTO campaign_daily_totals AS d (campaign_id, date, user_id, impressions, \
                                                                      clicks, spend, conversions, conversion_value) ";
/// Changes only the rollup days whose figures differ.
const DAILY_TOTALS_ON_CONFLICT: &str = " ON CONFLICT (campaign_id, date) DO UPDATE SET impressions = EXCLUDED.impressions, \
         clicks = EXCLUDED.clicks, spend = EXCLUDED.spend, conversions = EXCLUDED.conversions, \
         conversion_value = EXCLUDED.conversion_value \
     WHERE (d.impressions, d.clicks, d.spend, d.conversions, d.conversion_value) IS DISTINCT FROM \
           (EXCLUDED.impressions, EXCLUDED.clicks, EXCLUDED.spend, EXCLUDED.conversions, EXCLUDED.conversion_value)";

/// Upserts `rows`; returns how many rows were inserted or actually changed (a re-run of
/// the same window returns 0 and leaves `updated_at` alone). Within one call the last
/// row for a key wins. The daily totals that changed are copied into
/// `campaign_daily_totals` by the same statement, so the rollup never lags its rows.
pub async fn upsert(w: &Worker<'_>, rows: &[InsightRow]) -> Result<u64, AppError> {
    let mut unique: HashMap<Key, &InsightRow> = HashMap::with_capacity(rows.len());
    for r in rows {
        unique.insert(key(r), r);
    }
    let rows: Vec<&InsightRow> = unique.into_values().collect();
    let mut changed = 0;
    for chunk in rows.chunks(BATCH) {
        changed += upsert_batch(w, chunk).await?;
    }
    refresh_weeks(w, &weeks_of(&rows)).await?;
    Ok(changed)
}

/// The (campaign, Monday) of every daily-total row among `rows`, once each.
fn weeks_of(rows: &[&InsightRow]) -> Vec<(Uuid, NaiveDate)> {
    let mut weeks: Vec<(Uuid, NaiveDate)> = rows
        .iter()
        .filter(|r| r.is_daily_total())
        .map(|r| (r.campaign_id, monday_of(r.date)))
        .collect();
    weeks.sort_unstable();
    weeks.dedup();
    weeks
}

/// Put before a `SELECT` of `campaign_id, week, user_id, <the five sums>` and before
/// `WEEKLY_TOTALS_ON_CONFLICT`: writes those weeks into the weekly rollup.
const INTO_WEEKLY_TOTALS: &str = "INSERT INTO campaign_weekly_totals AS k (campaign_id, week, user_id, impressions, \
                                                                       clicks, spend, conversions, conversion_value) ";
/// Sums a week's rows of `campaign_daily_totals d`, grouped by campaign and week.
const WEEK_OF_DAYS: &str = "SELECT d.campaign_id, date_trunc('week', d.date)::date, d.user_id, sum(d.impressions), \
        sum(d.clicks), sum(d.spend), sum(d.conversions), sum(d.conversion_value) FROM campaign_daily_totals d";
/// Changes only the weeks whose figures differ.
const WEEKLY_TOTALS_ON_CONFLICT: &str = " GROUP BY 1, 2, 3 ON CONFLICT (campaign_id, week) DO UPDATE SET \
         impressions = EXCLUDED.impressions, clicks = EXCLUDED.clicks, spend = EXCLUDED.spend, \
         conversions = EXCLUDED.conversions, conversion_value = EXCLUDED.conversion_value \
     WHERE (k.impressions, k.clicks, k.spend, k.conversions, k.conversion_value) IS DISTINCT FROM \
           (EXCLUDED.impressions, EXCLUDED.clicks, EXCLUDED.spend, EXCLUDED.conversions, EXCLUDED.conversion_value)";

/// Re-sums `weeks` (campaign, Monday) of `campaign_weekly_totals` from the daily rollup,
/// after the upsert's statements have written the days (a statement cannot read what
/// its own CTE wrote, hence a second one in the same transaction).
///
/// The campaigns are locked first (in id order): two syncs writing different days of
/// one week would otherwise each sum the week without the other's uncommitted day, and
/// the later commit would keep a week missing a day. Locked, the second waits, and its
/// sum (a new statement, a new snapshot) sees the first one's days.
async fn refresh_weeks(w: &Worker<'_>, weeks: &[(Uuid, NaiveDate)]) -> Result<(), AppError> {
    if weeks.is_empty() {
        return Ok(());
    }
    let (campaigns, mondays): (Vec<Uuid>, Vec<NaiveDate>) = weeks.iter().copied().unzip();
    let mut ids = campaigns.clone();
    ids.dedup();
    w.tx.execute(
        "SELECT id FROM campaigns WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE",
        &[&ids],
    )
    .await?;
    w.tx.execute(
        &format!(
            "{INTO_WEEKLY_TOTALS} {WEEK_OF_DAYS} \
             JOIN unnest($1::uuid[], $2::date[]) AS t(campaign_id, week) \
               ON d.campaign_id = t.campaign_id AND d.date >= t.week AND d.date < t.week + 7 \
             {WEEKLY_TOTALS_ON_CONFLICT}"
        ),
        &[&campaigns, &mondays],
    )
    .await?;
    Ok(())
}

async fn upsert_batch(w: &Worker<'_>, rows: &[&InsightRow]) -> Result<u64, AppError> {
    let col = |f: fn(&InsightRow) -> Option<String>| rows.iter().map(|r| f(r)).collect::<Vec<_>>();
    let campaign: Vec<Uuid> = rows.iter().map(|r| r.campaign_id).collect();
    let date: Vec<NaiveDate> = rows.iter().map(|r| r.date).collect();
    let hour: Vec<Option<i32>> = rows.iter().map(|r| r.hour).collect();
    let impressions: Vec<i64> = rows.iter().map(|r| r.impressions).collect();
    let clicks: Vec<i64> = rows.iter().map(|r| r.clicks).collect();
    let spend: Vec<Decimal> = rows.iter().map(|r| r.spend).collect();
    let conversions: Vec<i64> = rows.iter().map(|r| r.conversions).collect();
    let value: Vec<Decimal> = rows.iter().map(|r| r.conversion_value).collect();
    let daily = daily_totals_of("up");
    let n: i64 = w
        .tx
        .query_one(
            &format!(
                "WITH up AS (INSERT INTO performance_analytics (campaign_id, date, hour, platform, placement, age_range, gender, \
                                                location, impressions, clicks, spend, conversions, conversion_value) \
             SELECT * FROM unnest($1::uuid[], $2::date[], $3::int4[], $4::text[], $5::text[], $6::text[], $7::text[], \
                                  $8::text[], $9::int8[], $10::int8[], $11::numeric[], $12::int8[], $13::numeric[]) \
             ON CONFLICT (campaign_id, date, hour, platform, placement, age_range, gender, location) DO UPDATE SET \
                 impressions = EXCLUDED.impressions, clicks = EXCLUDED.clicks, spend = EXCLUDED.spend, \
                 conversions = EXCLUDED.conversions, conversion_value = EXCLUDED.conversion_value \
             WHERE (performance_analytics.impressions, performance_analytics.clicks, performance_analytics.spend, \
                    performance_analytics.conversions, performance_analytics.conversion_value) \
                   IS DISTINCT FROM (EXCLUDED.impressions, EXCLUDED.clicks, EXCLUDED.spend, EXCLUDED.conversions, \
                                     EXCLUDED.conversion_value) \
             RETURNING campaign_id, date, hour, platform, placement, age_range, gender, location, \
                       impressions, clicks, spend, conversions, conversion_value), \
             rolled AS ({INTO_DAILY_TOTALS} \
                 SELECT up.campaign_id, up.date, c.user_id, up.impressions, up.clicks, up.spend, up.conversions, \
                        up.conversion_value \
                 FROM up JOIN campaigns c ON c.id = up.campaign_id WHERE {daily} {DAILY_TOTALS_ON_CONFLICT}) \
             SELECT count(*) FROM up"
            ),
            &[
                &campaign,
                &date,
                &hour,
                &col(|r| r.platform.clone()),
                &col(|r| r.placement.clone()),
                &col(|r| r.age_range.clone()),
                &col(|r| r.gender.clone()),
                &col(|r| r.location.clone()),
                &impressions,
                &clicks,
                &spend,
                &conversions,
                &value,
            ],
        )
        .await?
        .get(0);
    Ok(n as u64)
}

/// Refreshes the cached totals of `campaigns` from their daily rollup (only where they
/// differ, so an unchanged re-sync leaves the campaigns alone too).
pub async fn refresh_totals(w: &Worker<'_>, campaigns: &[Uuid]) -> Result<u64, AppError> {
    Ok(w.tx
        .execute(
            "UPDATE campaigns c SET total_spend = s.spend, total_impressions = s.impressions, \
                    total_clicks = s.clicks, total_conversions = s.conversions \
             FROM (SELECT campaign_id, sum(spend) AS spend, sum(impressions)::int8 AS impressions, \
                          sum(clicks)::int8 AS clicks, sum(conversions)::int8 AS conversions \
                   FROM campaign_daily_totals WHERE campaign_id = ANY($1) \
                   GROUP BY campaign_id) s \
             WHERE c.id = s.campaign_id AND (c.total_spend, c.total_impressions, c.total_clicks, c.total_conversions) \
                   IS DISTINCT FROM (s.spend, s.impressions, s.clicks, s.conversions)",
            &[&campaigns],
        )
        .await?)
}

/// What `rebuild_daily_totals` mended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Rebuilt {
    /// Days missing from the rollup or differing from their daily-total row.
    pub written: u64,
    /// Rollup days whose daily-total row is gone (retention, a deleted campaign).
    pub removed: u64,
    /// Weeks missing from the weekly rollup or differing from the sum of their days.
    pub weeks_written: u64,
    /// Weekly rows without a day left in the daily rollup.
    pub weeks_removed: u64,
}

/// Makes `campaign_daily_totals` equal to the daily-total rows of `performance_analytics`
/// again, touching only the days that drifted (the daily maintenance runs it).
pub async fn rebuild_daily_totals(w: &Worker<'_>) -> Result<Rebuilt, AppError> {
    let daily = daily_totals_of("pa");
    let written = w
        .tx
        .execute(
            &format!(
                "{INTO_DAILY_TOTALS} \
                 SELECT pa.campaign_id, pa.date, c.user_id, pa.impressions, pa.clicks, pa.spend, pa.conversions, \
                        pa.conversion_value \
                 FROM performance_analytics pa JOIN campaigns c ON c.id = pa.campaign_id \
                 WHERE {daily} {DAILY_TOTALS_ON_CONFLICT}"
            ),
            &[],
        )
        .await?;
    let removed =
        w.tx.execute(
            &format!(
                "DELETE FROM campaign_daily_totals d WHERE NOT EXISTS \
                 (SELECT 1 FROM performance_analytics pa WHERE pa.campaign_id = d.campaign_id \
                  AND pa.date = d.date AND {daily})"
            ),
            &[],
        )
        .await?;
    let weeks_written =
        w.tx.execute(
            &format!("{INTO_WEEKLY_TOTALS} {WEEK_OF_DAYS} {WEEKLY_TOTALS_ON_CONFLICT}"),
            &[],
        )
        .await?;
    let weeks_removed =
        w.tx.execute(
            "DELETE FROM campaign_weekly_totals k WHERE NOT EXISTS \
             (SELECT 1 FROM campaign_daily_totals d WHERE d.campaign_id = k.campaign_id \
              AND d.date >= k.week AND d.date < k.week + 7)",
            &[],
        )
        .await?;
    Ok(Rebuilt {
        written,
        removed,
        weeks_written,
        weeks_removed,
    })
}

/// The user's launched campaigns on `ad_account_id`, by Meta campaign id.
pub async fn launched_campaigns(
    w: &Worker<'_>,
    user: Uuid,
    ad_account_id: &str,
) -> Result<HashMap<String, (Uuid, Purpose)>, AppError> {
    let rows = w
        .tx
        .query(
            "SELECT meta_campaign_id, id, purpose FROM campaigns \
             WHERE user_id = $1 AND meta_ad_account_id = $2 AND meta_campaign_id IS NOT NULL AND deleted_at IS NULL",
            &[&user, &ad_account_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let purpose = Purpose::parse(r.get(2)).unwrap_or(Purpose::Sales);
            (r.get::<_, String>(0), (r.get::<_, Uuid>(1), purpose))
        })
        .collect())
}

/// What a Meta status event did to our campaign.
#[derive(Debug, PartialEq, Eq)]
pub enum Followed {
    /// Not one of our campaigns.
    Unknown,
    /// Older than the last status change applied to it: ignored.
    Stale { campaign: Uuid },
    /// Nothing to change: the lifecycle does not follow that status from here.
    Kept {
        campaign: Uuid,
        status: CampaignStatus,
    },
    Moved {
        campaign: Uuid,
        status: CampaignStatus,
    },
}

/// Applies a Meta status event at `at` to the campaign with that Meta id: only if it is
/// newer than the last status change (ours or Meta's), and only along
/// `CampaignStatus::follow_meta`, so a late `ACTIVE` never revives a paused or
/// cancelled campaign.
pub async fn follow_meta_status(
    w: &Worker<'_>,
    meta_campaign_id: &str,
    meta_status: &str,
    at: DateTime<Utc>,
) -> Result<Followed, AppError> {
    let Some(row) =
        w.tx.query_opt(
            "SELECT id, status, meta_status_at FROM campaigns \
             WHERE meta_campaign_id = $1 AND deleted_at IS NULL FOR UPDATE",
            &[&meta_campaign_id],
        )
        .await?
    else {
        return Ok(Followed::Unknown);
    };
    let campaign: Uuid = row.get(0);
    let status = CampaignStatus::parse(row.get(1)).unwrap_or(CampaignStatus::Draft);
    let last: Option<DateTime<Utc>> = row.get(2);
    if last.is_some_and(|l| at < l) {
        return Ok(Followed::Stale { campaign });
    }
    let next = status.follow_meta(meta_status);
    w.tx.execute(
        "UPDATE campaigns SET meta_status_at = $2, status = $3 WHERE id = $1",
        &[&campaign, &at, &next.unwrap_or(status).as_str()],
    )
    .await?;
    Ok(match next {
        Some(status) => Followed::Moved { campaign, status },
        None => Followed::Kept { campaign, status },
    })
}

/// One ad as Meta's ad list reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct AdState {
    pub ad_id: String,
    pub effective_status: String,
    pub feedback: Option<serde_json::Value>,
}

/// Meta's explanations in an `ad_review_feedback` (`{"global": {"Policy": "Why"}}`).
fn explanations(feedback: Option<&serde_json::Value>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(scopes) = feedback.and_then(|f| f.as_object()) {
        for policies in scopes.values().filter_map(|p| p.as_object()) {
            for (policy, why) in policies {
                out.push(match why.as_str() {
                    Some(w) if !w.is_empty() => format!("{policy}: {w}"),
                    _ => policy.clone(),
                });
            }
        }
    }
    out
}

/// The owner hears once per ad that Meta's review rejected it, with Meta's reasons.
async fn tell_ad_rejected(
    w: &Worker<'_>,
    user: Uuid,
    campaign: Uuid,
    name: &str,
    ad: &AdState,
) -> Result<(), AppError> {
    let reasons = explanations(ad.feedback.as_ref());
    let body = if reasons.is_empty() {
        format!("Meta rejected an ad of \"{name}\". Change its image or text and launch it again.")
    } else {
        format!("Meta rejected an ad of \"{name}\": {}", reasons.join("; "))
    };
    let notice = Notice {
        category: Category::AdReview,
        event_key: format!("ad_review:{}:disapproved", ad.ad_id),
        title: format!("An ad of \"{name}\" was rejected by Meta"),
        body,
        link: Some(format!("/campaigns/{campaign}")),
    };
    notifications::notify(w, user, &notice).await?;
    Ok(())
}

/// Records Meta's review of a campaign's ads: each ad (with the campaign asset it shows,
/// from the launch progress) and the campaign's verdict (`Approval::of_ads`). Ads Meta no
/// longer lists keep nothing; no ads leave the verdict as it was.
pub async fn record_review(
    w: &Worker<'_>,
    campaign: Uuid,
    ads: &[AdState],
) -> Result<Option<crate::domain::campaign::Approval>, AppError> {
    use crate::repo::campaigns::{AdReview, LaunchProgress};
    let row =
        w.tx.query_one(
            "SELECT meta_launch, user_id, name FROM campaigns WHERE id = $1",
            &[&campaign],
        )
        .await?;
    let (launch, user, name): (Option<serde_json::Value>, Uuid, String) =
        (row.get(0), row.get(1), row.get(2));
    for ad in ads.iter().filter(|a| a.effective_status == "DISAPPROVED") {
        tell_ad_rejected(w, user, campaign, &name, ad).await?;
    }
    let progress = LaunchProgress::from_stored(launch).unwrap_or_default();
    let asset_of = |ad: &str| {
        progress
            .ads
            .iter()
            .find(|(_, a)| a.ad_id.as_deref() == Some(ad))
            .and_then(|(asset, _)| asset.parse::<Uuid>().ok())
    };
    let review: Vec<AdReview> = ads
        .iter()
        .map(|a| AdReview {
            asset_id: asset_of(&a.ad_id),
            ad_id: a.ad_id.clone(),
            effective_status: a.effective_status.clone(),
            feedback: a.feedback.clone(),
        })
        .collect();
    let verdict =
        crate::domain::campaign::Approval::of_ads(ads.iter().map(|a| a.effective_status.as_str()));
    w.tx.execute(
        "UPDATE campaigns SET ad_review = $2, approval_status = coalesce($3, approval_status) WHERE id = $1",
        &[
            &campaign,
            &serde_json::to_value(&review).map_err(AppError::internal)?,
            &verdict.map(|v| v.as_str()),
        ],
    )
    .await?;
    Ok(verdict)
}

/// Records Meta's learning stage of the campaign's ad set as of now (None: Meta gave
/// none, so the optimizer falls back on our own edit log).
pub async fn record_learning_stage(
    w: &Worker<'_>,
    campaign: Uuid,
    stage: Option<&str>,
) -> Result<(), AppError> {
    w.tx.execute(
        "UPDATE campaigns SET meta_learning_stage = $2, meta_learning_stage_at = now() WHERE id = $1",
        &[&campaign, &stage],
    )
    .await?;
    Ok(())
}

/// A campaign's unique reach over one window, as Meta counted it.
#[derive(Clone, Debug, PartialEq)]
pub struct ReachRow {
    pub campaign_id: Uuid,
    pub since: NaiveDate,
    pub until: NaiveDate,
    pub reach: i64,
    pub impressions: i64,
}

/// Keeps the campaigns' reach per window (a window read again is replaced) and drops
/// windows that ended more than 60 days before the newest written.
pub async fn record_reach(w: &Worker<'_>, rows: &[ReachRow]) -> Result<(), AppError> {
    for r in rows {
        w.tx.execute(
            "INSERT INTO campaign_reach (campaign_id, since, until, reach, impressions) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (campaign_id, since, until) DO UPDATE \
                SET reach = EXCLUDED.reach, impressions = EXCLUDED.impressions, synced_at = now()",
            &[&r.campaign_id, &r.since, &r.until, &r.reach, &r.impressions],
        )
        .await?;
    }
    let campaigns: Vec<Uuid> = rows.iter().map(|r| r.campaign_id).collect();
    if let Some(newest) = rows.iter().map(|r| r.until).max() {
        w.tx.execute(
            "DELETE FROM campaign_reach WHERE campaign_id = ANY($1) AND until < $2::date - 60",
            &[&campaigns, &newest],
        )
        .await?;
    }
    Ok(())
}
