//! `outbox`: messages that must follow a commit. A tenant transaction enqueues them with
//! its other writes; the relay (maintenance, as the worker role) sends them to their
//! queue afterwards and marks them sent, retrying with backoff when sending fails.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::db::{Tenant, Tx, Worker};
use crate::error::AppError;
use crate::messages::Message;

fn payload_of(message: &impl Message) -> Result<Value, AppError> {
    serde_json::to_value(message).map_err(|e| AppError::Internal(format!("message: {e}")))
}

/// Queues a message for `topic` as part of the tenant's transaction: it is sent only
/// if the transaction commits, and it is not lost if the sender crashes after commit.
/// Returns the message's id, so the request can try relaying it at once after commit.
pub async fn enqueue<M: Message>(t: &Tenant<'_>, message: &M) -> Result<i64, AppError> {
    enqueue_for(t, t.user().0, message).await
}

/// Queues a message from a cross-tenant job (no user), as part of its transaction.
pub async fn enqueue_system<M: Message>(w: &Worker<'_>, message: &M) -> Result<i64, AppError> {
    let row =
        w.tx.query_one(
            "INSERT INTO outbox (topic, payload) VALUES ($1, $2) RETURNING id",
            &[&M::TOPIC, &payload_of(message)?],
        )
        .await?;
    Ok(row.get(0))
}

/// Queues a message for `user` as part of any transaction (a tenant's, or a
/// cross-tenant job's).
pub async fn enqueue_for<M: Message>(
    t: &impl Tx,
    user: uuid::Uuid,
    message: &M,
) -> Result<i64, AppError> {
    let row = t
        .tx()
        .query_one(
            "INSERT INTO outbox (user_id, topic, payload) VALUES ($1, $2, $3) RETURNING id",
            &[&user, &M::TOPIC, &payload_of(message)?],
        )
        .await?;
    Ok(row.get(0))
}

pub struct Pending {
    pub id: i64,
    pub topic: String,
    pub payload: Value,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
}

/// Up to `limit` messages due for sending, oldest first, locked so that concurrent
/// relays never send the same message twice.
pub async fn claim_due(w: &Worker<'_>, limit: i64) -> Result<Vec<Pending>, AppError> {
    let rows = w
        .tx
        .query(
            "SELECT id, topic, payload, attempts, created_at FROM outbox \
             WHERE sent_at IS NULL AND available_at <= now() ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
            &[&limit],
        )
        .await?;
    Ok(pending(&rows))
}

/// The given messages if still unsent, locked like `claim_due` (a request relaying
/// what it just queued; RLS limits a tenant to its own rows).
pub async fn claim(t: &impl Tx, ids: &[i64]) -> Result<Vec<Pending>, AppError> {
    let rows = t
        .tx()
        .query(
            "SELECT id, topic, payload, attempts, created_at FROM outbox \
             WHERE id = ANY($1) AND sent_at IS NULL ORDER BY id FOR UPDATE SKIP LOCKED",
            &[&ids],
        )
        .await?;
    Ok(pending(&rows))
}

fn pending(rows: &[tokio_postgres::Row]) -> Vec<Pending> {
    rows.iter()
        .map(|r| Pending {
            id: r.get(0),
            topic: r.get(1),
            payload: r.get(2),
            attempts: r.get(3),
            created_at: r.get(4),
        })
        .collect()
}

pub async fn mark_sent(w: &impl Tx, id: i64) -> Result<(), AppError> {
    w.tx().execute("UPDATE outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1", &[&id])
        .await?;
    Ok(())
}

/// Records a failed attempt; the message becomes due again after `retry_in_seconds`.
pub async fn mark_failed(
    w: &impl Tx,
    id: i64,
    error: &str,
    retry_in_seconds: i64,
) -> Result<(), AppError> {
    w.tx()
        .execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $2, \
                available_at = now() + make_interval(secs => $3) WHERE id = $1",
            &[&id, &error, &(retry_in_seconds as f64)],
        )
        .await?;
    Ok(())
}
