//! The assets a campaign uses. Only the user's own active assets can be linked; the
//! asset's usage count follows its links. On a campaign live on Meta, attaching (or
//! switching `is_active` back on) adds the creative's ad; switching it off or detaching
//! pauses its ad on Meta first.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use shared::api::campaigns::CampaignAsset;
use shared::auth::authenticate;
use shared::domain::{AssetId, CampaignId};
use shared::error::{AppError, Problem};
use shared::http::docs::{NotAuthenticated, NotFound, NotJson, UpstreamError};
use shared::http::{json, json_body, no_content, parse_id};
use shared::repo::campaigns;
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
    /// Defaults to primary (or, for a linked asset, stays).
    #[serde(alias = "role")]
    pub asset_role: Option<AssetRole>,
    /// Whether the creative runs (default true for a new link). Off pauses its ad on Meta.
    pub is_active: Option<bool>,
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
        NotFound,
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
    let items = items.into_iter().map(CampaignAsset::from).collect();
    json(StatusCode::OK, &CampaignAssets { items })
}

#[utoipa::path(get, path = "/v1/campaigns/{id}/assets/{asset_id}", operation_id = "get_campaign_asset", tag = "campaigns", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id"), ("asset_id" = uuid::Uuid, Path, description = "Asset id")),
    responses(
        (status = 200, description = "The asset's use in the campaign", body = CampaignAsset),
        NotAuthenticated,
        NotFound,
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
    json(
        StatusCode::OK,
        &CampaignAsset::from(link.ok_or(AppError::NotFound)?),
    )
}

#[utoipa::path(put, path = "/v1/campaigns/{id}/assets/{asset_id}", operation_id = "attach_campaign_asset", tag = "campaigns", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id"), ("asset_id" = uuid::Uuid, Path, description = "Asset id")),
    request_body = AttachAsset,
    responses(
        (status = 200, description = "The link's role was updated", body = CampaignAsset),
        (status = 201, description = "The asset now belongs to the campaign", body = CampaignAsset),
        NotJson,
        NotAuthenticated,
        NotFound,
        (status = 409, description = "The asset is not active (still processing, or failed), or the campaign's ads are being changed on Meta", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid role", body = Problem, content_type = "application/problem+json"),
        UpstreamError,
    ))]
pub async fn attach_asset(
    state: &State,
    req: &Request,
    id: &str,
    asset: &str,
) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let (id, asset) = ids(id, asset)?;
    let input = json_body::<AttachAsset>(req)?;
    let role = input.asset_role.unwrap_or_default();
    if input.is_active == Some(false) {
        crate::meta::lifecycle::pause_creative(state, user, id, asset).await?;
    }
    let (created, _) = state
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
            if let Some(active) = input.is_active {
                campaigns::set_asset_active(t, id, asset, active).await?;
            }
            Ok((created, ()))
        })
        .await?;
    // Committed first so a retry of this PUT resumes an ad Meta failed to make.
    crate::meta::launch::add_creative(state, user, id, asset).await?;
    let link = state
        .db
        .tenant(user, async |t| campaigns::asset(t, id, asset).await)
        .await?
        .ok_or(AppError::NotFound)?;
    json(
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        &CampaignAsset::from(link),
    )
}

#[utoipa::path(delete, path = "/v1/campaigns/{id}/assets/{asset_id}", operation_id = "detach_campaign_asset", tag = "campaigns", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id"), ("asset_id" = uuid::Uuid, Path, description = "Asset id")),
    responses(
        (status = 204, description = "The asset no longer belongs to the campaign (its ad on Meta is paused)"),
        NotAuthenticated,
        NotFound,
        UpstreamError,
    ))]
pub async fn detach_asset(
    state: &State,
    req: &Request,
    id: &str,
    asset: &str,
) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let (id, asset) = ids(id, asset)?;
    let linked = state
        .db
        .tenant(user, async |t| campaigns::asset(t, id, asset).await)
        .await?;
    if linked.is_none() {
        return Err(AppError::NotFound);
    }
    crate::meta::lifecycle::pause_creative(state, user, id, asset).await?;
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
