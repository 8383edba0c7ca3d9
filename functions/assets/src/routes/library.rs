//! The library: `GET /v1/assets` (filtered, cursor-paged) and `GET/PATCH/DELETE
//! /v1/assets/{id}`.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use shared::api::assets::Asset;
use shared::auth::authenticate;
use shared::domain::asset::{self, AssetStatus, AssetType, Format};
use shared::domain::{AssetId, Fields, Invalid};
use shared::error::{AppError, Problem};
use shared::http::PageParams;
use shared::http::docs::{InvalidInput, NotAuthenticated, NotFound, NotJson};
use shared::http::{Page, PageRequest, Query, json, json_body, no_content, parse_id};
use shared::repo::assets::{self, AssetFilter, Deletion, TagMatch};
use utoipa::ToSchema;

use crate::State;

fn enum_param<T>(
    q: &Query,
    f: &mut Fields,
    key: &str,
    parse: impl Fn(&str) -> Result<T, Invalid>,
) -> Option<T> {
    let raw = q.one(f, key)?.to_owned();
    f.check(key, parse(&raw))
}

fn parse_filter(q: &Query, f: &mut Fields) -> AssetFilter {
    let asset_type = enum_param(q, f, "type", |v| match v {
        "image" => Ok(AssetType::Image),
        "video" => Ok(AssetType::Video),
        _ => Err(Invalid::new("invalid", "must be image or video")),
    });
    let format = enum_param(q, f, "format", Format::parse);
    let status = enum_param(q, f, "status", |v| match AssetStatus::parse(v) {
        Some(s) if s != AssetStatus::Deleted => Ok(s),
        _ => Err(Invalid::new(
            "invalid",
            "must be active, processing or failed",
        )),
    });
    let tag_match = enum_param(q, f, "tag_match", |v| match v {
        "any" => Ok(TagMatch::Any),
        "all" => Ok(TagMatch::All),
        _ => Err(Invalid::new("invalid", "must be any or all")),
    });
    let favorite = q.parse::<bool>(f, "favorite", "true or false");
    let tags = f
        .check("tag", asset::tags(&q.all("tag")))
        .unwrap_or_default();
    let search = q
        .one(f, "q")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        f.check::<()>("q", Err(Invalid::new("too_long", "at most 200 characters")));
    }
    AssetFilter {
        asset_type: asset_type.map(|t| t.as_str().to_owned()),
        format: format.map(|f| f.as_str().to_owned()),
        status,
        tags,
        tag_match,
        favorite,
        search,
    }
}

#[utoipa::path(get, path = "/v1/assets", operation_id = "list_library_assets", tag = "assets", security(("bearer" = [])),
    params(
        ("type" = Option<AssetType>, Query, description = "image or video"),
        ("format" = Option<Format>, Query, description = "1:1, 4:5, 16:9 or 9:16"),
        ("status" = Option<String>, Query, description = "active, processing or failed"),
        ("tag" = Option<Vec<String>>, Query, description = "Tag(s); repeat or comma-separate", explode = true),
        ("tag_match" = Option<String>, Query, description = "any (default) or all of the tags"),
        ("favorite" = Option<bool>, Query, description = "Only favourites (true) or only others (false)"),
        ("q" = Option<String>, Query, description = "Text in the filename, prompt or tags"),
        PageParams,
    ),
    responses(
        (status = 200, description = "A page of assets, newest first", body = Page<Asset>),
        NotAuthenticated,
        InvalidInput,
    ))]
pub async fn list(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let q = Query::of(req);
    let mut f = Fields::default();
    q.reject_unknown(
        &mut f,
        &[
            "type",
            "format",
            "status",
            "tag",
            "tag_match",
            "favorite",
            "q",
            "limit",
            "cursor",
        ],
    );
    let filter = parse_filter(&q, &mut f);
    let page = PageRequest::from_query(&q, &mut f);
    f.finish()?;
    let rows = state
        .db
        .tenant(user, async |t| assets::list(t, &filter, &page).await)
        .await?;
    json(
        StatusCode::OK,
        &Page::from_rows(rows, &page, assets::Asset::cursor).map_into::<Asset>(),
    )
}

#[utoipa::path(get, path = "/v1/assets/{id}", operation_id = "get_library_asset", tag = "assets", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Asset id")),
    responses(
        (status = 200, description = "The asset", body = Asset),
        NotAuthenticated,
        NotFound,
    ))]
pub async fn get(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let id = AssetId(parse_id(id)?);
    let found = state
        .db
        .tenant(user, async |t| assets::get(t, id).await)
        .await?;
    json(
        StatusCode::OK,
        &Asset::from(found.ok_or(AppError::NotFound)?),
    )
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetChange {
    /// Replaces the tags (1–50 characters each, at most 20).
    pub tags: Option<Vec<String>>,
    pub is_favorite: Option<bool>,
}

#[utoipa::path(patch, path = "/v1/assets/{id}", operation_id = "update_library_asset", tag = "assets", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Asset id")),
    request_body = AssetChange,
    responses(
        (status = 200, description = "The changed asset", body = Asset),
        NotJson,
        NotAuthenticated,
        NotFound,
        InvalidInput,
    ))]
pub async fn update(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let id = AssetId(parse_id(id)?);
    let change: AssetChange = json_body(req)?;
    let mut f = Fields::default();
    let tags = change.tags.and_then(|t| f.check("tags", asset::tags(&t)));
    f.finish()?;
    let updated = state
        .db
        .tenant(user, async |t| {
            assets::update(t, id, tags.as_deref(), change.is_favorite).await
        })
        .await?;
    json(
        StatusCode::OK,
        &Asset::from(updated.ok_or(AppError::NotFound)?),
    )
}

#[utoipa::path(delete, path = "/v1/assets/{id}", operation_id = "delete_library_asset", tag = "assets", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Asset id")),
    responses(
        (status = 204, description = "Deleted (softly: hidden from the library)"),
        NotAuthenticated,
        NotFound,
        (status = 409, description = "An active campaign uses it", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let id = AssetId(parse_id(id)?);
    match state.db.tenant(user, async |t| assets::soft_delete(t, id).await).await? {
        Deletion::Deleted => Ok(no_content()),
        Deletion::NotFound => Err(AppError::NotFound),
        Deletion::InUse => Err(AppError::Conflict {
            code: "asset_in_use",
            detail: "An active campaign uses this asset; remove it from the campaign or pause the campaign first.".into(),
        }),
    }
}
