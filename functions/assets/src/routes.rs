//! Asset routes. Uploads go straight to S3 with a presigned URL; the asset stays
//! `processing` until the asset-uploaded function has looked at the bytes.

use std::time::Duration;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use shared::auth::authenticate;
use shared::aws::storage::Presigned;
use shared::domain::asset::{self, AssetType, Format, MediaType};
use shared::domain::{AssetId, Fields, Invalid};
use shared::error::{AppError, Problem};
use shared::http::docs::{InvalidInput, NotAuthenticated, NotJson};
use shared::http::{Page, PageRequest, Query, json, json_body, no_content, parse_id};
use shared::repo::assets::{self, Asset, AssetFilter, Deletion, TagMatch};
use utoipa::ToSchema;

use crate::State;

const UPLOAD_URL_TTL: Duration = Duration::from_secs(15 * 60);
const DOWNLOAD_URL_TTL: Duration = Duration::from_secs(5 * 60);

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    #[schema(example = "diwali-offer.jpg")]
    pub filename: Option<String>,
    /// image/jpeg, image/png, image/webp (≤ 30 MB) or video/mp4, video/quicktime (≤ 4 GB).
    #[schema(example = "image/jpeg")]
    pub content_type: Option<String>,
    /// Size in bytes.
    #[schema(example = 482133)]
    pub size: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct UploadTicket {
    /// The new asset, `processing` until its bytes have been checked.
    pub asset: Asset,
    /// Send the file's bytes here with exactly these headers.
    pub upload: Presigned,
}

struct Upload {
    media: MediaType,
    filename: String,
    size: i64,
}

fn parse_upload(body: UploadRequest) -> Result<Upload, AppError> {
    let mut f = Fields::default();
    let media = f
        .required("content_type", body.content_type)
        .and_then(|c| f.check("content_type", MediaType::from_mime(&c)));
    let filename = f.required("filename", body.filename);
    let size = f.required("size", body.size);
    let filename = match (filename, media) {
        (Some(name), Some(m)) => f.check("filename", asset::upload_filename(&name, m)),
        _ => None,
    };
    if let (Some(size), Some(m)) = (size, media)
        && (size <= 0 || size > m.max_bytes())
    {
        let limit = m.max_bytes() / (1024 * 1024);
        f.check::<()>(
            "size",
            Err(Invalid::new(
                "too_large",
                format!("a {} must be 1 byte to {limit} MB", m.mime()),
            )),
        );
    }
    f.finish()?;
    Ok(Upload {
        media: media.expect("checked"),
        filename: filename.expect("checked"),
        size: size.expect("checked"),
    })
}

#[utoipa::path(post, path = "/v1/assets/uploads", operation_id = "start_upload", tag = "assets", security(("bearer" = [])),
    request_body = UploadRequest,
    responses(
        (status = 201, description = "Asset created; PUT the bytes to upload.url", body = UploadTicket),
        NotJson,
        NotAuthenticated,
        (status = 422, description = "Unsupported type, bad name or too large", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upload(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let upload = parse_upload(json_body(req)?)?;
    let id = AssetId::new();
    let key = format!("uploads/{user}/{id}/{}", upload.filename);
    let ticket = state
        .storage
        .presign_put(&key, upload.media.mime(), upload.size, UPLOAD_URL_TTL)
        .await?;
    let file_url = state.storage.url_of(&key);
    let asset = state
        .db
        .tenant(user, async |t| {
            assets::create_upload(
                t,
                id,
                upload.media,
                &upload.filename,
                &file_url,
                upload.size,
            )
            .await
        })
        .await?;
    tracing::info!(user_id = %user, asset_id = %id, content_type = upload.media.mime(), "upload started");
    let mut res = json(
        StatusCode::CREATED,
        &UploadTicket {
            asset,
            upload: ticket,
        },
    )?;
    res.headers_mut().insert(
        "location",
        format!("/v1/assets/{id}")
            .parse()
            .map_err(AppError::internal)?,
    );
    Ok(res)
}

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
    let status = enum_param(q, f, "status", |v| match v {
        "active" | "processing" | "failed" => Ok(v.to_owned()),
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
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Page size (default 20)"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
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
    json(StatusCode::OK, &Page::from_rows(rows, &page, Asset::cursor))
}

#[utoipa::path(get, path = "/v1/assets/{id}", operation_id = "get_library_asset", tag = "assets", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Asset id")),
    responses(
        (status = 200, description = "The asset", body = Asset),
        NotAuthenticated,
        (status = 404, description = "No such asset of yours", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let id = AssetId(parse_id(id)?);
    let found = state
        .db
        .tenant(user, async |t| assets::get(t, id).await)
        .await?;
    json(StatusCode::OK, &found.ok_or(AppError::NotFound)?)
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
        (status = 404, description = "No such asset of yours", body = Problem, content_type = "application/problem+json"),
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
    json(StatusCode::OK, &updated.ok_or(AppError::NotFound)?)
}

#[utoipa::path(delete, path = "/v1/assets/{id}", operation_id = "delete_library_asset", tag = "assets", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Asset id")),
    responses(
        (status = 204, description = "Deleted (softly: hidden from the library)"),
        NotAuthenticated,
        (status = 404, description = "No such asset of yours", body = Problem, content_type = "application/problem+json"),
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

#[utoipa::path(get, path = "/v1/assets/{id}/download", operation_id = "download_library_asset", tag = "assets", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Asset id")),
    responses(
        (status = 200, description = "A download URL valid for 5 minutes", body = Presigned),
        NotAuthenticated,
        (status = 404, description = "No such asset of yours", body = Problem, content_type = "application/problem+json"),
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
    if asset.status != "active" {
        return Err(AppError::Conflict {
            code: "asset_not_ready",
            detail: format!(
                "The asset is {}; only active assets can be downloaded.",
                asset.status
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
