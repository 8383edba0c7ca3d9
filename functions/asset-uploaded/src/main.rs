//! The asset-uploaded Lambda (S3 ObjectCreated on `uploads/`): wiring only.

use aws_lambda_events::event::s3::S3Event;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    shared::secrets::load_from_env()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "init failed: secrets"))?;
    let state = asset_uploaded::State::from_env()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "init failed"))?;
    let state = &state;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<S3Event>| async move {
        asset_uploaded::handle(state, event.payload)
            .await
            .map_err(Error::from)
    }))
    .await
}
