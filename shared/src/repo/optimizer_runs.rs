//! Queuing optimizer runs: one `optimize_campaign` job and queue message per ad account,
//! hourly for owners with HOURLY rules, in the 06:00 hour of the account's day for DAILY
//! rules and for campaigns whose goals give them preset rules, and after each completed
//! sync for owners with AFTER_SYNC rules. Nothing is queued for an owner with nothing to run.

use chrono::{DateTime, Timelike, Utc};
use uuid::Uuid;

use crate::db::Worker;
use crate::error::AppError;
use crate::messages::Optimize;
use crate::repo::meta_accounts::local_time;
use crate::repo::outbox;

pub const JOB_TYPE: &str = "optimize_campaign";
/// The account-time hour DAILY rules run in.
pub const DAILY_HOUR: u32 = 6;

async fn queue(
    w: &Worker<'_>,
    user: Uuid,
    ad_account_id: &str,
    trigger: &str,
) -> Result<i64, AppError> {
    let job: Uuid = w
        .tx
        .query_one(
            "INSERT INTO background_jobs (job_type, user_id, parameters, status, scheduled_at) \
             VALUES ($1, $2, jsonb_build_object('ad_account_id', $3::text, 'trigger', $4::text), 'pending', now()) \
             RETURNING id",
            &[&JOB_TYPE, &user, &ad_account_id, &trigger],
        )
        .await?
        .get(0);
    outbox::enqueue_for(
        w,
        user,
        &Optimize {
            job_id: job,
            user_id: user,
            ad_account_id: ad_account_id.to_owned(),
            trigger: trigger.to_owned(),
        },
    )
    .await
}

/// After a completed sync of `ad_account_id`: a run if its owner has AFTER_SYNC rules.
pub async fn after_sync(
    w: &Worker<'_>,
    user: Uuid,
    ad_account_id: &str,
) -> Result<Option<i64>, AppError> {
    let wanted = w
        .tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM optimization_rules WHERE user_id = $1 AND status = 'ENABLED' \
               AND deleted_at IS NULL AND spec->'schedule_spec'->>'schedule_type' = 'AFTER_SYNC')",
            &[&user],
        )
        .await?
        .get::<_, bool>(0);
    if !wanted {
        return Ok(None);
    }
    queue(w, user, ad_account_id, "sync").await.map(Some)
}

/// The hourly tick: a run per ad account with launched campaigns whose owner has HOURLY
/// rules, or DAILY rules and it is the 06:00 hour there. Returns the outbox ids.
pub async fn hourly(w: &Worker<'_>, now: DateTime<Utc>) -> Result<Vec<i64>, AppError> {
    let rows = w
        .tx
        .query(
            "SELECT c.user_id, c.meta_ad_account_id, max(a.timezone_offset_hours), \
                    EXISTS (SELECT 1 FROM optimization_rules r WHERE r.user_id = c.user_id AND r.status = 'ENABLED' \
                              AND r.deleted_at IS NULL AND r.spec->'schedule_spec'->>'schedule_type' = 'HOURLY'), \
                    bool_or(c.ai_optimization_enabled AND c.optimization_goals IS NOT NULL) \
                    OR EXISTS (SELECT 1 FROM optimization_rules r WHERE r.user_id = c.user_id AND r.status = 'ENABLED' \
                              AND r.deleted_at IS NULL \
                              AND coalesce(r.spec->'schedule_spec'->>'schedule_type', 'DAILY') = 'DAILY') \
               FROM campaigns c \
               LEFT JOIN meta_ad_accounts a ON a.ad_account_id = c.meta_ad_account_id AND a.user_id = c.user_id \
              WHERE c.meta_campaign_id IS NOT NULL AND c.meta_ad_account_id IS NOT NULL AND c.deleted_at IS NULL \
                AND c.status IN ('active', 'paused') \
              GROUP BY c.user_id, c.meta_ad_account_id",
            &[],
        )
        .await?;
    let mut queued = Vec::new();
    for r in rows {
        let (user, account): (Uuid, String) = (r.get(0), r.get(1));
        let offset: Option<rust_decimal::Decimal> = r.get(2);
        let (has_hourly, has_daily): (Option<bool>, Option<bool>) = (r.get(3), r.get(4));
        let local_hour = local_time(now, offset).hour();
        if has_hourly == Some(true) {
            queued.push(queue(w, user, &account, "hourly").await?);
        }
        if has_daily == Some(true) && local_hour == DAILY_HOUR {
            queued.push(queue(w, user, &account, "daily").await?);
        }
    }
    Ok(queued)
}
