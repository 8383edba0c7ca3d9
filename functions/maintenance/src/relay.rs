//! The outbox relay: sends due messages to the queue of their topic and marks them
//! sent in the same worker transaction that locked them. A send that fails is retried
//! later with exponential backoff; a message whose topic has no queue waits (and says
//! why in `last_error`) until one is configured. Consumers are idempotent, since a crash
//! between sending and committing sends a message again.

use serde::Serialize;
use shared::error::AppError;
use shared::repo::outbox;

use crate::State;

const BATCH: i64 = 100;

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Relayed {
    pub sent: usize,
    pub failed: usize,
}

/// Seconds before retry number `attempts + 1`: 10 s doubling up to an hour.
pub fn backoff_seconds(attempts: i32) -> i64 {
    (10i64 << attempts.clamp(0, 9)).min(3600)
}

pub async fn relay_outbox(state: &State) -> Result<Relayed, AppError> {
    state
        .db
        .run("relay-outbox", async |w| {
            let mut done = Relayed::default();
            for msg in outbox::claim_due(w, BATCH).await? {
                let Some(queue) = state.queues.get(&msg.topic) else {
                    let why = format!("no queue configured for topic {} (QUEUE_URL_*)", msg.topic);
                    outbox::mark_failed(w, msg.id, &why, backoff_seconds(msg.attempts)).await?;
                    done.failed += 1;
                    continue;
                };
                let sent = state
                    .sqs
                    .send_message()
                    .queue_url(queue)
                    .message_body(msg.payload.to_string())
                    .message_attributes(
                        "outbox_id",
                        aws_sdk_sqs::types::MessageAttributeValue::builder()
                            .data_type("Number")
                            .string_value(msg.id.to_string())
                            .build()
                            .map_err(AppError::internal)?,
                    )
                    .send()
                    .await;
                match sent {
                    Ok(_) => {
                        outbox::mark_sent(w, msg.id).await?;
                        done.sent += 1;
                    }
                    Err(e) => {
                        tracing::warn!(outbox_id = msg.id, topic = msg.topic, error = ?e, "send failed; will retry");
                        outbox::mark_failed(w, msg.id, &format!("{e}"), backoff_seconds(msg.attempts)).await?;
                        done.failed += 1;
                    }
                }
            }
            Ok(done)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(
            (backoff_seconds(0), backoff_seconds(1), backoff_seconds(3)),
            (10, 20, 80)
        );
        assert_eq!(backoff_seconds(20), 3600);
    }
}
