//! Optimization rules over HTTP: `GET/POST /v1/rules`, `GET/PATCH/DELETE /v1/rules/{id}`,
//! `POST /v1/rules/{id}/preview` (what the rule would do right now, with its numbers;
//! nothing is sent to Meta or logged), `GET /v1/campaigns/{id}/optimizations` (the
//! campaign's decision log) and `POST /v1/optimizations/{id}/revert` (an applied budget
//! or status action undone on Meta, once). Judging a rule on the owner's campaigns is `judge`, which
//! the optimizer shares.

pub mod judge;
pub mod meta_change;
pub mod routes;

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use shared::config::ConfigError;
use shared::error::AppError;
use shared::http::at;

/// The pool, token verifier and Meta client (for reverts), built once per cold start.
pub struct State {
    pub ctx: shared::http::Context,
    pub graph: shared::meta::Graph,
    pub cipher: shared::crypto::TokenCipher,
}

impl State {
    pub async fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            ctx: shared::http::Context::from_env().await?,
            graph: shared::meta::Graph::from_env()?,
            cipher: shared::crypto::TokenCipher::from_env()?,
        })
    }

    pub fn meta(&self) -> meta_change::MetaAccess<'_> {
        meta_change::MetaAccess {
            db: &self.ctx.db,
            graph: &self.graph,
            cipher: &self.cipher,
        }
    }
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    shared::http::serve(req, async |req| route(state, req).await).await
}

async fn route(state: &State, req: Request) -> Result<Response<Body>, AppError> {
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let method = req.method().clone();
    if path == "/v1/rules" {
        return match method {
            Method::GET => routes::rules::list(state, &req).await,
            Method::POST => routes::rules::create(state, &req).await,
            _ => Err(AppError::MethodNotAllowed),
        };
    }
    if let Some([id]) = at::<1>("/v1/rules/{}/preview", &path) {
        return match method {
            Method::POST => routes::preview::preview(state, &req, id).await,
            _ => Err(AppError::MethodNotAllowed),
        };
    }
    if let Some([id]) = at::<1>("/v1/optimizations/{}/revert", &path) {
        return match method {
            Method::POST => routes::revert::revert(state, &req, id).await,
            _ => Err(AppError::MethodNotAllowed),
        };
    }
    if let Some([id]) = at::<1>("/v1/campaigns/{}/optimizations", &path) {
        return match method {
            Method::GET => routes::optimizations::list(state, &req, id).await,
            _ => Err(AppError::MethodNotAllowed),
        };
    }
    match (at::<1>("/v1/rules/{}", &path), method) {
        (Some([id]), Method::GET) => routes::rules::get(state, &req, id).await,
        (Some([id]), Method::PATCH) => routes::rules::patch(state, &req, id).await,
        (Some([id]), Method::DELETE) => routes::rules::delete(state, &req, id).await,
        (Some(_), _) => Err(AppError::MethodNotAllowed),
        _ => Err(AppError::NotFound),
    }
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        routes::rules::list,
        routes::rules::create,
        routes::rules::get,
        routes::rules::patch,
        routes::rules::delete,
        routes::preview::preview,
        routes::optimizations::list,
        routes::revert::revert
    ),
    components(schemas(shared::domain::rule::Condition))
)]
pub struct Api;
