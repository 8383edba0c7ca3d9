//! Ending a generation job without its media: whoever ended the job (the worker giving
//! up, its user cancelling, the sweeper failing a stuck one) fails its asset and refunds
//! its credits, once, in the same transaction that moved the job to its end.

use uuid::Uuid;

use crate::db::Tx;
use crate::domain::AssetId;
use crate::domain::asset::AssetType;
use crate::error::AppError;
use crate::repo::credits;
use crate::repo::jobs::Job;

/// The kind and asset of a generation job (from the parameters the generations
/// function recorded); None for other jobs.
pub fn generation_of(job: &Job) -> Option<(AssetType, AssetId)> {
    let params = job.parameters.as_ref()?;
    let kind = match job.job_type.as_str() {
        "image_generation" => AssetType::Image,
        "video_generation" => AssetType::Video,
        _ => return None,
    };
    let asset = params.get("asset_id")?.as_str()?.parse::<Uuid>().ok()?;
    Some((kind, AssetId(asset)))
}

/// Fails a generation job's asset (if still processing) and refunds its credits (once:
/// a second call finds the refund made). Returns the credits given back to the current
/// month; 0 for other jobs.
pub async fn undo(t: &impl Tx, user: Uuid, job: &Job, why: &str) -> Result<i32, AppError> {
    match generation_of(job) {
        Some((kind, asset)) => undo_asset(t, user, kind, asset, why).await,
        None => Ok(0),
    }
}

/// Fails the generated asset (if still processing) and refunds its credits, once.
pub async fn undo_asset(
    t: &impl Tx,
    user: Uuid,
    kind: AssetType,
    asset: AssetId,
    why: &str,
) -> Result<i32, AppError> {
    t.tx()
        .execute(
            "UPDATE creative_assets SET status = 'failed', failure_reason = $2 \
             WHERE id = $1 AND status = 'processing'",
            &[&asset.0, &why],
        )
        .await?;
    credits::refund(t, user, kind, asset.0, why).await
}
