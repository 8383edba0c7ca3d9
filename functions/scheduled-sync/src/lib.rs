//! Every hour: for each enabled ad account of an active Meta connection that has
//! launched campaigns, one `meta_sync` job and one queue message (through the outbox,
//! relayed at once). An account whose hourly call budget
//! (`system_config.meta_api_rate_limits.calls_per_hour`) cannot fit a sync, that Meta
//! asked us to leave alone for now, or that still has a sync waiting, is skipped.

use serde_json::{Value, json};
use shared::WorkerError;
use shared::aws::relay::Relay;
use shared::config::{ConfigError, DbConfig};
use shared::db::WorkerDb;
use shared::meta::CALLS_PER_SYNC;
use shared::repo::{jobs, meta_accounts, outbox, system_config};

/// The outbox topic the sync worker's queue serves.
pub use shared::messages::MetaSync;

pub struct State {
    pub db: WorkerDb,
    pub relay: Relay,
}

impl State {
    pub async fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            db: WorkerDb::connect(&DbConfig::worker_from_env()?)?,
            relay: Relay::from_env(),
        })
    }
}

pub async fn handle(state: &State) -> Result<Value, WorkerError> {
    let (queued, skipped) = state
        .db
        .run("scheduled-sync", async |w| {
            let limit = system_config::meta_calls_per_hour(w).await?;
            let mut queued = Vec::new();
            let mut skipped = Vec::new();
            for target in meta_accounts::sync_targets(w).await? {
                let (left, throttled) = meta_accounts::budget(w, &target.ad_account_id, limit).await?;
                if throttled.is_some() || left < CALLS_PER_SYNC {
                    skipped.push(json!({"ad_account_id": target.ad_account_id, "calls_left": left,
                                        "throttled_until": throttled}));
                    continue;
                }
                let params = json!({"ad_account_id": target.ad_account_id, "connection_id": target.connection});
                let job = jobs::create_for(w, target.user_id, "meta_sync", &params).await?;
                let message = MetaSync {
                    job_id: job.id,
                    user_id: target.user_id,
                    connection_id: target.connection,
                    ad_account_id: target.ad_account_id.clone(),
                };
                queued.push(outbox::enqueue_for(w, target.user_id, &message).await?);
            }
            Ok((queued, skipped))
        })
        .await?;
    let (sent, failed) = state.relay.send_now_system(&state.db, &queued).await;
    let report =
        json!({"queued": queued.len(), "sent": sent, "send_failed": failed, "skipped": skipped});
    tracing::info!(%report, "scheduled sync");
    Ok(report)
}
