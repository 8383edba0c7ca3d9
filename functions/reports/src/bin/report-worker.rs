//! The report-worker Lambda (SQS): wiring only.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    shared::secrets::load_from_env()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "init failed: secrets"))?;
    let state = reports::worker::State::from_env()
        .inspect_err(|e| tracing::error!(error = %e, "init failed"))?;
    let state = &state;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<SqsBatchResponse, Error>(reports::worker::handle(state, event.payload).await)
    }))
    .await
}
