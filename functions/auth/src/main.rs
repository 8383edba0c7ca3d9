//! The auth Lambda: wiring only. Config and the pool are built once per cold start.

use lambda_http::{Error, Request, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    shared::secrets::load_from_env()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "init failed: secrets"))?;
    let state = auth::State::from_env().map_err(|e| {
        tracing::error!(error = %e, "init failed");
        e
    })?;
    let state = &state;
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, std::convert::Infallible>(auth::handle(state, req).await)
    }))
    .await
}
