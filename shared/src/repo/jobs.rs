//! `background_jobs`: long-running work a user can watch, list and cancel; jobs stuck
//! `running` past their type's limit are failed by maintenance (`fail_stuck`).

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::db::{Tenant, Tx, Worker};
use crate::domain::JobId;
use crate::error::AppError;
use crate::paging::{Cursor, PageRequest};
use crate::repo::sql::Statement;

#[derive(Debug)]
pub struct Job {
    pub id: Uuid,
    /// image_generation, video_generation, meta_sync, brand_analysis, …
    pub job_type: String,
    /// The campaign the job works on, where it has one.
    pub campaign_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    /// pending, running, completed, failed or cancelled.
    pub status: String,
    /// 0–100.
    pub progress: i16,
    pub parameters: Option<Value>,
    pub result: Option<Value>,
    pub error_message: Option<String>,
    pub scheduled_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, job_type, campaign_id, user_id, status, progress, parameters, result, \
                       error_message, scheduled_at, started_at, completed_at, created_at, updated_at";

impl From<&Row> for Job {
    fn from(r: &Row) -> Self {
        Self {
            id: r.get("id"),
            job_type: r.get("job_type"),
            campaign_id: r.get("campaign_id"),
            user_id: r.get("user_id"),
            status: r.get("status"),
            progress: r.get("progress"),
            parameters: r.get("parameters"),
            result: r.get("result"),
            error_message: r.get("error_message"),
            scheduled_at: r.get("scheduled_at"),
            started_at: r.get("started_at"),
            completed_at: r.get("completed_at"),
            created_at: r.get("created_at"),
            updated_at: r.get("updated_at"),
        }
    }
}

impl Job {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            created_at: self.created_at,
            id: self.id,
        }
    }

    /// Whether the job is over (completed, failed or cancelled).
    pub fn finished(&self) -> bool {
        matches!(self.status.as_str(), "completed" | "failed" | "cancelled")
    }
}

/// Job statuses.
pub const STATUSES: [&str; 5] = ["pending", "running", "completed", "failed", "cancelled"];

/// Which jobs to list.
#[derive(Clone, Debug, Default)]
pub struct JobFilter {
    pub job_type: Option<String>,
    pub status: Option<String>,
}

/// The tenant's jobs, newest first, one page.
pub async fn list(t: &Tenant<'_>, f: &JobFilter, page: &PageRequest) -> Result<Vec<Job>, AppError> {
    let mut q = Statement::new(format!("SELECT {COLUMNS} FROM background_jobs WHERE true"));
    let user = q.bind(t.user().0);
    q.push(&format!(" AND user_id = {user}"));
    if let Some(v) = &f.job_type {
        let p = q.bind(v.clone());
        q.push(&format!(" AND job_type = {p}"));
    }
    if let Some(v) = &f.status {
        let p = q.bind(v.clone());
        q.push(&format!(" AND status = {p}"));
    }
    q.page(page);
    Ok(t.tx
        .query(&q.sql, &q.params())
        .await?
        .iter()
        .map(Job::from)
        .collect())
}

/// How a cancel request ended.
#[derive(Debug)]
pub enum Cancel {
    /// This request cancelled it.
    Cancelled(Job),
    /// It was over already (completed, failed, or cancelled before).
    AlreadyOver(Job),
}

/// Cancels a pending or running job of the tenant; None when there is no such job. Of
/// two simultaneous cancels, exactly one gets `Cancelled`.
pub async fn cancel(t: &Tenant<'_>, id: JobId) -> Result<Option<Cancel>, AppError> {
    let sql = format!(
        "UPDATE background_jobs SET status = 'cancelled', completed_at = now(), \
                error_message = 'cancelled by the user' \
         WHERE id = $1 AND status IN ('pending', 'running') RETURNING {COLUMNS}"
    );
    if let Some(row) = t.tx.query_opt(&sql, &[&id.0]).await? {
        return Ok(Some(Cancel::Cancelled(Job::from(&row))));
    }
    Ok(get(t, id).await?.map(Cancel::AlreadyOver))
}

/// How long a job of each type may stay `running` before maintenance fails it; other
/// types get `DEFAULT_RUNNING_LIMIT_MINUTES`. A generation gives up by itself within
/// five deliveries (at most about 25 minutes for a video), a sync within five, a report
/// within four (a few minutes each).
pub const RUNNING_LIMIT_MINUTES: [(&str, i32); 4] = [
    ("image_generation", 30),
    ("video_generation", 60),
    ("meta_sync", 120),
    ("generate_report", 30),
];
pub const DEFAULT_RUNNING_LIMIT_MINUTES: i32 = 360;

/// Fails up to `limit` jobs that have been `running` longer than their type's limit
/// (their worker died or timed out without saying so) and returns them, for whatever
/// their end must undo (a generation's credits). Concurrent sweeps never share a job.
pub async fn fail_stuck(w: &Worker<'_>, limit: i64) -> Result<Vec<Job>, AppError> {
    let cases: String = RUNNING_LIMIT_MINUTES
        .iter()
        .map(|(kind, minutes)| format!(" WHEN '{kind}' THEN {minutes}"))
        .collect();
    let sql = format!(
        "UPDATE background_jobs SET status = 'failed', completed_at = now(), \
                error_message = 'stopped: running for longer than ' || \
                    (CASE job_type{cases} ELSE {DEFAULT_RUNNING_LIMIT_MINUTES} END) || ' minutes' \
         WHERE id IN (SELECT id FROM background_jobs WHERE status = 'running' \
                        AND coalesce(started_at, updated_at) < now() - make_interval( \
                            mins => CASE job_type{cases} ELSE {DEFAULT_RUNNING_LIMIT_MINUTES} END) \
                      ORDER BY started_at LIMIT $1 FOR UPDATE SKIP LOCKED) \
           AND status = 'running' \
         RETURNING {COLUMNS}"
    );
    Ok(w.tx
        .query(&sql, &[&limit])
        .await?
        .iter()
        .map(Job::from)
        .collect())
}

/// A new pending job for the tenant.
pub async fn create(t: &Tenant<'_>, job_type: &str, parameters: &Value) -> Result<Job, AppError> {
    let sql = format!(
        "INSERT INTO background_jobs (job_type, user_id, parameters, status, scheduled_at) \
         VALUES ($1, $2, $3, 'pending', now()) RETURNING {COLUMNS}"
    );
    Ok(Job::from(
        &t.tx
            .query_one(&sql, &[&job_type, &t.user().0, parameters])
            .await?,
    ))
}

/// A new pending job for `user`, from a cross-tenant job (the hourly sync).
pub async fn create_for(
    w: &Worker<'_>,
    user: Uuid,
    job_type: &str,
    parameters: &Value,
) -> Result<Job, AppError> {
    let sql = format!(
        "INSERT INTO background_jobs (job_type, user_id, parameters, status, scheduled_at) \
         VALUES ($1, $2, $3, 'pending', now()) RETURNING {COLUMNS}"
    );
    Ok(Job::from(
        &w.tx
            .query_one(&sql, &[&job_type, &user, parameters])
            .await?,
    ))
}

pub async fn get(t: &Tenant<'_>, id: JobId) -> Result<Option<Job>, AppError> {
    let sql = format!("SELECT {COLUMNS} FROM background_jobs WHERE id = $1");
    Ok(t.tx
        .query_opt(&sql, &[&id.0])
        .await?
        .as_ref()
        .map(Job::from))
}

/// Marks a job running (one more attempt) and returns it; None when it no longer
/// needs work (finished, failed, cancelled or gone), so a redelivered message is a no-op.
pub async fn start(t: &impl Tx, id: JobId) -> Result<Option<Job>, AppError> {
    let sql = format!(
        "UPDATE background_jobs SET status = 'running', attempts = attempts + 1, \
                started_at = coalesce(started_at, now()), progress = greatest(progress, 5) \
         WHERE id = $1 AND status IN ('pending', 'running') RETURNING {COLUMNS}"
    );
    Ok(t.tx()
        .query_opt(&sql, &[&id.0])
        .await?
        .as_ref()
        .map(Job::from))
}

/// Records progress (0–100) and, optionally, state a retry needs (merged into `result`).
pub async fn progress(
    t: &impl Tx,
    id: JobId,
    percent: i16,
    state: Option<&Value>,
) -> Result<(), AppError> {
    t.tx().execute(
        "UPDATE background_jobs SET progress = greatest(progress, $2), \
                result = CASE WHEN $3::jsonb IS NULL THEN result ELSE coalesce(result, '{}') || $3 END \
         WHERE id = $1 AND status = 'running'",
        &[&id.0, &percent.clamp(0, 100), &state],
    )
    .await?;
    Ok(())
}

/// A failed attempt that will be retried: the job stays running and says why.
pub async fn retrying(t: &impl Tx, id: JobId, why: &str) -> Result<(), AppError> {
    t.tx()
        .execute(
            "UPDATE background_jobs SET error_message = $2 WHERE id = $1 AND status = 'running'",
            &[&id.0, &format!("retrying: {why}")],
        )
        .await?;
    Ok(())
}

/// Completes a pending or running job; false when it had already ended (cancelled by
/// its user, or failed by the sweeper), so the caller must not deliver its product.
pub async fn complete(t: &impl Tx, id: JobId, result: &Value) -> Result<bool, AppError> {
    let n = t.tx().execute(
        "UPDATE background_jobs SET status = 'completed', progress = 100, error_message = NULL, \
                result = coalesce(result, '{}') || $2, completed_at = now() \
         WHERE id = $1 AND status IN ('pending', 'running')",
        &[&id.0, result],
    )
    .await?;
    Ok(n == 1)
}

/// Fails the job for good; false when it had already finished.
pub async fn fail(t: &impl Tx, id: JobId, why: &str) -> Result<bool, AppError> {
    let n =
        t.tx().execute(
            "UPDATE background_jobs SET status = 'failed', error_message = $2, completed_at = now() \
             WHERE id = $1 AND status IN ('pending', 'running')",
            &[&id.0, &why],
        )
        .await?;
    Ok(n == 1)
}

/// When the tenant last asked for a job of `job_type`, read under a per-user lock held to
/// the end of the transaction, so two simultaneous requests see each other's job.
pub async fn last_requested(
    t: &Tenant<'_>,
    job_type: &str,
) -> Result<Option<DateTime<Utc>>, AppError> {
    t.tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1::text || ':' || $2::uuid::text, 0))",
        &[&job_type, &t.user().0],
    )
    .await?;
    Ok(t.tx
        .query_one(
            "SELECT max(created_at) FROM background_jobs WHERE job_type = $1",
            &[&job_type],
        )
        .await?
        .get(0))
}
