//! The rules HTTP Lambda: wiring only.

use lambda_http::{Error, Request, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    shared::secrets::load_from_env()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "init failed: secrets"))?;
    let state = rules::State::from_env()
        .await
        .inspect_err(|e| tracing::error!(error = %e, "init failed"))?;
    let state = &state;
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, std::convert::Infallible>(rules::handle(state, req).await)
    }))
    .await
}
