//! Campaigns over HTTP: `POST/GET /v1/campaigns`, `GET/PATCH/DELETE /v1/campaigns/{id}`,
//! and the assets a campaign uses, `/v1/campaigns/{id}/assets[/{asset_id}]`.

mod input;
pub mod meta;
pub mod routes;

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use shared::error::AppError;
use shared::http::at;

pub use routes::assets::{attach_asset, detach_asset, get_asset, list_assets};

/// Built once per cold start: the pool, the token verifier, and what talking to Meta
/// takes (the Graph client, the token cipher, S3 for the media the ads use).
pub struct State {
    pub db: shared::db::Db,
    pub tokens: shared::auth::AccessTokens,
    pub graph: shared::meta::Graph,
    pub cipher: shared::crypto::TokenCipher,
    pub storage: shared::aws::storage::Storage,
    /// Sends the first insights sync of a launched campaign (`QUEUE_URL_META_SYNC`).
    pub relay: shared::aws::relay::Relay,
}

impl State {
    pub async fn from_env() -> Result<Self, shared::config::ConfigError> {
        let ctx = shared::http::Context::from_env().await?;
        Ok(Self {
            db: ctx.db,
            tokens: ctx.tokens,
            graph: shared::meta::Graph::from_env()?,
            cipher: shared::crypto::TokenCipher::from_env()?,
            storage: shared::aws::storage::Storage::from_env()?,
            relay: shared::aws::relay::Relay::from_env(),
        })
    }
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    shared::http::serve(req, async |req| route(state, req).await).await
}

async fn route(state: &State, req: Request) -> Result<Response<Body>, AppError> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    if at::<0>("/v1/campaigns", &path).is_some() {
        return match method {
            Method::GET => routes::campaigns::list(state, &req).await,
            Method::POST => routes::campaigns::create(state, &req).await,
            _ => Err(AppError::MethodNotAllowed),
        };
    }
    if let Some([id]) = at("/v1/campaigns/{}", &path) {
        return match method {
            Method::GET => routes::campaigns::get(state, &req, id).await,
            Method::PATCH => routes::campaigns::update(state, &req, id).await,
            Method::DELETE => routes::campaigns::delete(state, &req, id).await,
            _ => Err(AppError::MethodNotAllowed),
        };
    }
    if let Some([id, action]) = at("/v1/campaigns/{}/{}", &path)
        && matches!(action, "launch" | "pause" | "resume" | "estimate")
    {
        return match (method, action) {
            (Method::GET, "estimate") => meta::estimate::estimate(state, &req, id).await,
            (Method::POST, "launch") => meta::launch::launch(state, &req, id).await,
            (Method::POST, "pause") => meta::lifecycle::pause(state, &req, id).await,
            (Method::POST, _) => meta::lifecycle::resume(state, &req, id).await,
            _ => Err(AppError::MethodNotAllowed),
        };
    }
    if let Some([id]) = at("/v1/campaigns/{}/assets", &path) {
        return match method {
            Method::GET => list_assets(state, &req, id).await,
            _ => Err(AppError::MethodNotAllowed),
        };
    }
    if let Some([id, asset]) = at("/v1/campaigns/{}/assets/{}", &path) {
        return match method {
            Method::GET => get_asset(state, &req, id, asset).await,
            Method::PUT => attach_asset(state, &req, id, asset).await,
            Method::DELETE => detach_asset(state, &req, id, asset).await,
            _ => Err(AppError::MethodNotAllowed),
        };
    }
    Err(AppError::NotFound)
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    meta::estimate::estimate,
    meta::launch::launch,
    meta::lifecycle::pause,
    meta::lifecycle::resume,
    routes::campaigns::create,
    routes::campaigns::list,
    routes::campaigns::get,
    routes::campaigns::update,
    routes::campaigns::delete,
    routes::assets::list_assets,
    routes::assets::get_asset,
    routes::assets::attach_asset,
    routes::assets::detach_asset
))]
pub struct Api;
