//! What SQS-triggered functions share: the loop over a batch that reports partial
//! failures, reading a record's JSON body, how many times a record has been delivered,
//! and hiding a failed record for a delay (its visibility timeout) before SQS
//! redelivers it, which turns partial batch failures into retries with backoff. A
//! worker whose messages can take long gives the loop a `Budget`: a record is started
//! only while the time one may need still fits before the invocation's deadline; the
//! rest go back unprocessed, visible again at once.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use serde::de::DeserializeOwned;

use super::LazyClient;

/// What became of one message.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Finished (done, failed for good, or nothing left to do): SQS deletes the message.
    Done(String),
    /// Try again after this many seconds.
    Retry {
        /// What went wrong this time, for the log.
        why: String,
        /// Seconds until SQS delivers the message again.
        after_seconds: i32,
    },
}

impl Outcome {
    /// Finished, with what happened.
    pub fn done(what: impl Into<String>) -> Self {
        Self::Done(what.into())
    }
}

/// How long an invocation may run, and how long one message may need.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// When the invocation ends.
    pub deadline: Instant,
    /// The time one message may need; no message starts with less than this left.
    pub per_message: Duration,
}

/// The invocation's end as an `Instant`, from the Lambda context's deadline
/// (milliseconds since the Unix epoch).
pub fn deadline_from_epoch_ms(deadline_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

impl Budget {
    /// Whether another message can be started and finished in time.
    pub fn fits_another(&self) -> bool {
        Instant::now() + self.per_message <= self.deadline
    }
}

/// Processes every record of the batch in turn; each one to retry is hidden for its
/// delay and reported as a batch item failure, the others are acknowledged.
pub async fn process_batch<'a, F, Fut>(
    sqs: &LazyClient<aws_sdk_sqs::Client>,
    event: &'a SqsEvent,
    process: F,
) -> SqsBatchResponse
where
    F: FnMut(&'a SqsMessage) -> Fut,
    Fut: Future<Output = Outcome>,
{
    process_batch_within(sqs, event, None, process).await
}

/// `process_batch` within `budget`: records that no longer fit go back unprocessed.
pub async fn process_batch_within<'a, F, Fut>(
    sqs: &LazyClient<aws_sdk_sqs::Client>,
    event: &'a SqsEvent,
    budget: Option<Budget>,
    mut process: F,
) -> SqsBatchResponse
where
    F: FnMut(&'a SqsMessage) -> Fut,
    Fut: Future<Output = Outcome>,
{
    let mut response = SqsBatchResponse::default();
    for record in &event.records {
        let id = record.message_id.clone().unwrap_or_default();
        if budget.is_some_and(|b| !b.fits_another()) {
            tracing::info!(
                message_id = id,
                "not started: the invocation's time is nearly up"
            );
            hide_for(sqs.get().await, record, 0).await;
            response.add_failure(id);
            continue;
        }
        match process(record).await {
            Outcome::Done(what) => tracing::info!(message_id = id, what, "message done"),
            Outcome::Retry { why, after_seconds } => {
                tracing::warn!(
                    message_id = id,
                    why,
                    after_seconds,
                    "message will be retried"
                );
                hide_for(sqs.get().await, record, after_seconds).await;
                response.add_failure(id);
            }
        }
    }
    response
}

/// Seconds a record waits before its next delivery after failing on delivery `attempt`
/// (1 for the first): `first`, doubling each time, never more than `cap`.
pub fn backoff(first: i32, attempt: u32, cap: i32) -> i32 {
    first
        .saturating_mul(1i32 << attempt.saturating_sub(1).min(16))
        .min(cap)
}

/// The record's JSON body; an unreadable one is retried after `after_seconds` until
/// the queue's maxReceiveCount moves it to the dead-letter queue.
pub fn body_of<T: DeserializeOwned>(record: &SqsMessage, after_seconds: i32) -> Result<T, Outcome> {
    serde_json::from_str(record.body.as_deref().unwrap_or("")).map_err(|e| {
        tracing::error!(error = %e, body = record.body, "unreadable message; it will end in the DLQ");
        Outcome::Retry {
            why: format!("unreadable message: {e}"),
            after_seconds,
        }
    })
}

/// The record's `ApproximateReceiveCount` (1 on the first delivery).
pub fn attempt_of(record: &SqsMessage) -> u32 {
    record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// Delays the record's redelivery by `seconds` (best effort: if this fails, SQS
/// redelivers after the queue's visibility timeout).
pub async fn hide_for(sqs: &aws_sdk_sqs::Client, record: &SqsMessage, seconds: i32) {
    let (Some(arn), Some(receipt)) = (&record.event_source_arn, &record.receipt_handle) else {
        return;
    };
    let Some(name) = arn.rsplit(':').next() else {
        return;
    };
    let url = match sqs.get_queue_url().queue_name(name).send().await {
        Ok(out) => out.queue_url,
        Err(e) => {
            tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(e), "queue url");
            return;
        }
    };
    if let Some(url) = url
        && let Err(e) = sqs
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(receipt)
            .visibility_timeout(seconds)
            .send()
            .await
    {
        tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(e), "visibility");
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_from_its_first_delay_up_to_its_cap_as_each_worker_had_it() {
        // The formulas each worker carried before they shared this one.
        for attempt in 1..=30u32 {
            let shift = |max: u32| attempt.saturating_sub(1).min(max);
            assert_eq!(
                backoff(15, attempt, 480),
                (15i32 << shift(5)).min(600),
                "brand, reports"
            );
            assert_eq!(
                backoff(30, attempt, 480),
                (30i32 << shift(4)).min(600),
                "optimizer"
            );
            assert_eq!(
                backoff(10, attempt, 900),
                (10i32 << shift(7)).min(900),
                "generation"
            );
            assert_eq!(
                backoff(30, attempt, 900),
                (30i32 << shift(5)).min(900),
                "notifications"
            );
            assert_eq!(
                backoff(30, attempt, 1800),
                (30i32 << shift(6)).min(1800),
                "sync"
            );
        }
        assert_eq!(backoff(15, 0, 480), 15);
    }
}
