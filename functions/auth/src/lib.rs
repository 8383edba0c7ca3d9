//! Accounts over HTTP: `POST /v1/auth/{signup,login,refresh,logout}` and
//! `GET/PATCH/DELETE /v1/me`. Routing is here; each route is in `routes`.

pub mod routes;

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use shared::auth::AccessTokens;
use shared::config::{ConfigError, DbConfig, parsed_or};
use shared::db::Db;
use shared::error::AppError;

/// What every invocation shares: built once per cold start.
pub struct State {
    pub db: Db,
    pub tokens: AccessTokens,
    pub refresh_ttl_days: i64,
    pub trial_days: i64,
}

impl State {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            db: Db::connect(&DbConfig::from_env()?)?,
            tokens: AccessTokens::from_env()?,
            refresh_ttl_days: parsed_or("REFRESH_TOKEN_TTL_DAYS", 30)?,
            trial_days: parsed_or("TRIAL_DAYS", 14)?,
        })
    }
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    shared::http::serve(req, async |req| route(state, req).await).await
}

async fn route(state: &State, req: Request) -> Result<Response<Body>, AppError> {
    let path = req.uri().path().trim_end_matches('/').to_owned();
    match (req.method().clone(), path.as_str()) {
        (Method::POST, "/v1/auth/signup") => routes::signup(state, &req).await,
        (Method::POST, "/v1/auth/login") => routes::login(state, &req).await,
        (Method::POST, "/v1/auth/refresh") => routes::refresh(state, &req).await,
        (Method::POST, "/v1/auth/logout") => routes::logout(state, &req).await,
        (Method::GET, "/v1/me") => routes::me(state, &req).await,
        (Method::PATCH, "/v1/me") => routes::update_me(state, &req).await,
        (Method::DELETE, "/v1/me") => routes::delete_me(state, &req).await,
        (
            _,
            "/v1/auth/signup" | "/v1/auth/login" | "/v1/auth/refresh" | "/v1/auth/logout"
            | "/v1/me",
        ) => Err(AppError::MethodNotAllowed),
        _ => Err(AppError::NotFound),
    }
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    routes::session::signup,
    routes::session::login,
    routes::session::refresh,
    routes::session::logout,
    routes::me::me,
    routes::me::update_me,
    routes::me::delete_me
))]
pub struct Api;
