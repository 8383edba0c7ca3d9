//! Scheduled upkeep, as the worker role. Two schedules in template.yaml pass a task:
//! `relay-outbox` (every minute) sends committed outbox messages to their queues,
//! cancels at their provider (Razorpay or Stripe) the subscriptions a newer paid one
//! superseded (retrying those the webhook could not), starts the new credit month of
//! annual plans, ends trials whose period is over, fails (and refunds) jobs stuck `running` past their type's limit
//! and queues the weekly report of every owner for whom it is Monday 09:00 (their time);
//! `daily` also creates the coming months' `performance_analytics` partitions and
//! applies the retention policy (`cleanup_old_data()`), rebuilds the days of the
//! `campaign_daily_totals` rollup that drifted from their insights rows, and re-seals Meta tokens sealed
//! under an older key or before tokens were bound to their row, with the newest key in
//! `TOKEN_ENCRYPTION_KEYS`, bound to the row.

pub mod relay;

use chrono::{Datelike, Months, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::WorkerError;
use shared::aws::relay::Relay;
use shared::billing::{Gateways, superseded};
use shared::config::{ConfigError, DbConfig};
use shared::crypto::TokenCipher;
use shared::db::WorkerDb;
use shared::error::AppError;
use shared::repo::{generations, insights, jobs, meta_accounts, reports, retention, subscriptions};

pub struct State {
    pub db: WorkerDb,
    /// Outbox topics to their queues, from `QUEUE_URL_<TOPIC>`.
    pub relay: Relay,
    pub cipher: TokenCipher,
    pub gateways: Gateways,
}

impl State {
    pub async fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            db: WorkerDb::connect(&DbConfig::worker_from_env()?)?,
            relay: Relay::from_env(),
            cipher: TokenCipher::from_env()?,
            gateways: Gateways::from_env()?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Task {
    RelayOutbox,
    Daily,
}

/// Months ahead of the current one that always have a partition.
const MONTHS_AHEAD: u32 = 3;

pub async fn handle(state: &State, event: Value) -> Result<Value, WorkerError> {
    let task: Task = serde_json::from_value(event.get("task").cloned().unwrap_or(Value::Null))
        .map_err(|_| {
            WorkerError::failed(format!(
                "unknown maintenance event {event}; expected task relay-outbox or daily"
            ))
        })?;
    let weekly_reports = state
        .db
        .run("weekly-reports", async |w| {
            reports::queue_weekly(w, Utc::now()).await
        })
        .await?
        .len();
    let relayed = relay::relay_outbox(state).await?;
    let swept = superseded::cancel_due(&state.db, &state.gateways, None).await?;
    let (credit_months, trials_ended, trials_ending, meta_expiring) = state
        .db
        .run("subscription-periods", async |w| {
            Ok((
                subscriptions::roll_annual_credit_months(w).await?,
                subscriptions::expire_trials(w).await?,
                subscriptions::tell_trials_ending(w).await?,
                meta_accounts::tell_tokens_expiring(w).await?,
            ))
        })
        .await?;
    let stuck = fail_stuck_jobs(state).await?;
    let mut report = json!({ "outbox": relayed, "superseded": swept,
                             "credit_months_started": credit_months, "trials_ended": trials_ended,
                             "trials_ending_told": trials_ending, "meta_expiring_told": meta_expiring,
                             "stuck_jobs_failed": stuck, "weekly_reports_queued": weekly_reports });
    if matches!(task, Task::Daily) {
        report["partitions"] = json!(ensure_partitions(state, Utc::now().date_naive()).await?);
        report["retention"] = state
            .db
            .run("retention", async |w| retention::cleanup_old_data(w).await)
            .await?;
        report["daily_totals_rebuilt"] = json!(
            state
                .db
                .run("daily-totals", async |w| insights::rebuild_daily_totals(w)
                    .await)
                .await?
        );
        report["tokens_reencrypted"] = json!(rotate_tokens(state).await?);
    }
    tracing::info!(task = ?task, %report, "maintenance done");
    Ok(report)
}

/// Fails the jobs stuck `running` past their type's limit and undoes what each spent
/// (a generation's asset fails and its credits come back, once), in the transaction that
/// fails it. Returns how many were failed.
pub async fn fail_stuck_jobs(state: &State) -> Result<usize, WorkerError> {
    state
        .db
        .run("stuck-jobs", async |w| {
            let stuck = jobs::fail_stuck(w, 100).await?;
            for job in &stuck {
                let why = job.error_message.as_deref().unwrap_or("stuck");
                let refunded = match job.user_id {
                    Some(user) => generations::undo(w, user, job, why).await?,
                    None => 0,
                };
                tracing::warn!(job_id = %job.id, job_type = job.job_type, user_id = ?job.user_id,
                               refunded, why, "a stuck job was failed");
            }
            Ok(stuck.len())
        })
        .await
        .map_err(WorkerError::from)
}

/// Re-seals every Meta token not under the newest key; returns how many changed.
pub async fn rotate_tokens(state: &State) -> Result<usize, WorkerError> {
    state
        .db
        .run("rotate-tokens", async |w| {
            let mut n = 0;
            for (id, sealed) in meta_accounts::sealed_tokens(w).await? {
                if !state.cipher.needs_rotation(&sealed.value) {
                    continue;
                }
                let plain = state
                    .cipher
                    .open(&sealed)
                    .map_err(|e| AppError::Internal(format!("token of connection {id}: {e}")))?;
                let resealed = state.cipher.seal(&plain, &sealed.bound_to);
                meta_accounts::replace_token(w, id, &resealed).await?;
                n += 1;
            }
            Ok(n)
        })
        .await
        .map_err(WorkerError::from)
}

/// The partitions of this month and the next three exist afterwards (idempotent).
pub async fn ensure_partitions(
    state: &State,
    today: NaiveDate,
) -> Result<Vec<String>, WorkerError> {
    let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).expect("first of month");
    state
        .db
        .run("partitions", async |w| {
            let mut made = Vec::new();
            for ahead in 0..=MONTHS_AHEAD {
                made.push(
                    retention::ensure_analytics_partition(w, first + Months::new(ahead)).await?,
                );
            }
            Ok(made)
        })
        .await
        .map_err(WorkerError::from)
}
