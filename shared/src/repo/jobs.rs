//! `background_jobs`: long-running work a user can watch.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tokio_postgres::Row;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::Tenant;
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

pub async fn get(t: &Tenant<'_>, id: JobId) -> Result<Option<Job>, AppError> {
    let sql = format!("SELECT {COLUMNS} FROM background_jobs WHERE id = $1");
    Ok(t.tx
        .query_opt(&sql, &[&id.0])
        .await?
        .as_ref()
        .map(Job::from))
}
