//! Reports: `POST /v1/reports` asks for one over a period, `GET /v1/reports` lists them
//! and `GET /v1/reports/{id}` gives one with presigned links to its HTML and PDF
//! (`reports` binary); the `report-worker` binary (SQS) reads the figures in the owner's
//! tenant, draws the charts and writes both files to S3 (`worker`). Weekly reports are
//! queued by maintenance (`shared::repo::reports::queue_weekly`).

pub mod charts;
pub mod content;
pub mod fonts;
pub mod html;
pub mod numbers;
pub mod pdf;
pub mod render;
pub mod routes;
pub mod thumbnail;
pub mod worker;

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use shared::aws::relay::Relay;
use shared::aws::storage::Storage;
use shared::config::ConfigError;
use shared::error::AppError;
use shared::http::at;

/// The pool, token verifier, bucket and queue relay, built once per cold start.
pub struct State {
    pub ctx: shared::http::Context,
    pub storage: Storage,
    pub relay: Relay,
}

impl State {
    pub async fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            ctx: shared::http::Context::from_env().await?,
            storage: Storage::from_env()?,
            relay: Relay::from_env(),
        })
    }
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    shared::http::serve(req, async |req| route(state, req).await).await
}

async fn route(state: &State, req: Request) -> Result<Response<Body>, AppError> {
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let method = req.method().clone();
    if path == "/v1/reports" {
        return match method {
            Method::GET => routes::reports::list(state, &req).await,
            Method::POST => routes::reports::create(state, &req).await,
            _ => Err(AppError::MethodNotAllowed),
        };
    }
    match (at::<1>("/v1/reports/{}", &path), method) {
        (Some([id]), Method::GET) => routes::reports::get(state, &req, id).await,
        (Some(_), _) => Err(AppError::MethodNotAllowed),
        _ => Err(AppError::NotFound),
    }
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(routes::reports::create, routes::reports::list, routes::reports::get))]
pub struct Api;
