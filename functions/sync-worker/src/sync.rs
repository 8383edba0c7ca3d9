//! One ad account's insights sync: today and the 28 days before (Meta restates recent
//! days; days are the ad account's, by its time zone offset), campaign level, one row per day (`time_increment=1`), pulled five ways — no
//! breakdown, `publisher_platform,platform_position`, `age,gender`, `region`, and hourly
//! (`hourly_stats_aggregated_by_advertiser_time_zone`). Cursor pages are followed; the
//! larger pulls (region, hourly) run as async report runs. Rows are upserted idempotently
//! and the campaigns' totals refreshed in the same transaction, with Meta's review of
//! the campaigns' ads (`review`).
//!
//! Rate limits: every call counts against the account's hourly budget
//! (`system_config.meta_api_rate_limits`) and Meta's usage headers are kept; codes 4, 17,
//! 613, 80000–80004 (or utilisation ≥ 95 %) throttle the account and the message returns
//! later; 190 marks the connection expired and stops; 5xx retries with backoff.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use shared::WorkerError;
use shared::domain::JobId;

use shared::meta::reads::{InsightsQuery, Level};
use shared::meta::{CALLS_PER_SYNC, ErrorKind, GraphError, Usage};
use shared::repo::insights::{self, InsightRow};
use shared::repo::{creative_results, jobs, meta_accounts, optimizer_runs, system_config};
use uuid::Uuid;

use crate::reading::{Calls, account, window};
use crate::{MAX_ATTEMPTS, Outcome, State, backoff_seconds, parse};

pub use shared::messages::MetaSync as SyncMessage;

/// The last delivery could not finish the sync (throttled, Meta or the database down):
/// the job is failed with why, and the message dropped, so no job is left `running`
/// with its message in the dead-letter queue. The next hourly sync tries again.
pub async fn give_up(state: &State, m: &SyncMessage, why: &str) -> Result<Outcome, WorkerError> {
    state
        .db
        .run("sync-give-up", async |w| {
            jobs::fail(w, JobId(m.job_id), why).await
        })
        .await?;
    tracing::warn!(job_id = %m.job_id, ad_account_id = m.ad_account_id, why, "sync given up");
    Ok(Outcome::Done(format!("gave up: {why}")))
}

/// The five pulls: breakdowns, and whether to use an async report run.
pub const PULLS: [(&str, bool); 5] = [
    ("", false),
    ("publisher_platform,platform_position", false),
    ("age,gender", false),
    ("region", true),
    ("hourly_stats_aggregated_by_advertiser_time_zone", true),
];

const FIELDS: &str =
    "campaign_id,campaign_name,impressions,clicks,spend,actions,action_values,date_start,date_stop";

const _: () = assert!(
    PULLS.len() as i32 + 4 == CALLS_PER_SYNC,
    "CALLS_PER_SYNC counts the insights pulls, the ads' review, the creatives' results, the learning stage and the reach"
);

/// Where a sync stands before calling Meta.
enum Ready {
    Go {
        token: String,
        campaigns: std::collections::HashMap<String, (Uuid, shared::domain::campaign::Purpose)>,
        ads: std::collections::HashMap<String, (Uuid, Uuid, shared::domain::campaign::Purpose)>,
        budget: i32,
        today: chrono::NaiveDate,
    },
    Stop(Outcome),
}

pub async fn run(state: &State, m: &SyncMessage, attempt: u32) -> Result<Outcome, WorkerError> {
    let job = JobId(m.job_id);
    let ready = state
        .db
        .run("meta-sync", async |w| {
            let Some(_) = jobs::start(w, job).await? else {
                return Ok(Ready::Stop(Outcome::Done(
                    "the job is already finished".into(),
                )));
            };
            let Some((sealed, status)) = meta_accounts::token_of(w, m.connection_id).await? else {
                jobs::fail(w, job, "the Meta connection is gone").await?;
                return Ok(Ready::Stop(Outcome::Done("connection gone".into())));
            };
            if status != "active" || sealed.is_empty() {
                jobs::fail(
                    w,
                    job,
                    &format!("the Meta connection is {status}; reconnect to sync"),
                )
                .await?;
                return Ok(Ready::Stop(Outcome::Done(format!("connection {status}"))));
            }
            let limit = system_config::meta_calls_per_hour(w).await?;
            let (left, throttled) = meta_accounts::budget(w, &m.ad_account_id, limit).await?;
            if let Some(until) = throttled {
                let wait = (until - Utc::now()).num_seconds().max(1) as i32;
                jobs::retrying(w, job, &format!("Meta asked us to wait until {until}")).await?;
                return Ok(Ready::Stop(Outcome::Retry {
                    why: "throttled".into(),
                    after_seconds: wait,
                }));
            }
            if left < CALLS_PER_SYNC {
                let next_hour = 3600 - (Utc::now().timestamp() % 3600) as i32;
                jobs::retrying(
                    w,
                    job,
                    &format!(
                        "this hour's {limit} calls for {} are used up",
                        m.ad_account_id
                    ),
                )
                .await?;
                return Ok(Ready::Stop(Outcome::Retry {
                    why: "hourly budget used".into(),
                    after_seconds: next_hour,
                }));
            }
            let token = state.cipher.open(&sealed)?;
            let campaigns = insights::launched_campaigns(w, m.user_id, &m.ad_account_id).await?;
            let ads = creative_results::ads_of(w, m.user_id, &m.ad_account_id).await?;
            Ok(Ready::Go {
                token,
                campaigns,
                ads,
                budget: left,
                today: meta_accounts::local_today(w, &m.ad_account_id).await?,
            })
        })
        .await?;
    let (token, campaigns, ads, budget, today) = match ready {
        Ready::Go {
            token,
            campaigns,
            ads,
            budget,
            today,
        } => (token, campaigns, ads, budget, today),
        Ready::Stop(outcome) => return Ok(outcome),
    };
    let mut calls = Calls {
        made: 0,
        budget,
        usage: None,
    };
    let mut rows: Vec<InsightRow> = Vec::new();
    let mut skipped = 0;
    for (breakdowns, is_async) in PULLS {
        let raw = match pull(
            state,
            &token,
            &m.ad_account_id,
            (breakdowns, is_async),
            today,
            &mut calls,
        )
        .await
        {
            Ok(raw) => raw,
            Err(e) => return failed(state, m, job, attempt, &calls, e).await,
        };
        for r in &raw {
            let Some((campaign, purpose)) =
                r["campaign_id"].as_str().and_then(|id| campaigns.get(id))
            else {
                skipped += 1; // a campaign made outside Adpilot
                continue;
            };
            match parse::row(r, *campaign, *purpose) {
                Ok(row) => rows.push(row),
                Err(why) => return Err(WorkerError::failed(format!("insights row: {why}"))),
            }
        }
    }
    let ads_listed = match crate::review::pull(state, &token, &m.ad_account_id, &mut calls).await {
        Ok(listed) => listed,
        Err(e) => return failed(state, m, job, attempt, &calls, e).await,
    };
    let reviews = crate::review::by_campaign(ads_listed, &campaigns);
    let creative_rows =
        match crate::creatives::pull(state, &token, &m.ad_account_id, today, &mut calls).await {
            Ok(rows) => rows,
            Err(e) => return failed(state, m, job, attempt, &calls, e).await,
        };
    let learning = match crate::learning::pull(state, &token, &m.ad_account_id, &mut calls).await {
        Ok(stages) => crate::learning::by_campaign(stages, &campaigns),
        Err(e) => return failed(state, m, job, attempt, &calls, e).await,
    };
    let reach = match crate::reach::pull(state, &token, &m.ad_account_id, today, &mut calls).await {
        Ok(raw) => crate::reach::rows(&raw, &campaigns)
            .map_err(|why| WorkerError::failed(format!("reach row: {why}")))?,
        Err(e) => return failed(state, m, job, attempt, &calls, e).await,
    };
    let creative_days = crate::creatives::days(&creative_rows, &ads)
        .map_err(|why| WorkerError::failed(format!("ad insights row: {why}")))?;
    let ids: Vec<Uuid> = campaigns.values().map(|(id, _)| *id).collect();
    let total = rows.len();
    let changed = state
        .db
        .run("meta-sync-write", async |w| {
            let changed = insights::upsert(w, &rows).await?;
            insights::refresh_totals(w, &ids).await?;
            for (campaign, ads) in &reviews {
                insights::record_review(w, *campaign, ads).await?;
            }
            for (campaign, stage) in &learning {
                insights::record_learning_stage(w, *campaign, stage.as_deref()).await?;
            }
            insights::record_reach(w, &reach).await?;
            creative_results::upsert(w, &creative_days).await?;
            creative_results::rescore(w, &ids).await?;
            meta_accounts::record_calls(w, &m.ad_account_id, calls.made, calls.usage_json().as_ref(), None).await?;
            meta_accounts::mark_synced(w, m.connection_id, &m.ad_account_id).await?;
            optimizer_runs::after_sync(w, m.user_id, &m.ad_account_id).await?;
            jobs::complete(w, job, &json!({"rows": total, "changed": changed, "calls": calls.made, "skipped_rows": skipped})).await?;
            Ok(changed)
        })
        .await?;
    tracing::info!(
        ad_account = m.ad_account_id,
        rows = total,
        changed,
        calls = calls.made,
        "insights synced"
    );
    Ok(Outcome::Done(format!("{total} rows, {changed} changed")))
}

/// Every row of one of the five pulls.
async fn pull(
    state: &State,
    token: &str,
    act: &str,
    (breakdowns, run_async): (&str, bool),
    today: chrono::NaiveDate,
    calls: &mut Calls,
) -> Result<Vec<Value>, GraphError> {
    let query = InsightsQuery {
        level: Level::Campaign,
        fields: FIELDS,
        breakdowns,
        time_range: window(today),
        run_async,
        poll: state.report_poll,
    };
    account(state, token, act).insights(&query, calls).await
}

/// What a failed pull means for the job and the message.
async fn failed(
    state: &State,
    m: &SyncMessage,
    job: JobId,
    attempt: u32,
    calls: &Calls,
    e: GraphError,
) -> Result<Outcome, WorkerError> {
    let usage = calls.usage_json();
    state
        .db
        .run("meta-sync-failed", async |w| match e.kind {
            ErrorKind::RateLimited => {
                let wait_minutes = calls.usage.as_ref().map_or(0, Usage::regain_access_minutes);
                let wait = (i64::from(backoff_seconds(attempt)))
                    .max(wait_minutes * 60)
                    .max(60);
                let until = Utc::now() + Duration::seconds(wait);
                meta_accounts::record_calls(
                    w,
                    &m.ad_account_id,
                    calls.made,
                    usage.as_ref(),
                    Some(until),
                )
                .await?;
                jobs::retrying(
                    w,
                    job,
                    &format!(
                        "throttled by Meta (code {}): {}; next try at {until}",
                        e.code, e.message
                    ),
                )
                .await?;
                Ok(Outcome::Retry {
                    why: e.message.clone(),
                    after_seconds: wait as i32,
                })
            }
            ErrorKind::TokenInvalid => {
                meta_accounts::mark_expired(w, m.connection_id, &e.message).await?;
                meta_accounts::record_calls(w, &m.ad_account_id, calls.made, usage.as_ref(), None)
                    .await?;
                jobs::fail(
                    w,
                    job,
                    &format!(
                        "Meta no longer accepts the connection ({}); reconnect to sync",
                        e.message
                    ),
                )
                .await?;
                Ok(Outcome::Done("connection expired".into()))
            }
            ErrorKind::Refused => {
                meta_accounts::record_calls(w, &m.ad_account_id, calls.made, usage.as_ref(), None)
                    .await?;
                jobs::fail(
                    w,
                    job,
                    &format!("Meta refused the insights request: {}", e.message),
                )
                .await?;
                Ok(Outcome::Done("refused".into()))
            }
            ErrorKind::Transient => {
                meta_accounts::record_calls(w, &m.ad_account_id, calls.made, usage.as_ref(), None)
                    .await?;
                if attempt >= MAX_ATTEMPTS {
                    let why = format!("gave up after {attempt} attempts: {}", e.message);
                    jobs::fail(w, job, &why).await?;
                    return Ok(Outcome::Done(why));
                }
                jobs::retrying(w, job, &e.message).await?;
                Ok(Outcome::Retry {
                    why: e.message.clone(),
                    after_seconds: backoff_seconds(attempt),
                })
            }
        })
        .await
        .map_err(WorkerError::from)
}
