//! The worker role for cross-tenant jobs (sync, retention, webhooks). It logs in as
//! `adpilot_worker` itself (`DATABASE_WORKER_URL`), never with the owner's credentials,
//! so nothing on an internet-facing path can `RESET ROLE` to the owner; a pool for any
//! other user is refused at init. Every cross-tenant transaction is logged by job.

use deadpool_postgres::Pool;

use super::Conn;

use crate::config::{ConfigError, DbConfig};
use crate::error::AppError;

/// The only user a worker pool logs in as.
pub const WORKER_ROLE: &str = "adpilot_worker";

#[derive(Clone)]
/// Cross-tenant transactions, as `adpilot_worker` (webhooks, schedules, queue workers).
pub struct WorkerDb {
    pool: Pool,
}

/// A transaction running as `adpilot_worker`: sees every tenant's rows.
pub struct Worker<'a> {
    pub(crate) tx: Conn<'a>,
}

impl WorkerDb {
    /// A pool logging in as `adpilot_worker`; any other user in the URL is refused.
    pub fn connect(cfg: &DbConfig) -> Result<Self, ConfigError> {
        let user = cfg
            .database_url
            .parse::<tokio_postgres::Config>()
            .ok()
            .and_then(|c| c.get_user().map(str::to_owned));
        if user.as_deref() != Some(WORKER_ROLE) {
            return Err(ConfigError::Invalid {
                name: "DATABASE_WORKER_URL",
                reason: format!(
                    "must log in as {WORKER_ROLE}, not {}",
                    user.as_deref().unwrap_or("nobody")
                ),
            });
        }
        Ok(Self {
            pool: super::build_pool(cfg)?,
        })
    }

    /// Runs `work` in one worker transaction named `job` in the log; commits when it returns Ok.
    pub async fn run<T>(
        &self,
        job: &str,
        work: impl AsyncFnOnce(&Worker<'_>) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        tracing::info!(job, "cross-tenant transaction as adpilot_worker");
        let mut conn = self.pool.get().await?;
        let tx = Conn(conn.transaction().await?);
        let worker = Worker { tx };
        let out = work(&worker).await?;
        worker.tx.commit().await?;
        Ok(out)
    }
}
