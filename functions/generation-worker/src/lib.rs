//! The generation worker (SQS, partial batch failures). Each message names a job, its
//! user and the asset being made. The worker builds the prompt (with the brand when
//! asked), calls the model, stores the media in S3 under `generated/{user}/`, and marks
//! the asset `active` and the job `completed`. A permanent failure marks both `failed`
//! and refunds the credits once; a transient one leaves the job running, hides the
//! message for a growing delay and reports it failed so SQS redelivers it; after
//! `MAX_ATTEMPTS` the worker gives up (failed + refund). Every receive counts, whatever
//! became of the one before (a video still rendering, a message put back unstarted, an
//! invocation that timed out): from receive `MAX_ATTEMPTS` on, anything but success
//! gives up with the refund, and the queue's maxReceiveCount is one more, so the DLQ
//! never holds a message whose credits are still charged. An invocation starts a message
//! only while `message_budget` still fits before its deadline, and stops polling a video
//! in time to download it. Redelivery of a finished job is a no-op, and a video's Veo
//! operation is stored so a retry resumes it.

pub mod crop;
pub mod google;
pub mod prompt;

use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::Utc;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;
use shared::WorkerError;
use shared::aws::LazyClient;
pub use shared::aws::sqs_batch::Outcome;
use shared::aws::sqs_batch::{Budget, attempt_of, body_of, process_batch_within};
use shared::aws::storage::Storage;
use shared::config::{ConfigError, DbConfig};
use shared::db::Db;
use shared::domain::asset::{AssetStatus, AssetType, Format, MediaType};
use shared::domain::notification::{Category, Notice};
use shared::domain::{AssetId, JobId, UserId};
use shared::error::AppError;
use shared::media::{Probe, probe_bytes};
use shared::repo::assets::{self, Generated};
use shared::repo::{generations, jobs, notifications, profiles};

use google::{Google, ModelError, VideoState};

/// Attempts before a transient failure becomes permanent (the queue's maxReceiveCount
/// is one more, so only messages the worker cannot even read reach the DLQ).
pub const MAX_ATTEMPTS: u32 = 5;

pub struct State {
    pub db: Db,
    pub storage: Storage,
    pub google: Google,
    /// Used only to delay a retried message's redelivery.
    pub sqs: LazyClient<aws_sdk_sqs::Client>,
    /// How often and how long one invocation polls a Veo operation.
    pub poll_every: Duration,
    pub poll_for: Duration,
    /// The time one message may need (the model's answer, download, store); a message
    /// is started only while this fits before the invocation's deadline.
    pub message_budget: Duration,
}

/// Kept free at the end of a video's polling, to download and store it.
const DOWNLOAD_RESERVE: Duration = Duration::from_secs(90);

impl State {
    pub async fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            db: Db::connect(&DbConfig::from_env()?)?,
            storage: Storage::from_env()?,
            google: Google::from_env()?,
            sqs: LazyClient::on_first_use(),
            poll_every: Duration::from_secs(shared::config::parsed_or("VEO_POLL_SECONDS", 5u64)?),
            poll_for: Duration::from_secs(shared::config::parsed_or(
                "VEO_POLL_BUDGET_SECONDS",
                240u64,
            )?),
            message_budget: Duration::from_secs(shared::config::parsed_or(
                "GENERATION_MESSAGE_BUDGET_SECONDS",
                150u64,
            )?),
        })
    }
}

/// The queue message the generations function sends (through the outbox).
pub use shared::messages::Generation as Message;

/// Seconds before attempt `n + 1`: 10 s doubling, at most 15 minutes.
pub fn backoff_seconds(attempt: u32) -> i32 {
    shared::aws::sqs_batch::backoff(10, attempt, 900)
}

/// Processes the batch before `deadline` (the invocation's end).
pub async fn handle(state: &State, event: SqsEvent, deadline: Instant) -> SqsBatchResponse {
    let budget = Budget {
        deadline,
        per_message: state.message_budget,
    };
    process_batch_within(&state.sqs, &event, Some(budget), |record| {
        process(state, record, deadline)
    })
    .await
}

/// Processes one message; never panics, every failure becomes an outcome.
pub async fn process(state: &State, record: &SqsMessage, deadline: Instant) -> Outcome {
    let attempt = attempt_of(record);
    let msg: Message = match body_of(record, backoff_seconds(attempt)) {
        Ok(m) => m,
        Err(retry) => return retry,
    };
    match run(state, &msg, attempt, deadline).await {
        Ok(outcome) => outcome,
        Err(e) => Outcome::Retry {
            why: e.to_string(),
            after_seconds: backoff_seconds(attempt),
        },
    }
}

/// The job's parameters, as the generations function recorded them.
#[derive(Debug, Deserialize)]
struct Params {
    #[serde(rename = "type")]
    kind: AssetType,
    format: String,
    prompt: String,
    style: Option<String>,
    #[serde(default)]
    use_brand: bool,
}

/// Everything needed to make the media.
struct Work {
    /// The brand's logo in our bucket, shown to the image model as a reference.
    logo_url: Option<String>,
    kind: AssetType,
    format: Format,
    prompt: String,
    model: String,
    operation: Option<String>,
    started_at: chrono::DateTime<Utc>,
}

async fn run(
    state: &State,
    msg: &Message,
    attempt: u32,
    deadline: Instant,
) -> Result<Outcome, WorkerError> {
    let (user, job_id, asset_id) = (
        UserId(msg.user_id),
        JobId(msg.job_id),
        AssetId(msg.asset_id),
    );
    let work = match state
        .db
        .tenant(user, async |t| {
            let Some(job) = jobs::start(t, job_id).await? else {
                return Ok(Err("the job is already finished"));
            };
            let Some(asset) = assets::get(t, asset_id)
                .await?
                .filter(|a| a.status == AssetStatus::Processing)
            else {
                jobs::fail(t, job_id, "the asset is gone or no longer processing").await?;
                return Ok(Err("the asset is gone"));
            };
            let params: Params = serde_json::from_value(job.parameters.clone().unwrap_or_default())
                .map_err(|e| AppError::Internal(format!("job parameters: {e}")))?;
            let brand = if params.use_brand {
                profiles::brand(t).await?
            } else {
                None
            };
            let format =
                Format::parse(&params.format).map_err(|e| AppError::Internal(e.message))?;
            let prompt = prompt::build(
                params.kind,
                &params.prompt,
                format,
                params.style.as_deref(),
                brand.as_ref(),
            );
            Ok(Ok(Work {
                logo_url: brand.as_ref().and_then(|b| b.logo_url.clone()),
                kind: params.kind,
                format,
                prompt,
                model: asset.ai_model.unwrap_or_default(),
                operation: job
                    .result
                    .as_ref()
                    .and_then(|r| r["operation"].as_str().map(str::to_owned)),
                started_at: job.started_at.unwrap_or_else(Utc::now),
            }))
        })
        .await
        .map_err(WorkerError::from)
    {
        Err(WorkerError::AccountGone) => return Ok(Outcome::done("the account is gone")),
        Err(e) => return Err(e),
        Ok(Err(why)) => return Ok(Outcome::done(why)),
        Ok(Ok(work)) => work,
    };
    if attempt > MAX_ATTEMPTS {
        let why = format!("gave up after {attempt} deliveries");
        return give_up(state, user, job_id, asset_id, work.kind, &why).await;
    }
    let made = match work.kind {
        AssetType::Image => image(state, &work).await,
        AssetType::Video => video(state, user, job_id, &work, deadline).await,
    };
    match made {
        Ok(Some((bytes, probe))) => store(state, user, job_id, asset_id, &work, bytes, probe).await,
        Ok(None) if attempt >= MAX_ATTEMPTS => {
            let why = format!("the video was still rendering after {attempt} attempts");
            give_up(state, user, job_id, asset_id, work.kind, &why).await
        }
        Ok(None) => Ok(Outcome::Retry {
            why: "the video is still rendering".into(),
            after_seconds: 15,
        }),
        Err(ModelError::Permanent(why)) => {
            give_up(state, user, job_id, asset_id, work.kind, &why).await
        }
        Err(ModelError::Transient(why)) if attempt >= MAX_ATTEMPTS => {
            let why = format!("gave up after {attempt} attempts: {why}");
            give_up(state, user, job_id, asset_id, work.kind, &why).await
        }
        Err(ModelError::Transient(why)) => {
            state
                .db
                .tenant(user, async |t| jobs::retrying(t, job_id, &why).await)
                .await?;
            Ok(Outcome::Retry {
                why,
                after_seconds: backoff_seconds(attempt),
            })
        }
    }
}

/// The brand's logo when it is our own copy of a PNG, JPEG or WebP of at most 2 MiB (the
/// image model takes those as a reference; an SVG is never rasterised for it).
async fn brand_logo(storage: &Storage, url: &str) -> Option<google::Media> {
    let key = storage.key_of(url)?;
    let mime = match key.rsplit('.').next()? {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        _ => return None,
    };
    let size = storage.size(key).await.ok()??;
    if !(1..=2 << 20).contains(&size) {
        return None;
    }
    let bytes = storage.read_range(key, 0, size as u64).await.ok()?;
    Some(google::Media {
        bytes,
        mime: mime.to_owned(),
    })
}

/// An image of exactly the asked format: the nearest native ratio, cropped if needed.
async fn image(state: &State, work: &Work) -> Result<Option<(Vec<u8>, Probe)>, ModelError> {
    let logo = match &work.logo_url {
        Some(url) => brand_logo(&state.storage, url).await,
        None => None,
    };
    let media = state
        .google
        .generate_image(
            &work.model,
            &work.prompt,
            crop::native_ratio(work.format),
            logo.as_ref(),
        )
        .await?;
    let probe = probe_bytes(&media.bytes)
        .map_err(|e| ModelError::Permanent(format!("the model's image: {e}")))?;
    let (w, h) = crop::exact_size(probe.width, probe.height, work.format);
    if (w, h) == (probe.width, probe.height) {
        return Ok(Some((media.bytes, probe)));
    }
    if probe.media != MediaType::Png {
        return Err(ModelError::Permanent(format!(
            "the model returned {} at {}x{}, which cannot be cropped to {}",
            media.mime,
            probe.width,
            probe.height,
            work.format.as_str()
        )));
    }
    let cropped = crop::crop_png(&media.bytes, w, h).map_err(ModelError::Permanent)?;
    let probe = probe_bytes(&cropped).map_err(ModelError::Permanent)?;
    Ok(Some((cropped, probe)))
}

/// A Veo video: starts the operation (stored on the job, so a retry resumes it), polls
/// it for up to `poll_for` (less when the invocation's deadline is nearer), downloads
/// the result. None: still rendering.
async fn video(
    state: &State,
    user: UserId,
    job: JobId,
    work: &Work,
    invocation_deadline: Instant,
) -> Result<Option<(Vec<u8>, Probe)>, ModelError> {
    let operation = match &work.operation {
        Some(op) => op.clone(),
        None => {
            let op = state
                .google
                .start_video(&work.model, &work.prompt, work.format.as_str())
                .await?;
            state
                .db
                .tenant(user, async |t| {
                    jobs::progress(t, job, 20, Some(&json!({"operation": op}))).await
                })
                .await
                .map_err(|e| ModelError::Transient(e.to_string()))?;
            op
        }
    };
    let deadline = (Instant::now() + state.poll_for).min(
        invocation_deadline
            .checked_sub(DOWNLOAD_RESERVE)
            .unwrap_or(invocation_deadline),
    );
    let uri = loop {
        match state.google.poll_video(&operation).await? {
            VideoState::Done { uri } => break uri,
            VideoState::Running if Instant::now() >= deadline => return Ok(None),
            VideoState::Running => tokio::time::sleep(state.poll_every).await,
        }
    };
    let bytes = state.google.download(&uri).await?;
    let probe = probe_bytes(&bytes)
        .map_err(|e| ModelError::Permanent(format!("the model's video: {e}")))?;
    if !matches!(probe.media, MediaType::Mp4 | MediaType::QuickTime) {
        return Err(ModelError::Permanent(
            "the model's video is not an MP4".into(),
        ));
    }
    Ok(Some((bytes, probe)))
}

async fn store(
    state: &State,
    user: UserId,
    job: JobId,
    asset: AssetId,
    work: &Work,
    bytes: Vec<u8>,
    probe: Probe,
) -> Result<Outcome, WorkerError> {
    let ext = probe.media.extensions()[0];
    let filename = format!("{asset}.{ext}");
    let key = format!("generated/{user}/{filename}");
    let size = bytes.len() as i64;
    state.storage.put(&key, probe.media.mime(), bytes).await?;
    let file_url = state.storage.url_of(&key);
    let seconds = (Utc::now() - work.started_at)
        .num_seconds()
        .clamp(0, i64::from(i32::MAX)) as i32;
    let delivered = state
        .db
        .tenant(user, async |t| {
            // The job's end is the gate: one cancelled (and refunded) meanwhile gets nothing.
            let completed = jobs::complete(
                t,
                job,
                &json!({"asset_id": asset.0, "width": probe.width, "height": probe.height,
                        "ai_model": work.model, "file_size": size}),
            )
            .await?;
            if !completed {
                return Ok(false);
            }
            notifications::notify(
                t,
                user.0,
                &Notice {
                    category: Category::Generation,
                    event_key: format!("generation:{job}:done"),
                    title: format!("Your {} is ready", work.kind.as_str()),
                    body: format!(
                        "The {} you asked for is in your library.",
                        work.kind.as_str()
                    ),
                    link: Some(format!("/library/{asset}")),
                },
            )
            .await?;
            assets::finish_generation(
                t,
                asset,
                &Generated {
                    file_url: &file_url,
                    filename: &filename,
                    media: probe.media,
                    file_size: size,
                    width: probe.width,
                    height: probe.height,
                    duration_seconds: probe.duration_ms.map(|ms| Decimal::new(ms as i64, 3)),
                    ai_model: &work.model,
                    generation_seconds: seconds,
                },
            )
            .await?;
            Ok(true)
        })
        .await?;
    if !delivered {
        if let Err(e) = state.storage.delete(&key).await {
            tracing::warn!(user_id = %user, job_id = %job, key, error = %e, "could not remove a cancelled generation's media");
        }
        tracing::info!(user_id = %user, job_id = %job, asset_id = %asset, "the job ended meanwhile (cancelled); its media is not delivered");
        return Ok(Outcome::done("the job ended meanwhile"));
    }
    tracing::info!(user_id = %user, job_id = %job, asset_id = %asset, key, size, "generated");
    Ok(Outcome::done("generated"))
}

/// Fails the job, its asset and refunds the credits — only when this transaction is the
/// one that moves the job to failed. A delivery racing one that already finished the
/// job (delivered the asset, or failed and refunded it) changes nothing.
async fn give_up(
    state: &State,
    user: UserId,
    job: JobId,
    asset: AssetId,
    kind: AssetType,
    why: &str,
) -> Result<Outcome, WorkerError> {
    let refunded = state
        .db
        .tenant(user, async |t| {
            if !jobs::fail(t, job, why).await? {
                return Ok(None);
            }
            let refunded = generations::undo_asset(t, user.0, kind, asset, why).await?;
            notifications::notify(
                t,
                user.0,
                &Notice {
                    category: Category::Generation,
                    event_key: format!("generation:{job}:failed"),
                    title: format!("Your {} could not be made", kind.as_str()),
                    body: format!("{why}. Its credits were given back."),
                    link: Some(format!("/library/{asset}")),
                },
            )
            .await?;
            Ok(Some(refunded))
        })
        .await?;
    let Some(refunded) = refunded else {
        tracing::info!(user_id = %user, job_id = %job, asset_id = %asset, why, "the job was already finished; nothing failed or refunded");
        return Ok(Outcome::done("the job is already finished"));
    };
    tracing::warn!(user_id = %user, job_id = %job, asset_id = %asset, why, refunded, "generation failed");
    Ok(Outcome::done("failed"))
}
