//! The maintenance Lambda (EventBridge schedules): wiring only.
#![recursion_limit = "256"]

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    shared::secrets::load_from_env()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "init failed: secrets"))?;
    let state = maintenance::State::from_env()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "init failed"))?;
    let state = &state;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        maintenance::handle(state, event.payload)
            .await
            .map_err(Error::from)
    }))
    .await
}
