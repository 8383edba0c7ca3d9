//! The outbox relay: sends due messages to the queue of their topic and marks them
//! sent in the same worker transaction that locked them. A send that fails is retried
//! later with exponential backoff; a message whose topic has no queue waits (and says
//! why in `last_error`) until one is configured. Consumers are idempotent, since a crash
//! between sending and committing sends a message again.

use serde::Serialize;
use shared::WorkerError;
use shared::repo::outbox;

use crate::State;

const BATCH: i64 = 100;

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Relayed {
    pub sent: usize,
    pub failed: usize,
}

pub async fn relay_outbox(state: &State) -> Result<Relayed, WorkerError> {
    state
        .db
        .run("relay-outbox", async |w| {
            let due = outbox::claim_due(w, BATCH).await?;
            let (sent, failed) = state.relay.deliver(w, &due).await?;
            Ok(Relayed { sent, failed })
        })
        .await
        .map_err(WorkerError::from)
}

#[cfg(test)]
mod tests {
    use shared::aws::relay::backoff_seconds;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(
            (backoff_seconds(0), backoff_seconds(1), backoff_seconds(3)),
            (10, 20, 80)
        );
        assert_eq!(backoff_seconds(20), 3600);
    }
}
