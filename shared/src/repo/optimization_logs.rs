//! `ai_optimization_logs`: every decision the optimizer made on a campaign — applied,
//! skipped with its reason, failed with Meta's error, a dry run, or reverted — with the
//! metric snapshot and statistics it was decided on, newest first.

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::db::Tenant;
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
