//! Connecting Meta: `GET /v1/meta/connect` gives the Facebook Login dialog URL with a
//! signed, expiring `state`; Facebook returns the user to `META_REDIRECT_URI` (the web
//! app), which posts `{code, state}` to `POST /v1/meta/callback` with the user's bearer
//! token. The state must be the caller's own and unused: a connect link opened by
//! someone else links nothing. The callback exchanges the code, then for a long-lived
//! token, checks the granted permissions, reads the ad accounts and stores the
//! connection with its token sealed (AES-256-GCM). `GET /v1/meta-accounts`, `GET /v1/meta-accounts/{id}/ad-accounts`,
//! `DELETE /v1/meta-accounts/{id}` list and revoke. Tokens never leave the database
//! unsealed except toward Meta.

mod routes;

pub use routes::connect::{CallbackInput, ConnectLink};

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use shared::config::{ConfigError, required};
use shared::crypto::TokenCipher;
use shared::error::AppError;
use shared::http::at;
use shared::meta::Graph;

pub struct State {
    pub ctx: shared::http::Context,
    pub graph: Graph,
    pub cipher: TokenCipher,
    /// Signs the login `state` (the JWT secret).
    pub state_secret: Vec<u8>,
    /// `META_REDIRECT_URI`: where Facebook returns the user (the web app's page that posts
    /// the code to the callback). Configured, never taken from request headers.
    pub redirect_uri: String,
}

impl State {
    pub async fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            ctx: shared::http::Context::from_env().await?,
            graph: Graph::from_env()?,
            cipher: TokenCipher::from_env()?,
            state_secret: required("JWT_SECRET")?.into_bytes(),
            redirect_uri: required("META_REDIRECT_URI")?,
        })
    }
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    shared::http::serve(req, async |req| route(state, req).await).await
}

async fn route(state: &State, req: Request) -> Result<Response<Body>, AppError> {
    use routes::{accounts, budget_cap, connect, revoke};
    let path = req.uri().path().trim_end_matches('/').to_owned();
    let method = req.method().clone();
    match (path.as_str(), &method) {
        ("/v1/meta/connect", &Method::GET) => return connect::connect(state, &req),
        ("/v1/meta/callback", &Method::POST) => return connect::callback(state, &req).await,
        ("/v1/meta-accounts", &Method::GET) => return accounts::list(state, &req).await,
        ("/v1/meta/connect" | "/v1/meta/callback" | "/v1/meta-accounts", _) => {
            return Err(AppError::MethodNotAllowed);
        }
        _ => {}
    }
    if let Some([id]) = at("/v1/meta-accounts/{}", &path) {
        return match method {
            Method::DELETE => revoke::revoke(state, &req, id).await,
            _ => Err(AppError::MethodNotAllowed),
        };
    }
    if let Some([id]) = at("/v1/meta-accounts/{}/ad-accounts", &path) {
        return match method {
            Method::GET => accounts::ad_accounts(state, &req, id).await,
            _ => Err(AppError::MethodNotAllowed),
        };
    }
    if let Some([id, account]) = at("/v1/meta-accounts/{}/ad-accounts/{}", &path) {
        return match method {
            Method::PATCH => budget_cap::update(state, &req, id, account).await,
            _ => Err(AppError::MethodNotAllowed),
        };
    }
    Err(AppError::NotFound)
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    routes::connect::connect,
    routes::connect::callback,
    routes::accounts::list,
    routes::accounts::ad_accounts,
    routes::budget_cap::update,
    routes::revoke::revoke
))]
pub struct Api;
