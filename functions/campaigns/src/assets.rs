//! The assets a campaign uses. Only the user's own active assets can be linked; the
//! asset's usage count follows its links.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use shared::auth::authenticate;
use shared::domain::{AssetId, CampaignId};
use shared::error::{AppError, Problem};
use shared::http::docs::{NotAuthenticated, NotJson};
use shared::http::{json, json_body, no_content, parse_id};
use shared::repo::campaigns::{self, CampaignAsset};
use utoipa::ToSchema;

use crate::State;

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssetRole {
    #[default]
    Primary,
    Variation,
    Test,
}

impl AssetRole {
    fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Variation => "variation",
            Self::Test => "test",
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachAsset {
    /// Defaults to primary.
    #[serde(alias = "role")]
    pub asset_role: Option<AssetRole>,
}

#[derive(Serialize, ToSchema)]
pub struct CampaignAssets {
    pub items: Vec<CampaignAsset>,
}

fn ids(campaign: &str, asset: &str) -> Result<(CampaignId, AssetId), AppError> {
    Ok((CampaignId(parse_id(campaign)?), AssetId(parse_id(asset)?)))
}

#[utoipa::path(get, path = "/v1/campaigns/{id}/assets", operation_id = "list_campaign_assets", tag = "campaigns", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The campaign's assets", body = CampaignAssets),
        NotAuthenticated,
        (status = 404, description = "No such campaign of yours", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_assets(
    state: &State,
    req: &Request,
    id: &str,
) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let id = CampaignId(parse_id(id)?);
    let items = state
        .db
        .tenant(user, async |t| {
            campaigns::get(t, id, false)
                .await?
                .ok_or(AppError::NotFound)?;
            campaigns::assets(t, id).await
        })
        .await?;
    json(StatusCode::OK, &CampaignAssets { items })
}

#[utoipa::path(get, path = "/v1/campaigns/{id}/assets/{asset_id}", operation_id = "get_campaign_asset", tag = "campaigns", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id"), ("asset_id" = uuid::Uuid, Path, description = "Asset id")),
    responses(
        (status = 200, description = "The asset's use in the campaign", body = CampaignAsset),
        NotAuthenticated,
        (status = 404, description = "Not linked, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_asset(
    state: &State,
    req: &Request,
    id: &str,
    asset: &str,
) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let (id, asset) = ids(id, asset)?;
    let link = state
        .db
        .tenant(user, async |t| campaigns::asset(t, id, asset).await)
        .await?;
    json(StatusCode::OK, &link.ok_or(AppError::NotFound)?)
}

#[utoipa::path(put, path = "/v1/campaigns/{id}/assets/{asset_id}", operation_id = "attach_campaign_asset", tag = "campaigns", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id"), ("asset_id" = uuid::Uuid, Path, description = "Asset id")),
    request_body = AttachAsset,
    responses(
        (status = 200, description = "The link's role was updated", body = CampaignAsset),
        (status = 201, description = "The asset now belongs to the campaign", body = CampaignAsset),
        NotJson,
        NotAuthenticated,
        (status = 404, description = "No such campaign or asset of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The asset is not active (still processing, or failed)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid role", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn attach_asset(
    state: &State,
    req: &Request,
    id: &str,
    asset: &str,
) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let (id, asset) = ids(id, asset)?;
    let role = json_body::<AttachAsset>(req)?
        .asset_role
        .unwrap_or_default();
    let (created, link) = state
        .db
        .tenant(user, async |t| {
            campaigns::get(t, id, true)
                .await?
                .ok_or(AppError::NotFound)?;
            match campaigns::lock_asset(t, asset).await?.as_deref() {
                None => return Err(AppError::NotFound),
                Some("active") => {}
                Some(other) => {
                    return Err(AppError::Conflict {
                        code: "asset_not_active",
                        detail: format!(
                            "The asset is {other}; only active assets can be used in campaigns."
                        ),
                    });
                }
            }
            let created = campaigns::attach(t, id, asset, role.as_str()).await?;
            let link = campaigns::asset(t, id, asset)
                .await?
                .ok_or_else(|| AppError::internal("link vanished"))?;
            Ok((created, link))
        })
        .await?;
    json(
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        &link,
    )
}

#[utoipa::path(delete, path = "/v1/campaigns/{id}/assets/{asset_id}", operation_id = "detach_campaign_asset", tag = "campaigns", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id"), ("asset_id" = uuid::Uuid, Path, description = "Asset id")),
    responses(
        (status = 204, description = "The asset no longer belongs to the campaign"),
        NotAuthenticated,
        (status = 404, description = "Not linked, or not yours", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn detach_asset(
    state: &State,
    req: &Request,
    id: &str,
    asset: &str,
) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let (id, asset) = ids(id, asset)?;
    let removed = state
        .db
        .tenant(user, async |t| {
            campaigns::get(t, id, true)
                .await?
                .ok_or(AppError::NotFound)?;
            campaigns::detach(t, id, asset).await
        })
        .await?;
    if removed {
        Ok(no_content())
    } else {
        Err(AppError::NotFound)
    }
}
