//! The openapi Lambda: serves the document generated from the code, embedded in the
//! binary when it is built (`openapi::DOCUMENT`), so a cold start builds nothing.

use lambda_http::{Error, Request, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, std::convert::Infallible>(openapi::handle(openapi::DOCUMENT, req).await)
    }))
    .await
}
