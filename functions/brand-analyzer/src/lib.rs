//! The brand analyzer (SQS, partial batch failures): each message names a brand-analysis
//! job, its user and the website. The worker reads the site through the SSRF-safe
//! fetcher (`shared::webfetch`), learns the kit (palette with evidence, typography, logo
//! copied into our bucket, messaging, social profiles, voice and guidelines) and writes
//! it to the brand profile in the transaction that completes the job, keeping fields the
//! user set by hand unless the request asked to replace them. A site that cannot be
//! read fails the job with a reason a person understands; a redelivered message for a
//! finished job does nothing.

pub mod analyse;
pub mod brand_colours;
pub mod colour;
pub mod crawl;
pub mod css;
pub mod facebook;
pub mod logo;
pub mod messaging;
pub mod page;
pub mod social;
pub mod styles;
pub mod voice;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use serde_json::json;
use sha2::{Digest, Sha256};
use shared::WorkerError;
use shared::aws::LazyClient;
pub use shared::aws::sqs_batch::Outcome;
use shared::aws::sqs_batch::{attempt_of, body_of, process_batch};
use shared::aws::storage::Storage;
use shared::config::{ConfigError, DbConfig};
use shared::db::Db;
use shared::domain::{JobId, UserId};
use shared::messages::BrandAnalysis;
use shared::repo::{jobs, profiles};
use shared::webfetch::AllowHosts;
use shared::webfetch::fetcher::Fetcher;
use url::Url;

/// Deliveries before a message that keeps failing on our side (database, S3) gives up.
pub const MAX_ATTEMPTS: u32 = 4;

pub struct State {
    pub db: Db,
    pub storage: Storage,
    pub fetcher: Fetcher,
    pub gemini: Option<voice::Gemini>,
    /// Reads the user's Facebook Page when the Meta app is configured.
    pub meta: Option<facebook::Meta>,
    pub sqs: LazyClient<aws_sdk_sqs::Client>,
}

impl State {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            db: Db::connect(&DbConfig::from_env()?)?,
            storage: Storage::from_env()?,
            fetcher: Fetcher::new(AllowHosts::from_env(), crawl::USER_AGENT),
            gemini: voice::Gemini::from_env(),
            meta: facebook::Meta::from_env(),
            sqs: LazyClient::on_first_use(),
        })
    }
}

pub async fn handle(state: &State, event: SqsEvent) -> SqsBatchResponse {
    process_batch(&state.sqs, &event, |record| process(state, record)).await
}

fn backoff_seconds(attempt: u32) -> i32 {
    shared::aws::sqs_batch::backoff(15, attempt, 480)
}

/// Processes one message; never panics, every failure becomes an outcome.
pub async fn process(state: &State, record: &SqsMessage) -> Outcome {
    let attempt = attempt_of(record);
    let msg: BrandAnalysis = match body_of(record, backoff_seconds(attempt)) {
        Ok(m) => m,
        Err(retry) => return retry,
    };
    match run(state, &msg, attempt).await {
        Ok(outcome) => outcome,
        Err(e) if attempt >= MAX_ATTEMPTS => {
            let why = format!("gave up after {attempt} attempts: {e}");
            fail(state, UserId(msg.user_id), JobId(msg.job_id), &why).await
        }
        Err(e) => Outcome::Retry {
            why: e.to_string(),
            after_seconds: backoff_seconds(attempt),
        },
    }
}

async fn fail(state: &State, user: UserId, job: JobId, why: &str) -> Outcome {
    match state
        .db
        .tenant(user, async |t| jobs::fail(t, job, why).await)
        .await
    {
        Ok(true) => {
            tracing::warn!(user_id = %user, job_id = %job, why, "brand analysis failed");
            Outcome::done("failed")
        }
        Ok(false) => Outcome::done("the job had already ended"),
        Err(e) => Outcome::Retry {
            why: e.to_string(),
            after_seconds: 30,
        },
    }
}

/// The user's Facebook Page summarised, or why not.
async fn facebook_page(
    state: &State,
    user: UserId,
) -> Result<shared::domain::profile::PageSummary, String> {
    let meta = state.meta.as_ref().ok_or("Meta is not configured")?;
    let sealed = state
        .db
        .tenant(user, async |t| {
            shared::repo::meta_accounts::newest_token(t).await
        })
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no Meta account is connected")?;
    let token = meta
        .cipher
        .open(&sealed)
        .map_err(|_| "the stored Meta token could not be opened".to_owned())?;
    meta.summary(&token).await
}

async fn run(state: &State, msg: &BrandAnalysis, attempt: u32) -> Result<Outcome, WorkerError> {
    let (user, job) = (UserId(msg.user_id), JobId(msg.job_id));
    let started = match state
        .db
        .tenant(user, async |t| jobs::start(t, job).await)
        .await
        .map_err(WorkerError::from)
    {
        Err(WorkerError::AccountGone) => return Ok(Outcome::done("the account is gone")),
        other => other?,
    };
    let Some(started) = started else {
        return Ok(Outcome::done("the job is already finished"));
    };
    let replace = started
        .parameters
        .as_ref()
        .and_then(|p| p["replace"].as_bool())
        .unwrap_or(msg.replace);
    let Ok(url) = Url::parse(&msg.website_url) else {
        return Ok(fail(state, user, job, "the website address is not a valid URL").await);
    };
    tracing::info!(user_id = %user, job_id = %job, url = %url, attempt, "analysing a website");
    let progress = async |percent: i16| {
        let done = state
            .db
            .tenant(user, async |t| jobs::progress(t, job, percent, None).await)
            .await;
        if let Err(e) = done {
            tracing::warn!(user_id = %user, job_id = %job, error = %e, "could not record progress");
        }
    };
    let learned = match analyse::site(&state.fetcher, state.gemini.as_ref(), &url, progress).await {
        Ok(l) => l,
        Err(why) => return Ok(fail(state, user, job, &why).await),
    };
    let mut analysis = learned.analysis;
    let page = facebook_page(state, user).await;
    analysis.website_analysis["facebook_page"] = match &page {
        Ok(p) => json!({"read": true, "posts": p.posts_read}),
        Err(why) => json!({"read": false, "why": why}),
    };
    analysis.social.facebook_page = page.ok();
    if let Some(logo) = &learned.logo {
        let hash = hex::encode(&Sha256::digest(&logo.bytes)[..8]);
        let key = format!("brand/{user}/logo-{hash}.{}", logo.kind.ext());
        state
            .storage
            .put(&key, logo.kind.mime(), logo.bytes.clone())
            .await?;
        analysis.kit.logo_url = Some(state.storage.url_of(&key));
        analysis.website_analysis["logo"]["stored_at"] = json!(analysis.kit.logo_url);
    }
    let summary = json!({
        "website_url": analysis.website_url,
        "primary": analysis.kit.color_palette.as_ref().and_then(|p| p.primary.clone()),
        "pages_read": analysis.website_analysis["pages"],
        "logo_url": analysis.kit.logo_url,
    });
    let written = state
        .db
        .tenant(user, async |t| {
            if !jobs::complete(t, job, &summary).await? {
                return Ok(None);
            }
            profiles::apply_analysis(t, &analysis, replace)
                .await
                .map(Some)
        })
        .await?;
    match written {
        Some(profile) => {
            tracing::info!(user_id = %user, job_id = %job, version = profile.analysis_version, "brand kit learned");
            Ok(Outcome::done("analysed"))
        }
        None => Ok(Outcome::done("the job ended meanwhile (cancelled)")),
    }
}
