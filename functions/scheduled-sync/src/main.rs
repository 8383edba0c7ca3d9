//! The scheduled-sync Lambda (EventBridge, hourly): wiring only.
#![recursion_limit = "256"]

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    shared::secrets::load_from_env()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "init failed: secrets"))?;
    let state = scheduled_sync::State::from_env()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "init failed"))?;
    let state = &state;
    lambda_runtime::run(service_fn(move |_event: LambdaEvent<Value>| async move {
        scheduled_sync::handle(state).await.map_err(Error::from)
    }))
    .await
}
