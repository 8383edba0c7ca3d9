//! What SQS-triggered functions share: how many times a record has been delivered, and
//! hiding a failed record for a delay (its visibility timeout) before SQS redelivers it,
//! which turns partial batch failures into retries with backoff.

use aws_lambda_events::event::sqs::SqsMessage;

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
