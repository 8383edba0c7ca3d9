//! The asset library over HTTP: `POST /v1/assets/uploads` (a presigned S3 upload),
//! `GET /v1/assets` (filtered, cursor-paged), `GET/PATCH/DELETE /v1/assets/{id}` and
//! `GET /v1/assets/{id}/download` (a short-lived presigned download).

pub mod routes;

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use shared::auth::AccessTokens;
use shared::aws::storage::Storage;
use shared::config::{ConfigError, DbConfig};
use shared::db::Db;
use shared::error::AppError;
use shared::http::at;

pub struct State {
    pub db: Db,
    pub tokens: AccessTokens,
    pub storage: Storage,
}

impl State {
    pub async fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            db: Db::connect(&DbConfig::from_env()?)?,
            tokens: AccessTokens::from_env()?,
            storage: Storage::from_env()?,
        })
    }
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    shared::http::serve(req, async |req| route(state, req).await).await
}

async fn route(state: &State, req: Request) -> Result<Response<Body>, AppError> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    if at::<0>("/v1/assets/uploads", &path).is_some() {
        return if method == Method::POST {
            routes::uploads::upload(state, &req).await
        } else {
            Err(AppError::MethodNotAllowed)
        };
    }
    if at::<0>("/v1/assets", &path).is_some() {
        return if method == Method::GET {
            routes::library::list(state, &req).await
        } else {
            Err(AppError::MethodNotAllowed)
        };
    }
    if let Some([id]) = at("/v1/assets/{}/download", &path) {
        return if method == Method::GET {
            routes::download::download(state, &req, id).await
        } else {
            Err(AppError::MethodNotAllowed)
        };
    }
    if let Some([id]) = at("/v1/assets/{}", &path) {
        return match method {
            Method::GET => routes::library::get(state, &req, id).await,
            Method::PATCH => routes::library::update(state, &req, id).await,
            Method::DELETE => routes::library::delete(state, &req, id).await,
            _ => Err(AppError::MethodNotAllowed),
        };
    }
    Err(AppError::NotFound)
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        routes::uploads::upload,
        routes::library::list,
        routes::library::get,
        routes::library::update,
        routes::library::delete,
        routes::download::download
    ),
    components(schemas(shared::domain::asset::AssetType, shared::domain::asset::Format))
)]
pub struct Api;
