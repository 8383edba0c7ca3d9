//! A generation's life in the database: started (credits spent, the asset `processing`,
//! the job and its queue message, in the owner's one transaction — by the generations
//! API or by the optimizer refreshing a creative), and ended without its media (whoever
//! ended the job — the worker giving up, its user cancelling, the sweeper failing a
//! stuck one — fails its asset and refunds its credits, once, in the same transaction
//! that moved the job to its end).

use serde_json::json;
use uuid::Uuid;

use crate::db::{Tenant, Tx};
use crate::domain::AssetId;
use crate::domain::asset::{AssetType, Format};
use crate::error::AppError;
use crate::messages;
use crate::repo::assets::{self, Generation};
use crate::repo::jobs::{self, Job};
use crate::repo::{credits, outbox, system_config};

/// A generation to start.
pub struct NewGeneration<'a> {
    pub kind: AssetType,
    pub format: Format,
    pub prompt: &'a str,
    pub style: Option<&'a str>,
    pub use_brand: bool,
}

/// A started generation and the queue message that carries it to the worker.
#[derive(Clone, Debug)]
pub struct Started {
    pub asset_id: Uuid,
    pub job_id: Uuid,
    pub credits_spent: i32,
    pub credits_remaining: i32,
    pub outbox_id: i64,
}

/// Spends the credits and queues the generation, in the caller's transaction: nothing
/// is queued unless the credits were there (`credits::spend` refuses with 402 or 429).
pub async fn start(t: &Tenant<'_>, g: &NewGeneration<'_>) -> Result<Started, AppError> {
    let asset_id = AssetId::new();
    let model = system_config::ai_model(t, g.kind).await?;
    let job = jobs::create(
        t,
        &format!("{}_generation", g.kind.as_str()),
        &json!({
            "asset_id": asset_id.0, "type": g.kind, "format": g.format.as_str(),
            "prompt": g.prompt, "style": g.style, "use_brand": g.use_brand,
        }),
    )
    .await?;
    let spent = credits::spend(t, g.kind, asset_id.0, &json!({ "job_id": job.id })).await?;
    assets::create_generated(
        t,
        asset_id,
        &Generation {
            kind: g.kind,
            format: g.format,
            prompt: g.prompt,
            style: g.style,
            ai_model: &model,
        },
    )
    .await?;
    let outbox_id = outbox::enqueue(
        t,
        &messages::Generation {
            job_id: job.id,
            user_id: t.user().0,
            asset_id: asset_id.0,
        },
    )
    .await?;
    Ok(Started {
        asset_id: asset_id.0,
        job_id: job.id,
        credits_spent: spent.credits,
        credits_remaining: spent.remaining,
        outbox_id,
    })
}

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
