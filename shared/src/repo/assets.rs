//! `creative_assets`: the user's library of images and videos.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::db::Tenant;
use crate::domain::AssetId;
use crate::domain::asset::{AssetStatus, AssetType, Format, MediaType};
use crate::error::AppError;
use crate::paging::{Cursor, PageRequest};
use crate::repo::sql::Statement;

#[derive(Clone, Debug)]
pub struct Dimensions {
    pub width: u32,
    pub height: u32,
}

#[derive(Clone, Debug)]
pub struct Asset {
    pub id: Uuid,
    /// image or video.
    pub asset_type: String,
    /// uploaded or generated.
    pub source: String,
    pub status: AssetStatus,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    /// 1:1, 4:5, 16:9 or 9:16, once known.
    pub format: Option<String>,
    pub dimensions: Option<Dimensions>,
    pub duration_seconds: Option<Decimal>,
    pub file_size: Option<i64>,
    pub prompt: Option<String>,
    pub style: Option<String>,
    pub ai_model: Option<String>,
    pub generation_time: Option<i32>,
    pub tags: Vec<String>,
    pub is_favorite: bool,
    pub usage_count: i32,
    /// Why processing failed, when it did.
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub file_url: Option<String>,
}

impl Asset {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            created_at: self.created_at,
            id: self.id,
        }
    }
}

const COLUMNS: &str = "id, asset_type, source, status, filename, content_type, format, dimensions, duration_seconds, \
                       file_size, prompt, style, ai_model, generation_time, tags, is_favorite, usage_count, \
                       failure_reason, created_at, updated_at, file_url";

/// A stored status; the column's CHECK allows only the four.
fn status_of(raw: &str) -> AssetStatus {
    AssetStatus::parse(raw).unwrap_or(AssetStatus::Failed)
}

impl From<&Row> for Asset {
    fn from(r: &Row) -> Self {
        let dimensions = r.get::<_, Option<Value>>("dimensions").and_then(|d| {
            Some(Dimensions {
                width: d.get("width")?.as_u64()? as u32,
                height: d.get("height")?.as_u64()? as u32,
            })
        });
        Self {
            id: r.get("id"),
            asset_type: r.get("asset_type"),
            source: r.get("source"),
            status: status_of(r.get("status")),
            filename: r.get("filename"),
            content_type: r.get("content_type"),
            format: r.get("format"),
            dimensions,
            duration_seconds: r.get("duration_seconds"),
            file_size: r.get("file_size"),
            prompt: r.get("prompt"),
            style: r.get("style"),
            ai_model: r.get("ai_model"),
            generation_time: r.get("generation_time"),
            tags: r.get("tags"),
            is_favorite: r.get("is_favorite"),
            usage_count: r.get("usage_count"),
            failure_reason: r.get("failure_reason"),
            created_at: r.get("created_at"),
            updated_at: r.get("updated_at"),
            file_url: r.get("file_url"),
        }
    }
}

/// A pending upload: the row exists (status `processing`) before the bytes arrive.
pub async fn create_upload(
    t: &Tenant<'_>,
    id: AssetId,
    media: MediaType,
    filename: &str,
    file_url: &str,
    size: i64,
) -> Result<Asset, AppError> {
    let sql = format!(
        "INSERT INTO creative_assets (id, user_id, asset_type, source, status, filename, content_type, file_url, upload_size) \
         VALUES ($1, $2, $3, 'uploaded', 'processing', $4, $5, $6, $7) RETURNING {COLUMNS}"
    );
    let row =
        t.tx.query_one(
            &sql,
            &[
                &id.0,
                &t.user().0,
                &media.asset_type().as_str(),
                &filename,
                &media.mime(),
                &file_url,
                &size,
            ],
        )
        .await?;
    Ok(Asset::from(&row))
}

/// What the upload check compares each S3 event's object against.
#[derive(Clone, Debug)]
pub struct UploadCheck {
    pub status: AssetStatus,
    pub content_type: Option<String>,
    /// The size signed into the presigned PUT.
    pub declared_size: Option<i64>,
    /// The ETag of the object last checked, if any was.
    pub checked_etag: Option<String>,
}

pub async fn upload_check(t: &Tenant<'_>, id: AssetId) -> Result<Option<UploadCheck>, AppError> {
    let row =
        t.tx.query_opt(
            "SELECT status, content_type, upload_size, upload_etag FROM creative_assets \
             WHERE id = $1 AND deleted_at IS NULL AND source = 'uploaded'",
            &[&id.0],
        )
        .await?;
    Ok(row.map(|r| UploadCheck {
        status: status_of(r.get(0)),
        content_type: r.get(1),
        declared_size: r.get(2),
        checked_etag: r.get(3),
    }))
}

pub async fn get(t: &Tenant<'_>, id: AssetId) -> Result<Option<Asset>, AppError> {
    let sql = format!("SELECT {COLUMNS} FROM creative_assets WHERE id = $1 AND deleted_at IS NULL");
    Ok(t.tx
        .query_opt(&sql, &[&id.0])
        .await?
        .as_ref()
        .map(Asset::from))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagMatch {
    Any,
    All,
}

/// Filters of the asset library; all optional.
#[derive(Default)]
pub struct AssetFilter {
    pub asset_type: Option<String>,
    pub format: Option<String>,
    pub status: Option<AssetStatus>,
    pub tags: Vec<String>,
    pub tag_match: Option<TagMatch>,
    pub favorite: Option<bool>,
    pub search: Option<String>,
}

/// One page of the library, newest first (served by the (user_id, created_at, id) index).
pub async fn list(
    t: &Tenant<'_>,
    f: &AssetFilter,
    page: &PageRequest,
) -> Result<Vec<Asset>, AppError> {
    let mut q = Statement::new(format!(
        "SELECT {COLUMNS} FROM creative_assets WHERE deleted_at IS NULL"
    ));
    let user = q.bind(t.user().0);
    q.push(&format!(" AND user_id = {user}"));
    if let Some(v) = &f.asset_type {
        let p = q.bind(v.clone());
        q.push(&format!(" AND asset_type = {p}"));
    }
    if let Some(v) = &f.format {
        let p = q.bind(v.clone());
        q.push(&format!(" AND format = {p}"));
    }
    if let Some(v) = f.status {
        let p = q.bind(v.as_str().to_owned());
        q.push(&format!(" AND status = {p}"));
    }
    if !f.tags.is_empty() {
        let op = if f.tag_match == Some(TagMatch::All) {
            "@>"
        } else {
            "&&"
        };
        let p = q.bind(f.tags.clone());
        q.push(&format!(" AND tags {op} {p}::text[]"));
    }
    if let Some(v) = f.favorite {
        let p = q.bind(v);
        q.push(&format!(" AND is_favorite = {p}"));
    }
    if let Some(search) = &f.search {
        let escaped = search
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let p = q.bind(format!("%{escaped}%"));
        q.push(&format!(
            " AND (filename ILIKE {p} OR prompt ILIKE {p} OR array_to_string(tags, ' ') ILIKE {p})"
        ));
    }
    q.page(page);
    Ok(t.tx
        .query(&q.sql, &q.params())
        .await?
        .iter()
        .map(Asset::from)
        .collect())
}

/// Changes tags and/or the favourite flag; `None` leaves a field alone.
pub async fn update(
    t: &Tenant<'_>,
    id: AssetId,
    tags: Option<&[String]>,
    favorite: Option<bool>,
) -> Result<Option<Asset>, AppError> {
    let sql = format!(
        "UPDATE creative_assets SET tags = COALESCE($2, tags), is_favorite = COALESCE($3, is_favorite) \
         WHERE id = $1 AND deleted_at IS NULL RETURNING {COLUMNS}"
    );
    let tags = tags.map(<[String]>::to_vec);
    Ok(t.tx
        .query_opt(&sql, &[&id.0, &tags, &favorite])
        .await?
        .as_ref()
        .map(Asset::from))
}

pub enum Deletion {
    Deleted,
    NotFound,
    InUse,
}

/// Soft-deletes an asset unless an active campaign uses it.
pub async fn soft_delete(t: &Tenant<'_>, id: AssetId) -> Result<Deletion, AppError> {
    let Some(row) = t
        .tx
        .query_opt(
            "SELECT EXISTS (SELECT 1 FROM campaign_assets ca JOIN campaigns c ON c.id = ca.campaign_id \
                            WHERE ca.asset_id = a.id AND ca.is_active AND c.status = 'active' AND c.deleted_at IS NULL) \
             FROM creative_assets a WHERE a.id = $1 AND a.deleted_at IS NULL FOR UPDATE OF a",
            &[&id.0],
        )
        .await?
    else {
        return Ok(Deletion::NotFound);
    };
    if row.get::<_, bool>(0) {
        return Ok(Deletion::InUse);
    }
    t.tx.execute(
        "UPDATE creative_assets SET deleted_at = now(), status = 'deleted' WHERE id = $1",
        &[&id.0],
    )
    .await?;
    Ok(Deletion::Deleted)
}

/// What the processor learned from an upload's bytes.
pub enum Processed {
    Active {
        media: MediaType,
        width: u32,
        height: u32,
        format: Format,
        duration_seconds: Option<Decimal>,
        file_size: i64,
    },
    Failed {
        reason: String,
        file_size: Option<i64>,
    },
}

/// Records the outcome for an asset still `processing`; false when it was already
/// processed (a redelivered event), so applying twice changes nothing.
pub async fn finish_processing(
    t: &Tenant<'_>,
    id: AssetId,
    outcome: &Processed,
) -> Result<bool, AppError> {
    finish_checking(t, id, outcome, None).await
}

/// Records what checking the uploaded object `etag` found: once while the asset is
/// processing, and again whenever a different object replaced the one last checked.
pub async fn finish_checking(
    t: &Tenant<'_>,
    id: AssetId,
    outcome: &Processed,
    etag: Option<&str>,
) -> Result<bool, AppError> {
    // Due while processing, or when `etag` ($2) is another object than the one checked.
    const DUE: &str =
        "(status = 'processing' OR ($2::text IS NOT NULL AND upload_etag IS DISTINCT FROM $2))";
    let n = match outcome {
        Processed::Active { media, width, height, format, duration_seconds, file_size } => {
            t.tx.execute(
                &format!(
                    "UPDATE creative_assets SET status = 'active', content_type = $3, asset_type = $4, format = $5, \
                            dimensions = $6, duration_seconds = $7, file_size = $8, failure_reason = NULL, \
                            upload_etag = coalesce($2, upload_etag) \
                     WHERE id = $1 AND {DUE}"
                ),
                &[
                    &id.0,
                    &etag,
                    &media.mime(),
                    &media.asset_type().as_str(),
                    &format.as_str(),
                    &json!({"width": width, "height": height}),
                    duration_seconds,
                    file_size,
                ],
            )
            .await?
        }
        Processed::Failed { reason, file_size } => {
            t.tx.execute(
                &format!(
                    "UPDATE creative_assets SET status = 'failed', failure_reason = $3, file_size = $4, \
                            upload_etag = coalesce($2, upload_etag) WHERE id = $1 AND {DUE}"
                ),
                &[&id.0, &etag, reason, file_size],
            )
            .await?
        }
    };
    Ok(n == 1)
}

/// What a generation request asked for.
pub struct Generation<'a> {
    pub kind: AssetType,
    pub format: Format,
    pub prompt: &'a str,
    pub style: Option<&'a str>,
    pub ai_model: &'a str,
}

/// The row for a generation in progress (status `processing`, source `generated`).
pub async fn create_generated(
    t: &Tenant<'_>,
    id: AssetId,
    g: &Generation<'_>,
) -> Result<Asset, AppError> {
    let sql = format!(
        "INSERT INTO creative_assets (id, user_id, asset_type, source, status, format, prompt, style, ai_model) \
         VALUES ($1, $2, $3, 'generated', 'processing', $4, $5, $6, $7) RETURNING {COLUMNS}"
    );
    let row =
        t.tx.query_one(
            &sql,
            &[
                &id.0,
                &t.user().0,
                &g.kind.as_str(),
                &g.format.as_str(),
                &g.prompt,
                &g.style,
                &g.ai_model,
            ],
        )
        .await?;
    Ok(Asset::from(&row))
}

/// Generated media, stored.
pub struct Generated<'a> {
    pub file_url: &'a str,
    pub filename: &'a str,
    pub media: MediaType,
    pub file_size: i64,
    pub width: u32,
    pub height: u32,
    pub duration_seconds: Option<Decimal>,
    pub ai_model: &'a str,
    /// Whole seconds the model took (the seed's `generation_time`).
    pub generation_seconds: i32,
}

/// Marks a generation `active` with its media; false when it was no longer processing.
pub async fn finish_generation(
    t: &Tenant<'_>,
    id: AssetId,
    g: &Generated<'_>,
) -> Result<bool, AppError> {
    let n =
        t.tx.execute(
            "UPDATE creative_assets SET status = 'active', file_url = $2, filename = $3, content_type = $4, \
                    file_size = $5, dimensions = $6, duration_seconds = $7, ai_model = $8, generation_time = $9, \
                    failure_reason = NULL \
             WHERE id = $1 AND status = 'processing'",
            &[
                &id.0,
                &g.file_url,
                &g.filename,
                &g.media.mime(),
                &g.file_size,
                &json!({"width": g.width, "height": g.height}),
                &g.duration_seconds,
                &g.ai_model,
                &g.generation_seconds,
            ],
        )
        .await?;
    Ok(n == 1)
}
