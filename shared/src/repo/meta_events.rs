//! `meta_webhook_events`: Meta webhook changes, stored once each and applied by the worker.

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::db::Worker;
use crate::error::AppError;

pub struct NewEvent<'a> {
    pub dedupe_key: &'a str,
    pub object: &'a str,
    pub entry_id: &'a str,
    pub field: &'a str,
    pub value: &'a Value,
    pub event_time: DateTime<Utc>,
}

/// Stores the change; None when it was stored before (a redelivery).
pub async fn store(w: &Worker<'_>, e: &NewEvent<'_>) -> Result<Option<Uuid>, AppError> {
    let row = w
        .tx
        .query_opt(
            "INSERT INTO meta_webhook_events (dedupe_key, object, entry_id, field, value, event_time) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
            &[&e.dedupe_key, &e.object, &e.entry_id, &e.field, e.value, &e.event_time],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

pub struct Stored {
    pub id: Uuid,
    pub object: String,
    pub entry_id: String,
    pub field: String,
    pub value: Value,
    /// When Meta says the change happened.
    pub event_time: DateTime<Utc>,
}

/// The event if it still waits to be applied, locked for this transaction.
pub async fn claim(w: &Worker<'_>, id: Uuid) -> Result<Option<Stored>, AppError> {
    let row =
        w.tx.query_opt(
            "SELECT id, object, entry_id, field, value, event_time FROM meta_webhook_events \
             WHERE id = $1 AND status = 'received' FOR UPDATE SKIP LOCKED",
            &[&id],
        )
        .await?;
    Ok(row.map(|r| Stored {
        id: r.get(0),
        object: r.get(1),
        entry_id: r.get(2),
        field: r.get(3),
        value: r.get(4),
        event_time: r.get(5),
    }))
}

/// `applied` (it changed something) or `recorded` (kept for the record).
pub async fn finish(w: &Worker<'_>, id: Uuid, status: &str, outcome: &str) -> Result<(), AppError> {
    w.tx.execute(
        "UPDATE meta_webhook_events SET status = $2, outcome = $3, processed_at = now() WHERE id = $1",
        &[&id, &status, &outcome],
    )
    .await?;
    Ok(())
}
