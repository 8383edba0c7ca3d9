//! Analytics over HTTP: `GET /v1/campaigns/{id}/performance` (a time series with optional
//! breakdown) and `GET /v1/analytics/summary` (per-campaign and total figures).

mod routes;

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use shared::error::AppError;
use shared::http::at;

pub use routes::params::MAX_RANGE_DAYS;
pub use routes::performance::Performance;
pub use routes::summary::Summary;

/// The pool and token verifier, built once per cold start.
pub type State = shared::http::Context;

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    shared::http::serve(req, async |req| route(state, req).await).await
}

async fn route(state: &State, req: Request) -> Result<Response<Body>, AppError> {
    let path = req.uri().path().to_owned();
    let get = *req.method() == Method::GET;
    if let Some([id]) = at("/v1/campaigns/{}/performance", &path) {
        return if get {
            routes::performance::performance(state, &req, id).await
        } else {
            Err(AppError::MethodNotAllowed)
        };
    }
    if at::<0>("/v1/analytics/summary", &path).is_some() {
        return if get {
            routes::summary::summary(state, &req).await
        } else {
            Err(AppError::MethodNotAllowed)
        };
    }
    Err(AppError::NotFound)
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(routes::performance::performance, routes::summary::summary))]
pub struct Api;
