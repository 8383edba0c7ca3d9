//! The `jobs` responses: what the API answers, each made from its `shared::repo::jobs` row.

use crate::repo::jobs as row;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// A background job (brand analysis, AI generation, a Meta sync, a report): its progress, result or error.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Job {
    /// The job's id.
    pub id: Uuid,
    /// image_generation, video_generation, meta_sync, brand_analysis, …
    pub job_type: String,
    /// The campaign the job works on, where it has one.
    pub campaign_id: Option<Uuid>,
    /// pending, running, completed, failed or cancelled.
    pub status: String,
    /// 0–100.
    pub progress: i16,
    /// What it was asked to do.
    #[schema(value_type = Option<Object>)]
    pub parameters: Option<Value>,
    /// What it produced, once completed.
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    /// Why it failed, if it did.
    pub error_message: Option<String>,
    /// When it is due to run.
    pub scheduled_at: DateTime<Utc>,
    /// When it started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it completed, failed or was cancelled.
    pub completed_at: Option<DateTime<Utc>>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<row::Job> for Job {
    fn from(r: row::Job) -> Self {
        Self {
            id: r.id,
            job_type: r.job_type,
            campaign_id: r.campaign_id,
            status: r.status,
            progress: r.progress,
            parameters: r.parameters,
            result: r.result,
            error_message: r.error_message,
            scheduled_at: r.scheduled_at,
            started_at: r.started_at,
            completed_at: r.completed_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}
