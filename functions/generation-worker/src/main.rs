//! The generation-worker Lambda (SQS): wiring only.
#![recursion_limit = "256"]

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use shared::aws::sqs_batch::deadline_from_epoch_ms;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    shared::secrets::load_from_env()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "init failed: secrets"))?;
    let state = generation_worker::State::from_env()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "init failed"))?;
    let state = &state;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let deadline = deadline_from_epoch_ms(event.context.deadline);
        Ok::<SqsBatchResponse, Error>(
            generation_worker::handle(state, event.payload, deadline).await,
        )
    }))
    .await
}
