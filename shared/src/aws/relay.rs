//! Sending outbox messages to their SQS queues. Topic → queue URL comes from
//! `QUEUE_URL_<TOPIC>` (topic upper-cased, `-` → `_`), e.g. `QUEUE_URL_GENERATION`.
//! Used by the maintenance relay (every minute, the safety net) and by requests that
//! relay what they just queued, right after their commit.

use std::collections::HashMap;

use aws_sdk_sqs::types::MessageAttributeValue;

use super::LazyClient;
use crate::db::Tx;
use crate::error::AppError;
use crate::repo::outbox::{self, Pending};

#[derive(Clone)]
/// Sends outbox messages to their SQS queues, one queue URL per topic.
pub struct Relay {
    sqs: LazyClient<aws_sdk_sqs::Client>,
    queues: HashMap<String, String>,
}

/// `QUEUE_URL_BRAND_ANALYSIS=…` serves topic `brand-analysis`.
pub fn queues_from_env(vars: impl Iterator<Item = (String, String)>) -> HashMap<String, String> {
    vars.filter_map(|(k, v)| {
        Some((
            k.strip_prefix("QUEUE_URL_")?
                .to_lowercase()
                .replace('_', "-"),
            v,
        ))
    })
    .filter(|(_, v)| !v.is_empty())
    .collect()
}

/// Seconds before retry number `attempts + 1`: 10 s doubling up to an hour.
pub fn backoff_seconds(attempts: i32) -> i64 {
    (10i64 << attempts.clamp(0, 9)).min(3600)
}

/// How long one send may take: an unresponsive SQS must not hold a request (the
/// message stays in the outbox and the maintenance relay sends it later).
pub const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// How sending one message went.
#[derive(Debug, PartialEq, Eq)]
pub enum Sent {
    /// SQS accepted it; its outbox row is gone.
    Sent,
    /// It stays in the outbox for a later attempt; why it failed.
    Failed(String),
}

impl Relay {
    /// A relay sending through `sqs` to `queues` (topic → queue URL).
    pub fn new(sqs: aws_sdk_sqs::Client, queues: HashMap<String, String>) -> Self {
        Self {
            sqs: LazyClient::ready(sqs),
            queues,
        }
    }

    /// Queues from `QUEUE_URL_*`; the SQS client is made when the first message goes out.
    pub fn from_env() -> Self {
        Self {
            sqs: LazyClient::on_first_use(),
            queues: queues_from_env(std::env::vars()),
        }
    }

    /// The SQS client (made on first use).
    pub async fn sqs(&self) -> &aws_sdk_sqs::Client {
        self.sqs.get().await
    }

    /// Sends `msg` to its topic's queue (with its outbox id as a message attribute).
    pub async fn send(&self, msg: &Pending) -> Sent {
        let Some(queue) = self.queues.get(&msg.topic) else {
            return Sent::Failed(format!(
                "no queue configured for topic {} (QUEUE_URL_*)",
                msg.topic
            ));
        };
        let id = MessageAttributeValue::builder()
            .data_type("Number")
            .string_value(msg.id.to_string())
            .build();
        let Ok(id) = id else {
            return Sent::Failed("message attribute".into());
        };
        let send = self
            .sqs()
            .await
            .send_message()
            .queue_url(queue)
            .message_body(msg.payload.to_string())
            .message_attributes("outbox_id", id)
            .send();
        match tokio::time::timeout(SEND_TIMEOUT, send).await {
            Ok(Ok(_)) => Sent::Sent,
            Ok(Err(e)) => Sent::Failed(format!("{}", aws_sdk_sqs::error::DisplayErrorContext(e))),
            Err(_) => Sent::Failed(format!("SQS did not answer within {SEND_TIMEOUT:?}")),
        }
    }

    /// Sends the claimed messages and records each outcome in the same transaction.
    pub async fn deliver(&self, t: &impl Tx, msgs: &[Pending]) -> Result<(usize, usize), AppError> {
        let (mut sent, mut failed) = (0, 0);
        for msg in msgs {
            match self.send(msg).await {
                Sent::Sent => {
                    outbox::mark_sent(t, msg.id).await?;
                    sent += 1;
                }
                Sent::Failed(why) => {
                    tracing::warn!(
                        outbox_id = msg.id,
                        topic = msg.topic,
                        error = why,
                        "send failed; will retry"
                    );
                    outbox::mark_failed(t, msg.id, &why, backoff_seconds(msg.attempts)).await?;
                    failed += 1;
                }
            }
        }
        Ok((sent, failed))
    }
}

impl Relay {
    /// Sends the messages a tenant transaction just committed, right away; if that fails
    /// the maintenance relay sends them within a minute, so the caller carries on.
    pub async fn send_now(&self, db: &crate::db::Db, user: crate::domain::UserId, ids: &[i64]) {
        if ids.is_empty() {
            return;
        }
        let sent = db
            .tenant(user, async |t| {
                let claimed = outbox::claim(t, ids).await?;
                self.deliver(t, &claimed).await
            })
            .await;
        if let Err(e) = sent {
            tracing::warn!(?ids, error = %e, "immediate relay failed; the maintenance relay will send it");
        }
    }

    /// `send_now` for messages a cross-tenant job committed.
    pub async fn send_now_system(&self, db: &crate::db::WorkerDb, ids: &[i64]) -> (usize, usize) {
        if ids.is_empty() {
            return (0, 0);
        }
        let sent = db
            .run("relay-now", async |w| {
                let claimed = outbox::claim(w, ids).await?;
                self.deliver(w, &claimed).await
            })
            .await;
        sent.unwrap_or_else(|e| {
            tracing::warn!(?ids, error = %e, "immediate relay failed; the maintenance relay will send it");
            (0, ids.len())
        })
    }
}
