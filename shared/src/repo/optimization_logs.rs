//! `ai_optimization_logs`: every decision the optimizer made on a campaign — applied,
//! skipped with its reason, failed with Meta's error, a dry run, or reverted — with the
//! metric snapshot and statistics it was decided on, newest first.

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::db::{Tenant, Tx, Worker};
use crate::error::AppError;
use crate::paging::{Cursor, PageRequest};
use crate::repo::sql::Statement;

#[derive(Clone, Debug)]
pub struct LogRow {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub rule_id: Option<Uuid>,
    pub rule_version: Option<i32>,
    pub entity_type: Option<String>,
    pub asset_id: Option<Uuid>,
    pub optimization_type: Option<String>,
    pub trigger_condition: Option<String>,
    pub decision: Option<String>,
    pub skip_reason: Option<String>,
    pub window_key: Option<String>,
    pub metrics: Option<Value>,
    pub statistics: Option<Value>,
    pub before_values: Option<Value>,
    pub after_values: Option<Value>,
    pub success: Option<bool>,
    pub meta_error: Option<String>,
    pub impact_description: Option<String>,
    pub performance_change: Option<Value>,
    pub optimized_at: DateTime<Utc>,
    pub reverted_at: Option<DateTime<Utc>>,
}

impl LogRow {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            created_at: self.optimized_at,
            id: self.id,
        }
    }
}

fn log_row(r: &Row) -> LogRow {
    LogRow {
        id: r.get("id"),
        campaign_id: r.get("campaign_id"),
        rule_id: r.get("rule_id"),
        rule_version: r.get("rule_version"),
        entity_type: r.get("entity_type"),
        asset_id: r.get("asset_id"),
        optimization_type: r.get("optimization_type"),
        trigger_condition: r.get("trigger_condition"),
        decision: r.get("decision"),
        skip_reason: r.get("skip_reason"),
        window_key: r.get("window_key"),
        metrics: r.get("metrics"),
        statistics: r.get("statistics"),
        before_values: r.get("before_values"),
        after_values: r.get("after_values"),
        success: r.get("success"),
        meta_error: r.get("meta_error"),
        impact_description: r.get("impact_description"),
        performance_change: r.get("performance_change"),
        optimized_at: r.get("optimized_at"),
        reverted_at: r.get("reverted_at"),
    }
}

/// One campaign's decisions, newest first, one page (only one decision kind if asked).
pub async fn list(
    t: &Tenant<'_>,
    campaign: Uuid,
    decision: Option<&str>,
    page: &PageRequest,
) -> Result<Vec<LogRow>, AppError> {
    let mut q = Statement::new(
        "SELECT * FROM (SELECT *, optimized_at AS created_at FROM ai_optimization_logs) l WHERE true".to_owned(),
    );
    let c = q.bind(campaign);
    q.push(&format!(" AND campaign_id = {c}"));
    if let Some(d) = decision {
        let p = q.bind(d.to_owned());
        q.push(&format!(" AND decision = {p}"));
    }
    q.page(page);
    Ok(t.tx
        .query(&q.sql, &q.params())
        .await?
        .iter()
        .map(log_row)
        .collect())
}

/// One decision to record.
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    pub user_id: Uuid,
    pub campaign_id: Uuid,
    pub rule_id: Option<Uuid>,
    pub rule_version: Option<i32>,
    pub entity_type: &'a str,
    pub asset_id: Option<Uuid>,
    pub optimization_type: &'a str,
    pub trigger_condition: &'a str,
    /// applied, skipped, failed or dry_run.
    pub decision: &'a str,
    pub skip_reason: Option<&'a str>,
    pub window_key: &'a str,
    pub metrics: Value,
    pub before_values: Option<Value>,
    pub after_values: Option<Value>,
}

/// Records a decision; for `applied`, None when the same rule, entity and window were
/// applied before (so an action is claimed exactly once, before it is sent).
pub async fn record(t: &impl Tx, e: &Entry<'_>) -> Result<Option<Uuid>, AppError> {
    Ok(t.tx()
        .query_opt(
            "INSERT INTO ai_optimization_logs (user_id, campaign_id, rule_id, rule_version, entity_type, asset_id, \
                    optimization_type, trigger_condition, decision, skip_reason, window_key, metrics, statistics, \
                    before_values, after_values, success) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, \
                     NULL::boolean) \
             ON CONFLICT DO NOTHING RETURNING id",
            &[
                &e.user_id,
                &e.campaign_id,
                &e.rule_id,
                &e.rule_version,
                &e.entity_type,
                &e.asset_id,
                &e.optimization_type,
                &e.trigger_condition,
                &e.decision,
                &e.skip_reason,
                &e.window_key,
                &e.metrics,
                &e.before_values,
                &e.after_values,
            ],
        )
        .await?
        .map(|r| r.get(0)))
}

/// How a claimed action ended on Meta: applied (with what it set, and the day its effect
/// is measured), or failed with Meta's error (which frees the window for a later run).
pub async fn settle(
    t: &impl Tx,
    id: Uuid,
    outcome: Result<&Value, &str>,
    follow_up_days: i64,
) -> Result<(), AppError> {
    match outcome {
        Ok(after) => {
            t.tx()
                .execute(
                    "UPDATE ai_optimization_logs SET success = true, after_values = $2, \
                            follow_up_at = now() + make_interval(days => $3::int) WHERE id = $1",
                    &[&id, after, &(follow_up_days as i32)],
                )
                .await?
        }
        Err(why) => {
            t.tx()
                .execute(
                    "UPDATE ai_optimization_logs SET success = false, decision = 'failed', meta_error = $2 \
                      WHERE id = $1",
                    &[&id, &why],
                )
                .await?
        }
    };
    Ok(())
}

/// The rule's last `n` actions: (how many, how many failed).
pub async fn recent_runs(t: &impl Tx, rule: Uuid, n: i64) -> Result<(i64, i64), AppError> {
    let r = t
        .tx()
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE decision = 'failed') FROM ( \
               SELECT decision FROM ai_optimization_logs WHERE rule_id = $1 AND decision IN ('applied', 'failed') \
                ORDER BY optimized_at DESC LIMIT $2) recent",
            &[&rule, &n],
        )
        .await?;
    Ok((r.get(0), r.get(1)))
}

/// An applied action whose effect is due to be measured.
#[derive(Clone, Debug)]
pub struct FollowUp {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub asset_id: Option<Uuid>,
    pub action_day: chrono::NaiveDate,
    pub after_values: Value,
    pub currency: String,
}

/// Up to `limit` applied actions whose follow-up is due and whose `days` after the
/// action's day are over, locked so concurrent ticks share none.
pub async fn due_follow_ups(
    w: &crate::db::Worker<'_>,
    days: i64,
    limit: i64,
) -> Result<Vec<FollowUp>, AppError> {
    Ok(w.tx
        .query(
            "SELECT l.id, l.campaign_id, l.asset_id, (l.optimized_at AT TIME ZONE 'UTC')::date, l.after_values, \
                    c.currency::text \
               FROM ai_optimization_logs l JOIN campaigns c ON c.id = l.campaign_id \
              WHERE l.decision = 'applied' AND l.success AND l.performance_change IS NULL \
                AND l.follow_up_at <= now() AND l.reverted_at IS NULL \
                AND (l.optimized_at AT TIME ZONE 'UTC')::date + $1::int < (now() AT TIME ZONE 'UTC')::date \
              ORDER BY l.follow_up_at LIMIT $2 FOR UPDATE OF l SKIP LOCKED",
            &[&(days as i32), &limit],
        )
        .await?
        .iter()
        .map(|r| FollowUp {
            id: r.get(0),
            campaign_id: r.get(1),
            asset_id: r.get(2),
            action_day: r.get(3),
            after_values: r.get::<_, Option<Value>>(4).unwrap_or(Value::Null),
            currency: r.get(5),
        })
        .collect())
}

/// Writes what an action changed.
pub async fn measured(
    t: &impl Tx,
    id: Uuid,
    change: &Value,
    description: &str,
) -> Result<(), AppError> {
    t.tx()
        .execute(
            "UPDATE ai_optimization_logs SET performance_change = $2, impact_description = $3 WHERE id = $1",
            &[&id, change, &description],
        )
        .await?;
    Ok(())
}

/// One applied action, locked, as revert reads it.
pub async fn locked(t: &impl Tx, id: Uuid) -> Result<Option<LogRow>, AppError> {
    Ok(t.tx()
        .query_opt(
            "SELECT * FROM ai_optimization_logs WHERE id = $1 FOR UPDATE",
            &[&id],
        )
        .await?
        .as_ref()
        .map(log_row))
}

/// Marks an applied action reverted (once); false when it was already.
pub async fn claim_revert(t: &impl Tx, id: Uuid) -> Result<bool, AppError> {
    Ok(t.tx()
        .execute(
            "UPDATE ai_optimization_logs SET reverted_at = now() \
              WHERE id = $1 AND decision = 'applied' AND success AND reverted_at IS NULL",
            &[&id],
        )
        .await?
        == 1)
}

/// Gives a revert claim back (Meta refused the undo).
pub async fn release_revert(t: &impl Tx, id: Uuid) -> Result<(), AppError> {
    t.tx()
        .execute(
            "UPDATE ai_optimization_logs SET reverted_at = NULL WHERE id = $1",
            &[&id],
        )
        .await?;
    Ok(())
}

/// A creative refresh waiting for the creative generated for it.
#[derive(Clone, Debug)]
pub struct AwaitingCreative {
    pub id: Uuid,
    pub user_id: Uuid,
    pub campaign_id: Uuid,
    pub campaign_name: String,
    /// The tired creative.
    pub asset_id: Option<Uuid>,
    pub generated: Uuid,
    /// `active` (made) or `failed`, with why.
    pub generated_status: String,
    pub failure_reason: Option<String>,
    pub after_values: Value,
}

/// Records that the claimed refresh waits for `generated` (its generation job `job`).
pub async fn awaiting_creative(
    t: &impl Tx,
    id: Uuid,
    generated: Uuid,
    job: Uuid,
    credits: i32,
) -> Result<(), AppError> {
    t.tx()
        .execute(
            "UPDATE ai_optimization_logs SET after_values = coalesce(after_values, '{}'::jsonb) \
                    || jsonb_build_object('generating', $2::uuid, 'job_id', $3::uuid, 'credits_spent', $4::int) \
              WHERE id = $1",
            &[&id, &generated, &job, &credits],
        )
        .await?;
    Ok(())
}

/// Refreshes whose generated creative is made or failed, each claimed for this caller
/// (a second tick finds them taken; a claim an hour old whose tick died is taken again):
/// at most `limit`.
pub async fn claim_awaiting(w: &Worker<'_>, limit: i64) -> Result<Vec<AwaitingCreative>, AppError> {
    let rows = w
        .tx
        .query(
            "UPDATE ai_optimization_logs l SET after_values = l.after_values || jsonb_build_object('swapping_at', now()) \
               FROM creative_assets a, campaigns c \
              WHERE l.id IN (SELECT p.id FROM ai_optimization_logs p \
                               JOIN creative_assets g ON g.id = (p.after_values->>'generating')::uuid \
                              WHERE p.decision = 'applied' AND p.success IS NULL \
                                AND p.optimization_type = 'creative_refresh' AND p.after_values ? 'generating' \
                                AND (NOT p.after_values ? 'swapping_at' \
                                     OR (p.after_values->>'swapping_at')::timestamptz < now() - interval '1 hour') \
                                AND g.status IN ('active', 'failed', 'deleted') \
                              ORDER BY p.optimized_at LIMIT $1 FOR UPDATE OF p SKIP LOCKED) \
                AND a.id = (l.after_values->>'generating')::uuid AND c.id = l.campaign_id \
             RETURNING l.id, l.user_id, l.campaign_id, c.name, l.asset_id, a.id, a.status, a.failure_reason, l.after_values",
            &[&limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| AwaitingCreative {
            id: r.get(0),
            user_id: r.get(1),
            campaign_id: r.get(2),
            campaign_name: r.get(3),
            asset_id: r.get(4),
            generated: r.get(5),
            generated_status: r.get(6),
            failure_reason: r.get(7),
            after_values: r.get(8),
        })
        .collect())
}
