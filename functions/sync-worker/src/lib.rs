//! The sync worker (SQS, partial batch failures). Two kinds of message arrive:
//! `{job_id, user_id, connection_id, ad_account_id}` from the hourly scheduled-sync —
//! pull that ad account's insights into `performance_analytics` (see `sync`) — and
//! `{webhook_event_id}` from the Meta webhook — apply the stored event (see `events`).
//! A message that cannot be handled now is hidden for a delay and reported failed, so
//! SQS redelivers it; one that keeps failing ends in the dead-letter queue.

pub mod creatives;
pub mod events;
pub mod learning;
pub mod parse;
pub mod reach;
pub mod reading;
pub mod review;
pub mod sync;

use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use serde::Deserialize;
use shared::aws::LazyClient;
pub use shared::aws::sqs_batch::Outcome;
use shared::aws::sqs_batch::{attempt_of, body_of, process_batch};
use shared::config::{ConfigError, DbConfig};
use shared::crypto::TokenCipher;
use shared::db::WorkerDb;
use shared::meta::Graph;

/// Deliveries of one message before the worker gives up: on the last one, whatever
/// would be retried fails the job instead (the queue's maxReceiveCount is the same, so
/// only unreadable messages and webhook events reach the DLQ).
pub const MAX_ATTEMPTS: u32 = 5;

pub struct State {
    pub db: WorkerDb,
    pub graph: Graph,
    pub cipher: TokenCipher,
    /// Used only to delay a retried message's redelivery.
    pub sqs: LazyClient<aws_sdk_sqs::Client>,
    /// How long to wait between polls of an async insights report.
    pub report_poll: Duration,
}

impl State {
    pub async fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            db: WorkerDb::connect(&DbConfig::worker_from_env()?)?,
            graph: Graph::from_env()?,
            cipher: TokenCipher::from_env()?,
            sqs: LazyClient::on_first_use(),
            report_poll: Duration::from_secs(2),
        })
    }
}

/// The two message shapes.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Message {
    Sync(sync::SyncMessage),
    Event(shared::messages::MetaEvent),
}

/// Seconds before attempt `n + 1`: 30 s doubling, at most 30 minutes.
pub fn backoff_seconds(attempt: u32) -> i32 {
    shared::aws::sqs_batch::backoff(30, attempt, 1800)
}

pub async fn handle(state: &State, event: SqsEvent) -> SqsBatchResponse {
    process_batch(&state.sqs, &event, |record| process(state, record)).await
}

pub async fn process(state: &State, record: &SqsMessage) -> Outcome {
    let attempt = attempt_of(record);
    let msg: Message = match body_of(record, backoff_seconds(attempt)) {
        Ok(m) => m,
        Err(retry) => return retry,
    };
    let result = match &msg {
        Message::Sync(m) => {
            let outcome = sync::run(state, m, attempt).await;
            let unfinished = match &outcome {
                Ok(Outcome::Retry { why, .. }) => Some(why.clone()),
                Err(e) => Some(e.to_string()),
                Ok(Outcome::Done(_)) => None,
            };
            match unfinished {
                Some(why) if attempt >= MAX_ATTEMPTS => {
                    let why = format!("gave up after {attempt} deliveries: {why}");
                    sync::give_up(state, m, &why).await
                }
                _ => outcome,
            }
        }
        Message::Event(e) => events::apply(state, e.webhook_event_id).await,
    };
    result.unwrap_or_else(|e| Outcome::Retry {
        why: e.to_string(),
        after_seconds: backoff_seconds(attempt),
    })
}
