//! Runs when an upload lands in S3: looks at the object's first bytes (never trusting
//! the claimed type), learns its real type, dimensions and — for video — duration,
//! derives its ad format, and marks the asset `active` or `failed` with a reason. Every
//! event for the key is checked against the object S3 holds now (HEAD): its size must
//! be the one signed into the upload, and its ETag decides what to do. The object that
//! was already checked: nothing (a redelivery, or a late event for it). A different
//! one (the presigned PUT was used again): it is probed again and the asset follows
//! what it is now. If the object changes while it is being probed, the event is retried.

use aws_lambda_events::event::s3::S3Event;
use rust_decimal::Decimal;
use shared::WorkerError;
use shared::aws::storage::Storage;
use shared::config::{ConfigError, DbConfig};
use shared::db::Db;
use shared::domain::asset::{AssetStatus, Format, MediaType};
use shared::domain::{AssetId, UserId};
use shared::media as probe;
use shared::repo::assets::{self, Processed};

pub struct State {
    pub db: Db,
    pub storage: Storage,
}

impl State {
    pub async fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            db: Db::connect(&DbConfig::from_env()?)?,
            storage: Storage::from_env()?,
        })
    }
}

/// An upload's key, `uploads/{user}/{asset}/{filename}`, names its owner and asset.
pub fn parse_key(key: &str) -> Option<(UserId, AssetId)> {
    let mut parts = key.split('/');
    if parts.next()? != "uploads" {
        return None;
    }
    let user = uuid::Uuid::try_parse(parts.next()?).ok()?;
    let asset = uuid::Uuid::try_parse(parts.next()?).ok()?;
    parts.next().filter(|name| !name.is_empty())?;
    Some((UserId(user), AssetId(asset)))
}

/// S3 event keys are URL-encoded, with `+` for spaces.
pub fn decode_key(raw: &str) -> String {
    percent_encoding::percent_decode_str(&raw.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// Handles every record; a transient failure (S3 or the database unreachable) fails the
/// invocation so Lambda retries it, which the idempotent update makes safe.
pub async fn handle(state: &State, event: S3Event) -> Result<(), WorkerError> {
    for record in event.records {
        let Some(raw_key) = record.s3.object.key.as_deref() else {
            continue;
        };
        let key = decode_key(raw_key);
        let Some((user, asset)) = parse_key(&key) else {
            tracing::warn!(key, "object outside uploads/{{user}}/{{asset}}/; ignored");
            continue;
        };
        process(state, &key, user, asset).await?;
    }
    Ok(())
}

async fn process(
    state: &State,
    key: &str,
    user: UserId,
    asset: AssetId,
) -> Result<(), WorkerError> {
    let current = match state
        .db
        .tenant(user, async |t| assets::upload_check(t, asset).await)
        .await
        .map_err(WorkerError::from)
    {
        Err(WorkerError::AccountGone) => {
            tracing::warn!(key, user_id = %user, "upload of a deleted account; ignored");
            return Ok(());
        }
        other => other?,
    };
    let Some(current) = current else {
        tracing::warn!(key, asset_id = %asset, "no such asset (deleted, or not this user's); ignored");
        return Ok(());
    };
    let Some(head) = state.storage.head(key).await? else {
        if current.status == AssetStatus::Processing {
            finish(
                state,
                user,
                asset,
                &failed("the uploaded object is missing", None),
                None,
            )
            .await?;
        }
        return Ok(());
    };
    if current.checked_etag.as_deref() == Some(head.etag.as_str()) {
        tracing::info!(asset_id = %asset, "this object was already checked; redelivery ignored");
        return Ok(());
    }
    if current.status != AssetStatus::Processing {
        tracing::warn!(asset_id = %asset, status = current.status.as_str(), "the uploaded object was replaced; checking it again");
    }
    let outcome = match current.declared_size {
        Some(declared) if declared != head.size => failed(
            format!(
                "the file is {} bytes, not the {declared} declared",
                head.size
            ),
            Some(head.size),
        ),
        _ => {
            let claimed = current
                .content_type
                .as_deref()
                .and_then(|c| MediaType::from_mime(c).ok());
            inspect(state, key, head.size, claimed).await?
        }
    };
    if state.storage.head(key).await?.as_ref() != Some(&head) {
        return Err(WorkerError::failed(format!(
            "{key} changed while it was being checked; the event is retried"
        )));
    }
    finish(state, user, asset, &outcome, Some(&head.etag)).await
}

async fn finish(
    state: &State,
    user: UserId,
    asset: AssetId,
    outcome: &Processed,
    etag: Option<&str>,
) -> Result<(), WorkerError> {
    let changed = state
        .db
        .tenant(user, async |t| {
            assets::finish_checking(t, asset, outcome, etag).await
        })
        .await?;
    match outcome {
        Processed::Active { format, .. } if changed => {
            tracing::info!(asset_id = %asset, format = format.as_str(), "asset active")
        }
        Processed::Failed { reason, .. } if changed => {
            tracing::info!(asset_id = %asset, reason, "asset failed")
        }
        _ => tracing::info!(asset_id = %asset, "already processed; nothing changed"),
    }
    Ok(())
}

fn failed(reason: impl Into<String>, file_size: Option<i64>) -> Processed {
    Processed::Failed {
        reason: reason.into(),
        file_size,
    }
}

/// What the object really is, judged against what the client claimed.
async fn inspect(
    state: &State,
    key: &str,
    size: i64,
    claimed: Option<MediaType>,
) -> Result<Processed, WorkerError> {
    let probe = match probe::probe(&state.storage, key, size).await? {
        Ok(p) => p,
        Err(why) => return Ok(failed(why, Some(size))),
    };
    let same_kind = match (claimed, probe.media) {
        (Some(c), d) if c == d => true,
        // MP4 and QuickTime share one container format; either claim fits either.
        (Some(MediaType::Mp4 | MediaType::QuickTime), MediaType::Mp4 | MediaType::QuickTime) => {
            true
        }
        _ => false,
    };
    if !same_kind {
        let claimed = claimed.map_or("an unknown type", MediaType::mime);
        return Ok(failed(
            format!(
                "the file is {}, not {claimed} as claimed",
                probe.media.mime()
            ),
            Some(size),
        ));
    }
    if size > probe.media.max_bytes() {
        let limit = probe.media.max_bytes() / (1024 * 1024);
        return Ok(failed(
            format!(
                "the file is {} MB; the limit for {} is {limit} MB",
                size / (1024 * 1024),
                probe.media.mime()
            ),
            Some(size),
        ));
    }
    let format = match Format::nearest(probe.width, probe.height) {
        Ok(f) => f,
        Err(why) => return Ok(failed(why, Some(size))),
    };
    Ok(Processed::Active {
        media: probe.media,
        width: probe.width,
        height: probe.height,
        format,
        duration_seconds: probe.duration_ms.map(|ms| Decimal::new(ms as i64, 3)),
        file_size: size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_user_and_asset() {
        let (u, a) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        assert_eq!(
            parse_key(&format!("uploads/{u}/{a}/sale.png")),
            Some((UserId(u), AssetId(a)))
        );
        assert_eq!(parse_key(&format!("generated/{u}/{a}/x.png")), None);
        assert_eq!(parse_key(&format!("uploads/{u}/{a}/")), None);
        assert_eq!(parse_key("uploads/x/y/z.png"), None);
    }

    #[test]
    fn event_keys_are_url_decoded() {
        assert_eq!(
            decode_key("uploads%2Fa%2Fsummer+sale%281%29.png"),
            "uploads/a/summer sale(1).png"
        );
    }
}
