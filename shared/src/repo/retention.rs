//! Data retention and partition upkeep, run by the maintenance job as the worker role.

use chrono::NaiveDate;
use serde_json::Value;

use crate::db::Worker;
use crate::error::AppError;

/// Applies the retention policy (see `cleanup_old_data()`); returns what was removed.
pub async fn cleanup_old_data(w: &Worker<'_>) -> Result<Value, AppError> {
    Ok(w.tx
        .query_one("SELECT cleanup_old_data()", &[])
        .await?
        .get(0))
}

/// Ensures the monthly partition of `performance_analytics` containing `month` exists.
pub async fn ensure_analytics_partition(
    w: &Worker<'_>,
    month: NaiveDate,
) -> Result<String, AppError> {
    Ok(w.tx
        .query_one("SELECT create_performance_partition($1)", &[&month])
        .await?
        .get(0))
}
