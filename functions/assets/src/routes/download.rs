//! `GET /v1/assets/{id}/download`: a short-lived presigned download.

use std::time::Duration;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::auth::authenticate;
use shared::aws::storage::Presigned;
use shared::domain::AssetId;
use shared::domain::asset::AssetStatus;
use shared::error::{AppError, Problem};
use shared::http::docs::{NotAuthenticated, NotFound};
use shared::http::{json, parse_id};
use shared::repo::assets::{self};

use crate::State;

const DOWNLOAD_URL_TTL: Duration = Duration::from_secs(5 * 60);

#[utoipa::path(get, path = "/v1/assets/{id}/download", operation_id = "download_library_asset", tag = "assets", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Asset id")),
    responses(
        (status = 200, description = "A download URL valid for 5 minutes", body = Presigned),
        NotAuthenticated,
        NotFound,
        (status = 409, description = "The asset is not active yet (or failed)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn download(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let id = AssetId(parse_id(id)?);
    let asset = state
        .db
        .tenant(user, async |t| assets::get(t, id).await)
        .await?
        .ok_or(AppError::NotFound)?;
    if asset.status != AssetStatus::Active {
        return Err(AppError::Conflict {
            code: "asset_not_ready",
            detail: format!(
                "The asset is {}; only active assets can be downloaded.",
                asset.status.as_str()
            ),
        });
    }
    let key = asset
        .file_url
        .as_deref()
        .and_then(|u| state.storage.key_of(u))
        .ok_or_else(|| AppError::Internal(format!("asset {id} has no object in this bucket")))?;
    let link = state
        .storage
        .presign_get(key, asset.filename.as_deref(), DOWNLOAD_URL_TTL)
        .await?;
    json(StatusCode::OK, &link)
}
