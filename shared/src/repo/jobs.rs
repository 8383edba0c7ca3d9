//! `background_jobs`: long-running work a user can watch.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tokio_postgres::Row;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::{Tenant, Tx, Worker};
use crate::domain::JobId;
use crate::error::AppError;

#[derive(Debug, Serialize, ToSchema)]
pub struct Job {
    pub id: Uuid,
    pub job_type: String,
    /// pending, running, completed, failed or cancelled.
    pub status: String,
    /// 0–100.
    pub progress: i16,
    #[schema(value_type = Option<Object>)]
    pub parameters: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    pub error_message: Option<String>,
    pub scheduled_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, job_type, status, progress, parameters, result, error_message, scheduled_at, \
                       started_at, completed_at, created_at, updated_at";

impl From<&Row> for Job {
    fn from(r: &Row) -> Self {
        Self {
            id: r.get("id"),
            job_type: r.get("job_type"),
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

pub async fn complete(t: &impl Tx, id: JobId, result: &Value) -> Result<(), AppError> {
    t.tx().execute(
        "UPDATE background_jobs SET status = 'completed', progress = 100, error_message = NULL, \
                result = coalesce(result, '{}') || $2, completed_at = now() \
         WHERE id = $1 AND status IN ('pending', 'running')",
        &[&id.0, result],
    )
    .await?;
    Ok(())
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
