//! The report worker (SQS, partial batch failures): each message names a report, its
//! `generate_report` job and its owner. The worker starts the job, reads the figures in
//! the owner's tenant, fetches the thumbnails of the creatives it shows, renders the
//! HTML and PDF off the async threads, writes both to S3 under `reports/{user}/{report}/`,
//! then in one transaction completes the job, marks the report ready and tells the owner
//! (whose email is relayed at once). A redelivered message for a finished report does
//! nothing; a job cancelled meanwhile leaves no report; a report that keeps failing on
//! our side fails after `MAX_ATTEMPTS` with its reason.

use std::collections::HashMap;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use serde_json::json;
use shared::aws::LazyClient;
use shared::aws::relay::Relay;
pub use shared::aws::sqs_batch::Outcome;
use shared::aws::sqs_batch::{attempt_of, body_of, process_batch};
use shared::aws::storage::Storage;
use shared::config::{ConfigError, DbConfig};
use shared::db::Db;
use shared::domain::notification::{Category, Notice};
use shared::domain::{JobId, UserId};
use shared::error::AppError;
use shared::messages::ReportRequest;
use shared::repo::jobs;
use shared::repo::notifications::{self, Told};
use shared::repo::report_figures::{self, CreativeLine, Figures};
use shared::repo::reports::{self, Kind, Report};
use uuid::Uuid;

use crate::content;
use crate::numbers::{Grouping, money};
use crate::render::{self, Rendered};
use crate::thumbnail::{self, Thumb};

/// Deliveries before a report that keeps failing on our side gives up.
pub const MAX_ATTEMPTS: u32 = 4;
/// The largest creative read for a thumbnail.
const MAX_SOURCE_BYTES: i64 = 16 << 20;

pub struct State {
    pub db: Db,
    pub storage: Storage,
    pub relay: Relay,
    pub sqs: LazyClient<aws_sdk_sqs::Client>,
}

impl State {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            db: Db::connect(&DbConfig::from_env()?)?,
            storage: Storage::from_env()?,
            relay: Relay::from_env(),
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
    let msg: ReportRequest = match body_of(record, backoff_seconds(attempt)) {
        Ok(m) => m,
        Err(retry) => return retry,
    };
    match run(state, &msg).await {
        Ok(outcome) => outcome,
        Err(e) if attempt >= MAX_ATTEMPTS => {
            let why = format!("gave up after {attempt} attempts: {e}");
            fail(state, &msg, &why).await
        }
        Err(e) => {
            let why = e.to_string();
            let user = UserId(msg.user_id);
            let _ = state
                .db
                .tenant(user, async |t| {
                    jobs::retrying(t, JobId(msg.job_id), &why).await
                })
                .await;
            Outcome::Retry {
                why,
                after_seconds: backoff_seconds(attempt),
            }
        }
    }
}

async fn fail(state: &State, msg: &ReportRequest, why: &str) -> Outcome {
    let failed = state
        .db
        .tenant(UserId(msg.user_id), async |t| {
            let failed = jobs::fail(t, JobId(msg.job_id), why).await?;
            reports::ended(t, msg.report_id, "failed", why).await?;
            Ok(failed)
        })
        .await;
    match failed {
        Ok(_) => {
            tracing::warn!(user_id = %msg.user_id, report_id = %msg.report_id, why, "report failed");
            Outcome::done("failed")
        }
        Err(e) => Outcome::Retry {
            why: e.to_string(),
            after_seconds: 30,
        },
    }
}

/// Starts the job; None (with the report closed accordingly) when there is nothing to do.
async fn start(state: &State, msg: &ReportRequest) -> Result<Option<Report>, AppError> {
    let (user, job) = (UserId(msg.user_id), JobId(msg.job_id));
    state
        .db
        .tenant(user, async |t| {
            let Some(report) = reports::get(t, msg.report_id).await? else {
                return Ok(None);
            };
            if jobs::start(t, job).await?.is_some() {
                return Ok(Some(report));
            }
            let why = match jobs::get(t, job).await? {
                Some(j) if j.status == "cancelled" => ("cancelled", "cancelled by the user"),
                _ => ("failed", "the job had ended before the report was made"),
            };
            reports::ended(t, msg.report_id, why.0, why.1).await?;
            Ok(None)
        })
        .await
}

async fn progress(state: &State, msg: &ReportRequest, percent: i16) {
    let done = state
        .db
        .tenant(UserId(msg.user_id), async |t| {
            jobs::progress(t, JobId(msg.job_id), percent, None).await
        })
        .await;
    if let Err(e) = done {
        tracing::warn!(report_id = %msg.report_id, error = %e, "could not record progress");
    }
}

async fn run(state: &State, msg: &ReportRequest) -> Result<Outcome, AppError> {
    let user = UserId(msg.user_id);
    let report = match start(state, msg).await {
        Err(AppError::Unauthenticated { .. }) => return Ok(Outcome::done("the account is gone")),
        other => other?,
    };
    let Some(report) = report else {
        return Ok(Outcome::done("the report is already over"));
    };
    tracing::info!(user_id = %user, report_id = %report.id, from = %report.period_start,
                   to = %report.period_end, "making a report");
    let period = (report.period_start, report.period_end);
    let figures = state
        .db
        .tenant(user, async |t| {
            report_figures::read(t, period, &report.timezone).await
        })
        .await?;
    progress(state, msg, 30).await;
    let thumbs = thumbnails(state, &figures).await;
    progress(state, msg, 50).await;
    let weekly = report.kind == Kind::Weekly;
    let rendered = {
        let figures = figures.clone();
        tokio::task::spawn_blocking(move || render::report(&figures, weekly, &thumbs))
            .await
            .map_err(AppError::internal)?
            .map_err(AppError::Internal)?
    };
    progress(state, msg, 80).await;
    let (html_key, pdf_key) = store(state, &report, &rendered).await?;
    let notice = notice(&report, &figures);
    let told = state
        .db
        .tenant(user, async |t| {
            let result =
                json!({ "report_id": report.id, "html_key": html_key, "pdf_key": pdf_key });
            if !jobs::complete(t, JobId(msg.job_id), &result).await? {
                reports::ended(t, report.id, "cancelled", "cancelled by the user").await?;
                return Ok(None);
            }
            reports::ready(t, report.id, (&html_key, &pdf_key), &rendered.summary).await?;
            notifications::notify(t, user.0, &notice).await.map(Some)
        })
        .await?;
    let Some(told) = told else {
        return Ok(Outcome::done("cancelled while it was made"));
    };
    if let Told::New {
        outbox: Some(id), ..
    } = told
    {
        state.relay.send_now(&state.db, user, &[id]).await;
    }
    tracing::info!(user_id = %user, report_id = %report.id, html_bytes = rendered.html.len(),
                   pdf_bytes = rendered.pdf.len(), "report ready");
    Ok(Outcome::done("ready"))
}

async fn store(
    state: &State,
    report: &Report,
    rendered: &Rendered,
) -> Result<(String, String), AppError> {
    let base = format!("reports/{}/{}", report.user_id, report.id);
    let (html_key, pdf_key) = (format!("{base}/report.html"), format!("{base}/report.pdf"));
    state
        .storage
        .put(
            &html_key,
            "text/html; charset=utf-8",
            rendered.html.clone().into_bytes(),
        )
        .await?;
    state
        .storage
        .put(&pdf_key, "application/pdf", rendered.pdf.clone())
        .await?;
    Ok((html_key, pdf_key))
}

/// Thumbnails of the creatives the report shows (best and worst), read from our bucket;
/// one that cannot be read is left out, never failing the report.
async fn thumbnails(state: &State, figures: &Figures) -> HashMap<Uuid, Thumb> {
    let (best, worst, _) = content::rank(&figures.creatives);
    let mut out = HashMap::new();
    for c in best.into_iter().chain(worst) {
        if out.contains_key(&c.asset_id) {
            continue;
        }
        match thumbnail_of(state, c).await {
            Ok(Some(t)) => {
                out.insert(c.asset_id, t);
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(asset_id = %c.asset_id, error = %e, "no thumbnail for a creative");
            }
        }
    }
    out
}

async fn thumbnail_of(state: &State, c: &CreativeLine) -> Result<Option<Thumb>, AppError> {
    if c.asset_type != "image" {
        return Ok(None);
    }
    let Some(key) = c.file_url.as_deref().and_then(|u| state.storage.key_of(u)) else {
        return Ok(None);
    };
    let Some(size) = state.storage.size(key).await? else {
        return Ok(None);
    };
    if size > MAX_SOURCE_BYTES || size <= 0 {
        return Ok(None);
    }
    let bytes = state.storage.read_range(key, 0, size as u64).await?;
    tokio::task::spawn_blocking(move || thumbnail::of(&bytes))
        .await
        .map_err(AppError::internal)
}

/// What the owner is told when the report is ready.
fn notice(report: &Report, figures: &Figures) -> Notice {
    let t = figures.totals();
    let g = Grouping::for_currency(&figures.currency);
    let days = format!(
        "{} – {}",
        report.period_start.format("%d %b"),
        report.period_end.format("%d %b %Y")
    );
    Notice {
        category: Category::Report,
        event_key: format!("report:{}", report.id),
        title: match report.kind {
            Kind::Weekly => "Your weekly report is ready".into(),
            Kind::OnDemand => "Your report is ready".into(),
        },
        body: format!(
            "{days}: {} spent, {} results, {} impressions across {} campaign(s).",
            money(t.spend, &figures.currency),
            g.count(t.conversions),
            g.count(t.impressions),
            figures.campaigns.len()
        ),
        link: Some(format!("/reports/{}", report.id)),
    }
}
