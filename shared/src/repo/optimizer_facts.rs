//! What the optimizer (and a rule's preview) knows of a campaign before it decides: its
//! state, the ad account's "today", the last sync, the last significant edit and what
//! the optimizer already did, and the windows of insights a rule reads — campaign-level
//! from `performance_analytics` (daily-total rows only), creative-level from
//! `creative_performance`. A window with no rows is missing, never zero.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::db::Tx;
use crate::domain::campaign::TargetAudience;
use crate::domain::metrics::{Reach, Sums};
use crate::domain::rule::TimePreset;
use crate::error::AppError;
use crate::repo::meta_accounts::local_date;
use crate::repo::sql::{DAILY_TOTALS, DELIVERY_SUMS, delivery_at};
use crate::rules::evaluate::WindowKey;

/// A campaign as the optimizer sees it.
#[derive(Clone, Debug)]
pub struct CampaignState {
    pub id: Uuid,
    pub name: String,
    pub status: String,
    pub approval_status: String,
    pub daily_budget: Option<Decimal>,
    pub ai_optimization_enabled: bool,
    pub max_daily_budget: Option<Decimal>,
    pub meta_campaign_id: Option<String>,
    /// The ad account's last successful sync (or the campaign's own, if later).
    pub last_synced_at: Option<DateTime<Utc>>,
    /// The ad account's date now.
    pub today: NaiveDate,
    /// First day with delivery, if any.
    pub first_day: Option<NaiveDate>,
    pub last_significant_edit: Option<DateTime<Utc>>,
    /// Changes the optimizer applied to it in the last 24 hours.
    pub changes_last_day: i64,
    /// Meta's learning stage of its ad set, as the last sync read it.
    pub meta_learning_stage: Option<String>,
    /// The owner's ceiling on the ad account's daily budgets together, and what its
    /// other live campaigns' daily budgets add up to.
    pub account_budget_cap: Option<Decimal>,
    pub account_other_budgets: Decimal,
    /// Its targeting as launched (unreadable or none: Meta's defaults).
    pub audience: Option<TargetAudience>,
}

impl CampaignState {
    pub fn hours_since_launch(&self, now: DateTime<Utc>) -> Option<Decimal> {
        let first = self.first_day?.and_hms_opt(0, 0, 0)?.and_utc();
        Some(Decimal::from((now - first).num_hours().max(0)))
    }
}

const STATE: &str = "SELECT c.id, c.name, c.status, c.approval_status, c.daily_budget, \
        c.ai_optimization_enabled, (CASE WHEN c.optimization_goals->>'max_daily_budget' ~ '^[0-9]+(\\.[0-9]+)?$' \
             THEN (c.optimization_goals->>'max_daily_budget')::numeric END), \
        c.meta_campaign_id, \
        greatest(c.last_synced_at, (SELECT max(a.last_sync_at) FROM meta_ad_accounts a \
            WHERE a.ad_account_id = c.meta_ad_account_id AND a.user_id = c.user_id)), \
        (SELECT a.timezone_offset_hours FROM meta_ad_accounts a WHERE a.ad_account_id = c.meta_ad_account_id \
            AND a.user_id = c.user_id AND a.timezone_offset_hours IS NOT NULL LIMIT 1), \
        (SELECT min(p.date) FROM performance_analytics p WHERE p.campaign_id = c.id AND p.impressions > 0), \
        (SELECT max(e.edited_at) FROM campaign_edits e WHERE e.campaign_id = c.id AND e.significant), \
        (SELECT count(*) FROM ai_optimization_logs l WHERE l.campaign_id = c.id AND l.decision = 'applied' \
            AND l.optimized_at > now() - interval '24 hours'), \
        c.meta_learning_stage, \
        (SELECT min(a.optimizer_budget_cap) FROM meta_ad_accounts a WHERE a.ad_account_id = c.meta_ad_account_id \
            AND a.user_id = c.user_id), \
        (SELECT coalesce(sum(o.daily_budget), 0) FROM campaigns o WHERE o.user_id = c.user_id \
            AND o.meta_ad_account_id = c.meta_ad_account_id AND o.id <> c.id AND o.deleted_at IS NULL \
            AND o.status IN ('active', 'review')), \
        c.target_audience \
   FROM campaigns c";

fn state(r: &tokio_postgres::Row, now: DateTime<Utc>) -> CampaignState {
    CampaignState {
        id: r.get(0),
        name: r.get(1),
        status: r.get(2),
        approval_status: r.get(3),
        daily_budget: r.get(4),
        ai_optimization_enabled: r.get(5),
        max_daily_budget: r.get(6),
        meta_campaign_id: r.get(7),
        last_synced_at: r.get(8),
        today: local_date(now, r.get(9)),
        first_day: r.get(10),
        last_significant_edit: r.get(11),
        changes_last_day: r.get(12),
        meta_learning_stage: r.get(13),
        account_budget_cap: r.get(14),
        account_other_budgets: r.get(15),
        audience: r
            .get::<_, Option<serde_json::Value>>(16)
            .and_then(|v| serde_json::from_value(v).ok()),
    }
}

/// The campaigns a rule looks at: its own campaign, or every campaign of its owner that
/// is not deleted, cancelled or completed — only one ad account's when `ad_account` is
/// given (an optimizer run).
pub async fn campaigns_in_scope(
    t: &impl Tx,
    user: Uuid,
    campaign: Option<Uuid>,
    ad_account: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<CampaignState>, AppError> {
    let rows = t
        .tx()
        .query(
            &format!(
                "{STATE} WHERE c.user_id = $1 AND c.deleted_at IS NULL AND ($2::uuid IS NULL OR c.id = $2) \
                   AND ($3::text IS NULL OR c.meta_ad_account_id = $3) \
                   AND c.status NOT IN ('cancelled', 'completed') ORDER BY c.created_at, c.id"
            ),
            &[&user, &campaign, &ad_account],
        )
        .await?;
    Ok(rows.iter().map(|r| state(r, now)).collect())
}

/// The first and last day of a window ending before (or on, with today) `today`.
pub fn days_of(
    key: WindowKey,
    today: NaiveDate,
    first_day: Option<NaiveDate>,
) -> (NaiveDate, NaiveDate) {
    let (len, end_offset) = match key.preset.days() {
        Some(d) => d,
        None => {
            let end = if key.include_today {
                today
            } else {
                today - Duration::days(1)
            };
            return (first_day.unwrap_or(end).min(end), end);
        }
    };
    let end = if key.include_today && key.preset != TimePreset::Yesterday {
        today
    } else {
        today - Duration::days(end_offset)
    };
    let start = end - Duration::days(len - 1);
    if key.previous {
        (start - Duration::days(len), start - Duration::days(1))
    } else {
        (start, end)
    }
}

/// The windows `keys` of a campaign (or of one of its creatives); a window without
/// rows is left out.
pub async fn windows(
    t: &impl Tx,
    c: &CampaignState,
    asset: Option<Uuid>,
    keys: &[WindowKey],
) -> Result<HashMap<WindowKey, Sums>, AppError> {
    let mut out = HashMap::new();
    for key in keys {
        let days = days_of(*key, c.today, c.first_day);
        if let Some(s) = delivery(t, c.id, asset, days).await? {
            out.insert(*key, s);
        }
    }
    Ok(out)
}

/// The campaign's reach per window `keys` names, as the sync read it from Meta; a
/// window Meta was not asked about (or that has not synced yet) is left out.
pub async fn reach(
    t: &impl Tx,
    c: &CampaignState,
    keys: &[WindowKey],
) -> Result<HashMap<WindowKey, Reach>, AppError> {
    let mut out = HashMap::new();
    for key in keys {
        let (since, until) = days_of(*key, c.today, c.first_day);
        let row = t
            .tx()
            .query_opt(
                "SELECT reach, impressions FROM campaign_reach WHERE campaign_id = $1 AND since = $2 AND until = $3",
                &[&c.id, &since, &until],
            )
            .await?;
        if let Some(r) = row {
            out.insert(
                *key,
                Reach {
                    reach: r.get(0),
                    impressions: r.get(1),
                },
            );
        }
    }
    Ok(out)
}

/// A campaign's (or one creative's) delivery over `from..=to`; None without rows.
pub async fn delivery(
    t: &impl Tx,
    campaign: Uuid,
    asset: Option<Uuid>,
    (from, to): (NaiveDate, NaiveDate),
) -> Result<Option<Sums>, AppError> {
    let r = match asset {
        None => {
            t.tx()
                .query_one(
                    &format!(
                        "SELECT count(*), {DELIVERY_SUMS} FROM performance_analytics \
                          WHERE campaign_id = $1 AND date BETWEEN $2 AND $3 AND {DAILY_TOTALS}"
                    ),
                    &[&campaign, &from, &to],
                )
                .await?
        }
        Some(a) => {
            t.tx()
                .query_one(
                    &format!(
                        "SELECT count(*), {DELIVERY_SUMS} FROM creative_performance \
                          WHERE campaign_id = $1 AND asset_id = $4 AND date BETWEEN $2 AND $3"
                    ),
                    &[&campaign, &from, &to, &a],
                )
                .await?
        }
    };
    Ok((r.get::<_, i64>(0) > 0).then(|| delivery_at(&r, 1)))
}

/// The replacement a creative refresh would use: the owner's best active image or video
/// the campaign has never used — by its best score in other campaigns, then
/// favourites, then the newest.
pub async fn best_unused_creative(
    t: &impl Tx,
    user: Uuid,
    campaign: Uuid,
) -> Result<Option<Uuid>, AppError> {
    Ok(t.tx()
        .query_opt(
            "SELECT a.id FROM creative_assets a \
              WHERE a.user_id = $1 AND a.status = 'active' AND a.asset_type IN ('image', 'video') \
                AND a.file_url IS NOT NULL \
                AND NOT EXISTS (SELECT 1 FROM campaign_assets u WHERE u.campaign_id = $2 AND u.asset_id = a.id) \
              ORDER BY (SELECT max(o.performance_score) FROM campaign_assets o WHERE o.asset_id = a.id) DESC NULLS LAST, \
                       a.is_favorite DESC, a.created_at DESC, a.id \
              LIMIT 1",
            &[&user, &campaign],
        )
        .await?
        .map(|r| r.get(0)))
}

/// What a generated replacement is briefed with: the campaign's purpose and the tired
/// creative's format.
pub async fn replacement_brief(
    t: &impl Tx,
    campaign: Uuid,
    tired: Option<Uuid>,
) -> Result<(String, Option<String>), AppError> {
    let r = t
        .tx()
        .query_one(
            "SELECT c.purpose, (SELECT a.format FROM creative_assets a WHERE a.id = $2) FROM campaigns c WHERE c.id = $1",
            &[&campaign, &tired],
        )
        .await?;
    Ok((r.get(0), r.get(1)))
}

/// The campaign's creatives that are running (for AD rules).
pub async fn active_creatives(t: &impl Tx, campaign: Uuid) -> Result<Vec<Uuid>, AppError> {
    Ok(t.tx()
        .query(
            "SELECT asset_id FROM campaign_assets WHERE campaign_id = $1 AND is_active ORDER BY created_at, asset_id",
            &[&campaign],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// When this rule last acted on this entity (for its cooldown).
pub async fn last_applied(
    t: &impl Tx,
    rule: Uuid,
    campaign: Uuid,
    asset: Option<Uuid>,
) -> Result<Option<DateTime<Utc>>, AppError> {
    Ok(t.tx()
        .query_one(
            "SELECT max(optimized_at) FROM ai_optimization_logs WHERE rule_id = $1 AND campaign_id = $2 \
               AND asset_id IS NOT DISTINCT FROM $3 AND decision = 'applied'",
            &[&rule, &campaign, &asset],
        )
        .await?
        .get(0))
}

/// When the owner last made a significant edit to the campaign (not the optimizer).
pub async fn last_owner_edit(
    t: &impl Tx,
    campaign: Uuid,
) -> Result<Option<DateTime<Utc>>, AppError> {
    Ok(t.tx()
        .query_one(
            "SELECT max(edited_at) FROM campaign_edits WHERE campaign_id = $1 AND source = 'user'",
            &[&campaign],
        )
        .await?
        .get(0))
}

/// The Meta ad that shows a creative of the campaign (its latest).
pub async fn meta_ad_of(
    t: &impl Tx,
    campaign: Uuid,
    asset: Uuid,
) -> Result<Option<String>, AppError> {
    Ok(t.tx()
        .query_opt(
            "SELECT meta_ad_id FROM creative_performance WHERE campaign_id = $1 AND asset_id = $2 \
              ORDER BY date DESC LIMIT 1",
            &[&campaign, &asset],
        )
        .await?
        .map(|r| r.get(0)))
}

/// The campaign as an action is claimed, locked until the claim commits.
pub struct Locked {
    pub currency: String,
    pub ad_account_id: Option<String>,
    pub meta_campaign_id: Option<String>,
    pub meta_adset_id: Option<String>,
    pub daily_budget: Option<Decimal>,
    pub status: String,
    pub meta_learning_stage: Option<String>,
    pub target_audience: Option<serde_json::Value>,
}

pub async fn lock(t: &impl Tx, campaign: Uuid) -> Result<Locked, AppError> {
    let r = t
        .tx()
        .query_one(
            "SELECT currency::text, meta_ad_account_id, meta_campaign_id, meta_adset_id, daily_budget, status, \
                    meta_learning_stage, target_audience FROM campaigns WHERE id = $1 FOR UPDATE",
            &[&campaign],
        )
        .await?;
    Ok(Locked {
        currency: r.get(0),
        ad_account_id: r.get(1),
        meta_campaign_id: r.get(2),
        meta_adset_id: r.get(3),
        daily_budget: r.get(4),
        status: r.get(5),
        meta_learning_stage: r.get(6),
        target_audience: r.get(7),
    })
}

/// What the optimizer changed, once Meta confirmed it.
pub enum Written {
    DailyBudget(Decimal),
    CampaignStatus(&'static str),
    CreativeActive(Uuid, bool),
    Audience(TargetAudience),
}

/// Writes a change the optimizer made, recorded in `campaign_edits` as the optimizer's
/// (so it never counts as the owner's edit, yet restarts the learning-phase clock).
pub async fn write_as_optimizer(t: &impl Tx, campaign: Uuid, w: Written) -> Result<(), AppError> {
    write_change(t, campaign, w, "optimizer").await
}

/// Writes a change made on Meta, recorded in `campaign_edits` as `source`'s (`user` or
/// `optimizer`).
pub async fn write_change(
    t: &impl Tx,
    campaign: Uuid,
    w: Written,
    source: &str,
) -> Result<(), AppError> {
    edit_source(t, source).await?;
    match w {
        Written::DailyBudget(b) => {
            t.tx()
                .execute("UPDATE campaigns SET daily_budget = $2 WHERE id = $1", &[&campaign, &b])
                .await?
        }
        Written::CampaignStatus(s) => {
            t.tx()
                .execute("UPDATE campaigns SET status = $2 WHERE id = $1", &[&campaign, &s])
                .await?
        }
        Written::Audience(a) => {
            let a = serde_json::to_value(&a).map_err(|e| AppError::Internal(e.to_string()))?;
            t.tx()
                .execute(
                    "UPDATE campaigns SET target_audience = $2 WHERE id = $1",
                    &[&campaign, &a],
                )
                .await?
        }
        Written::CreativeActive(asset, active) => {
            t.tx()
                .execute(
                    "UPDATE campaign_assets SET is_active = $3 WHERE campaign_id = $1 AND asset_id = $2",
                    &[&campaign, &asset, &active],
                )
                .await?
        }
    };
    edit_source(t, "").await
}

/// Who the campaign edits that follow in this transaction are recorded as (`user`,
/// `optimizer`; empty: the default, the owner).
pub async fn edit_source(t: &impl Tx, source: &str) -> Result<(), AppError> {
    t.tx()
        .execute(
            "SELECT set_config('adpilot.edit_source', $1, true)",
            &[&source],
        )
        .await?;
    Ok(())
}

/// The goals of the ad account's launched campaigns with AI optimization on.
pub async fn goals_on_account(
    t: &impl Tx,
    user: Uuid,
    ad_account: &str,
) -> Result<Vec<(Uuid, serde_json::Value)>, AppError> {
    Ok(t.tx()
        .query(
            "SELECT id, optimization_goals FROM campaigns WHERE user_id = $1 AND meta_ad_account_id = $2 \
               AND meta_campaign_id IS NOT NULL AND deleted_at IS NULL AND ai_optimization_enabled \
               AND optimization_goals IS NOT NULL AND status IN ('active', 'paused')",
            &[&user, &ad_account],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn key(preset: TimePreset, include_today: bool, previous: bool) -> WindowKey {
        WindowKey {
            preset,
            include_today,
            previous,
        }
    }

    #[test]
    fn windows_are_whole_days_before_today_and_the_previous_one_is_as_long() {
        let today = d("2026-12-01");
        assert_eq!(
            days_of(key(TimePreset::Last3d, false, false), today, None),
            (d("2026-11-28"), d("2026-11-30"))
        );
        assert_eq!(
            days_of(key(TimePreset::Last3d, false, true), today, None),
            (d("2026-11-25"), d("2026-11-27"))
        );
        assert_eq!(
            days_of(key(TimePreset::Last7d, true, false), today, None),
            (d("2026-11-25"), d("2026-12-01"))
        );
        assert_eq!(
            days_of(key(TimePreset::Today, false, false), today, None),
            (today, today)
        );
        assert_eq!(
            days_of(key(TimePreset::Yesterday, true, false), today, None),
            (d("2026-11-30"), d("2026-11-30"))
        );
        assert_eq!(
            days_of(
                key(TimePreset::Lifetime, false, false),
                today,
                Some(d("2026-10-01"))
            ),
            (d("2026-10-01"), d("2026-11-30"))
        );
    }
}
