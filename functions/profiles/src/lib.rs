//! Business and brand profiles over HTTP:
//! `GET/PUT /v1/business-profile`, `GET/PUT /v1/brand-profile`, `POST /v1/brand-profile/analyze`
//! (which relays its queue message at once; the maintenance relay is the safety net).

pub mod routes;

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use shared::aws::relay::Relay;
use shared::config::ConfigError;
use shared::error::AppError;

/// The pool, token verifier and queue relay, built once per cold start.
pub struct State {
    pub ctx: shared::http::Context,
    pub relay: Relay,
}

impl State {
    pub async fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            ctx: shared::http::Context::from_env().await?,
            relay: Relay::from_env(),
        })
    }
}

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
