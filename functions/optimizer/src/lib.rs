//! The optimizer. An hourly EventBridge tick queues one `optimize_campaign` job per ad
//! account whose owner has rules to run (`shared::repo::optimizer_runs`), and each
//! completed sync queues one for AFTER_SYNC rules; each SQS message (`run`) judges the
//! owner's rules on that account's campaigns in the owner's tenant (the same judgement
//! as the preview) and records every decision in `ai_optimization_logs`; an action is
//! claimed once per rule, entity and window before it is sent to Meta (`act`). A rule
//! whose actions fail in half of its last 20 runs turns itself off and tells its owner.
//! A creative refresh swaps a tired creative's ad for an unused one's, or for one
//! generated with the owner's credits, which the tick swaps in once it is made (`refresh`).
//! The tick also measures, three days on, what each applied action changed (`follow_ups`).

pub mod act;
pub mod refresh;
pub mod run;

use aws_lambda_events::event::sqs::SqsEvent;
use serde_json::{Value, json};
use shared::WorkerError;
use shared::aws::LazyClient;
use shared::aws::relay::Relay;
use shared::aws::sqs_batch::process_batch;
use shared::aws::storage::Storage;
use shared::config::{ConfigError, DbConfig};
use shared::crypto::TokenCipher;
use shared::db::{Db, WorkerDb};
use shared::meta::Graph;
use shared::repo::optimizer_runs;

pub struct State {
    /// The owner's tenant transactions (judging, recording, acting).
    pub db: Db,
    /// The hourly tick, across owners.
    pub worker: WorkerDb,
    pub graph: Graph,
    pub cipher: TokenCipher,
    /// The library's media, for a replacement creative's ad.
    pub storage: Storage,
    pub relay: Relay,
    pub sqs: LazyClient<aws_sdk_sqs::Client>,
}

impl State {
    pub async fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            db: Db::connect(&DbConfig::from_env()?)?,
            worker: WorkerDb::connect(&DbConfig::worker_from_env()?)?,
            graph: Graph::from_env()?,
            cipher: TokenCipher::from_env()?,
            storage: Storage::from_env()?,
            relay: Relay::from_env(),
            sqs: LazyClient::on_first_use(),
        })
    }
}

impl State {
    /// Meta, as the optimizer calls it.
    pub fn meta(&self) -> rules::meta_change::MetaAccess<'_> {
        rules::meta_change::MetaAccess {
            db: &self.db,
            graph: &self.graph,
            cipher: &self.cipher,
        }
    }
}

/// An SQS batch (runs) or the schedule's tick.
pub async fn handle(state: &State, event: Value) -> Result<Value, lambda_runtime::Error> {
    if event.get("Records").is_some() {
        let batch: SqsEvent = serde_json::from_value(event)?;
        let answer = process_batch(&state.sqs, &batch, |record| run::process(state, record)).await;
        return Ok(serde_json::to_value(answer)?);
    }
    Ok(tick(state).await?)
}

/// The hourly tick: queues the runs that are due and relays them at once.
pub async fn tick(state: &State) -> Result<Value, WorkerError> {
    let now = chrono::Utc::now();
    let queued = state
        .worker
        .run("optimizer-tick", async |w| {
            optimizer_runs::hourly(w, now).await
        })
        .await?;
    let (sent, failed) = state.relay.send_now_system(&state.worker, &queued).await;
    let measured = follow_ups(state).await?;
    let swapped = refresh::finish_generated(state).await?;
    tracing::info!(
        queued = queued.len(),
        sent,
        failed,
        measured,
        swapped,
        "optimizer runs queued"
    );
    Ok(
        json!({ "queued": queued.len(), "sent": sent, "measured": measured, "refreshes_finished": swapped }),
    )
}

/// Measures the actions whose follow-up is due: the same metrics over the days before
/// and after, as `performance_change` and a sentence. Returns how many were measured.
pub async fn follow_ups(state: &State) -> Result<usize, WorkerError> {
    use shared::repo::{optimization_logs, optimizer_facts};
    use shared::rules::impact;
    let days = act::FOLLOW_UP_DAYS;
    state
        .worker
        .run("optimizer-follow-ups", async |w| {
            let due = optimization_logs::due_follow_ups(w, days, 200).await?;
            for f in &due {
                let d = chrono::Duration::days(days);
                let before = (f.action_day - d, f.action_day - chrono::Duration::days(1));
                let after = (f.action_day + chrono::Duration::days(1), f.action_day + d);
                let b = optimizer_facts::delivery(w, f.campaign_id, f.asset_id, before)
                    .await?
                    .unwrap_or_default();
                let a = optimizer_facts::delivery(w, f.campaign_id, f.asset_id, after)
                    .await?
                    .unwrap_or_default();
                let words = impact::action_words(&f.after_values);
                let (change, sentence) = impact::measure(&b, &a, days, &f.currency, &words);
                optimization_logs::measured(w, f.id, &change, &sentence).await?;
            }
            Ok(due.len())
        })
        .await
        .map_err(WorkerError::from)
}
