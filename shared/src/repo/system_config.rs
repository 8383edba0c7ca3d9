//! The `system_config` table: limits and plans as editable data, not constants in code.

use serde_json::Value;

use crate::db::Tenant;
use crate::error::AppError;

pub async fn get(t: &Tenant<'_>, key: &str) -> Result<Option<Value>, AppError> {
    let row =
        t.tx.query_opt("SELECT value FROM system_config WHERE key = $1", &[&key])
            .await?;
    Ok(row.map(|r| r.get(0)))
}

/// Monthly AI credits of a tier, from `subscription_features`.
pub async fn tier_credits(t: &Tenant<'_>, tier: &str) -> Result<i32, AppError> {
    let features = get(t, "subscription_features").await?;
    features
        .as_ref()
        .and_then(|f| f.get(tier)?.get("ai_credits")?.as_i64())
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| {
            AppError::Internal(format!(
                "system_config.subscription_features has no ai_credits for {tier}"
            ))
        })
}
