//! `POST /v1/assets/uploads`: a presigned S3 upload. The asset stays `processing` until
//! the asset-uploaded function has looked at the bytes.

use std::time::Duration;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use shared::api::assets::Asset;
use shared::auth::authenticate;
use shared::aws::storage::Presigned;
use shared::domain::asset::{self, MediaType};
use shared::domain::{AssetId, Fields, Invalid};
use shared::error::{AppError, Problem};
use shared::http::docs::{NotAuthenticated, NotJson};
use shared::http::{json, json_body};
use shared::repo::assets;
use utoipa::ToSchema;

use crate::State;

const UPLOAD_URL_TTL: Duration = Duration::from_secs(15 * 60);
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
            asset: asset.into(),
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
