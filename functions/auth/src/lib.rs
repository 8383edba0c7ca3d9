//! Accounts over HTTP: `POST /v1/auth/{signup,login,refresh,logout}` and
//! `GET/PATCH/DELETE /v1/me`. Routing is here; each route is in `routes`. Every
//! `/v1/auth/*` request first counts toward its client IP's limit per minute
//! (`AUTH_IP_LIMIT_PER_MINUTE`, 429 with `Retry-After` beyond it): AWS WAF cannot be
//! attached to an API Gateway HTTP API, so the limit lives here, the same in AWS and in
//! the local stack.

pub mod routes;

use std::net::IpAddr;

use lambda_http::http::Method;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use shared::auth::AccessTokens;
use shared::config::{ConfigError, DbConfig, parsed_or};
use shared::db::Db;
use shared::error::AppError;
use shared::repo::throttle;

/// What every invocation shares: built once per cold start.
pub struct State {
    pub db: Db,
    pub tokens: AccessTokens,
    pub refresh_ttl_days: i64,
    pub trial_days: i64,
    /// `/v1/auth/*` requests one client IP may make per minute.
    pub ip_limit_per_minute: i32,
}

impl State {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            db: Db::connect(&DbConfig::from_env()?)?,
            tokens: AccessTokens::from_env()?,
            refresh_ttl_days: parsed_or("REFRESH_TOKEN_TTL_DAYS", 30)?,
            trial_days: parsed_or("TRIAL_DAYS", 14)?,
            ip_limit_per_minute: parsed_or("AUTH_IP_LIMIT_PER_MINUTE", 100)?,
        })
    }
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    shared::http::serve(req, async |req| route(state, req).await).await
}

async fn route(state: &State, req: Request) -> Result<Response<Body>, AppError> {
    let path = req.uri().path().trim_end_matches('/').to_owned();
    if path.starts_with("/v1/auth/") {
        within_ip_limit(state, &req).await?;
    }
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

/// The client's address as API Gateway saw it.
fn client_ip(req: &Request) -> Option<IpAddr> {
    match req.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.as_deref()?.parse().ok(),
        _ => None,
    }
}

/// Counts the request toward its IP's minute; 429 beyond the limit.
async fn within_ip_limit(state: &State, req: &Request) -> Result<(), AppError> {
    let Some(ip) = client_ip(req) else {
        return Ok(());
    };
    let limit = state.ip_limit_per_minute;
    match state
        .db
        .public(async |p| throttle::ip_request(p, ip, limit).await)
        .await?
    {
        None => Ok(()),
        Some(retry_at) => {
            tracing::warn!(%ip, limit, "auth requests over the per-IP limit");
            Err(AppError::RateLimited {
                code: "too_many_requests",
                detail: format!(
                    "More than {limit} sign-in requests a minute from your address. Wait a moment."
                ),
                retry_at,
            })
        }
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
