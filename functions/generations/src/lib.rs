//! AI generation over HTTP: `POST /v1/generations` checks the daily limit and spends
//! credits, creates the asset (processing), the job and the queue message in one
//! transaction, then relays the message at once (the maintenance relay is the safety
//! net). Jobs are listed, watched and cancelled in `routes::jobs`.

mod routes;

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use shared::aws::relay::Relay;
use shared::config::ConfigError;
use shared::error::AppError;
use shared::http::at;

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
    let path = req.uri().path().to_owned();
    if path.trim_end_matches('/') == "/v1/generations" {
        return match *req.method() {
            Method::POST => routes::generations::generate(state, &req).await,
            _ => Err(AppError::MethodNotAllowed),
        };
    }
    if path.trim_end_matches('/') == "/v1/jobs" {
        return match *req.method() {
            Method::GET => routes::jobs::list_jobs(state, &req).await,
            _ => Err(AppError::MethodNotAllowed),
        };
    }
    if let Some([id]) = at("/v1/jobs/{}", &path) {
        return match *req.method() {
            Method::GET => routes::jobs::get_job(state, &req, id).await,
            _ => Err(AppError::MethodNotAllowed),
        };
    }
    if let Some([id]) = at("/v1/jobs/{}/cancel", &path) {
        return match *req.method() {
            Method::POST => routes::jobs::cancel_job(state, &req, id).await,
            _ => Err(AppError::MethodNotAllowed),
        };
    }
    Err(AppError::NotFound)
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    routes::generations::generate,
    routes::jobs::list_jobs,
    routes::jobs::get_job,
    routes::jobs::cancel_job
))]
pub struct Api;
