//! The openapi Lambda: renders the document once per cold start and serves it.

use lambda_http::{Error, Request, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let doc = openapi::document().to_json()?;
    let doc = doc.as_str();
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, std::convert::Infallible>(openapi::handle(doc, req).await)
    }))
    .await
}
