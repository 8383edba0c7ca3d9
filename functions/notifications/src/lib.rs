//! Notifications: the in-app feed, unread count and read marks, per-category preferences
//! and the login-free unsubscribe link over HTTP (`notifications` binary), and the
//! emails sent through SES from the outbox (`notification-emails` binary, `sender`).
//! Notifications themselves are written by `shared::repo::notifications::notify` in the
//! transaction of whatever they tell of.

pub mod email;
pub mod routes;
pub mod sender;
pub mod unsubscribe;

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use shared::config::ConfigError;
use shared::error::AppError;
use shared::http::at;

pub struct State {
    pub ctx: shared::http::Context,
    pub signer: unsubscribe::Signer,
}

impl State {
    pub async fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            ctx: shared::http::Context::from_env().await?,
            signer: unsubscribe::Signer::from_env()?,
        })
    }
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    shared::http::serve(req, async |req| route(state, req).await).await
}

async fn route(state: &State, req: Request) -> Result<Response<Body>, AppError> {
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let method = req.method().clone();
    match path.as_str() {
        "/v1/notifications" => match method {
            Method::GET => routes::feed::list(state, &req).await,
            _ => Err(AppError::MethodNotAllowed),
        },
        "/v1/notifications/read-all" => match method {
            Method::POST => routes::feed::read_all(state, &req).await,
            _ => Err(AppError::MethodNotAllowed),
        },
        "/v1/notifications/unsubscribe" => match method {
            Method::GET => routes::unsubscribe::unsubscribe(state, &req).await,
            Method::POST => routes::unsubscribe::unsubscribe_one_click(state, &req).await,
            _ => Err(AppError::MethodNotAllowed),
        },
        "/v1/notification-preferences" => match method {
            Method::GET => routes::preferences::get(state, &req).await,
            Method::PUT => routes::preferences::put(state, &req).await,
            _ => Err(AppError::MethodNotAllowed),
        },
        _ => match (at::<1>("/v1/notifications/{}/read", &path), method) {
            (Some([id]), Method::POST) => routes::feed::read(state, &req, id).await,
            (Some(_), _) => Err(AppError::MethodNotAllowed),
            _ => Err(AppError::NotFound),
        },
    }
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    routes::feed::list,
    routes::feed::read,
    routes::feed::read_all,
    routes::preferences::get,
    routes::preferences::put,
    routes::unsubscribe::unsubscribe,
    routes::unsubscribe::unsubscribe_one_click
))]
pub struct Api;
