//! Business and brand profiles over HTTP:
//! `GET/PUT /v1/business-profile`, `GET/PUT /v1/brand-profile`, `POST /v1/brand-profile/analyze`.

pub mod routes;

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use shared::error::AppError;

/// The pool and token verifier, built once per cold start.
pub type State = shared::http::Context;

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    shared::http::serve(req, async |req| route(state, req).await).await
}

async fn route(state: &State, req: Request) -> Result<Response<Body>, AppError> {
    let path = req.uri().path().trim_end_matches('/').to_owned();
    match (path.as_str(), req.method().clone()) {
        ("/v1/business-profile", Method::GET) => routes::business::get_business(state, &req).await,
        ("/v1/business-profile", Method::PUT) => routes::business::put_business(state, &req).await,
        ("/v1/brand-profile", Method::GET) => routes::brand::get_brand(state, &req).await,
        ("/v1/brand-profile", Method::PUT) => routes::brand::put_brand(state, &req).await,
        ("/v1/brand-profile/analyze", Method::POST) => routes::analysis::analyze(state, &req).await,
        ("/v1/business-profile" | "/v1/brand-profile" | "/v1/brand-profile/analyze", _) => {
            Err(AppError::MethodNotAllowed)
        }
        _ => Err(AppError::NotFound),
    }
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    routes::business::get_business,
    routes::business::put_business,
    routes::brand::get_brand,
    routes::brand::put_brand,
    routes::analysis::analyze
))]
pub struct Api;
