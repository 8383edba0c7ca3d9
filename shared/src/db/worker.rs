//! The worker role for cross-tenant jobs (sync, retention, billing webhooks). It connects
//! with the owner's URL and assumes `adpilot_worker` for one transaction at a time, so
//! every cross-tenant transaction is visible in the code and in the logs.

use deadpool_postgres::Pool;

use super::Conn;

use crate::config::{ConfigError, DbConfig};
use crate::error::AppError;

#[derive(Clone)]
pub struct WorkerDb {
    pool: Pool,
}

/// A transaction running as `adpilot_worker`: sees every tenant's rows.
pub struct Worker<'a> {
    pub(crate) tx: Conn<'a>,
}

impl WorkerDb {
    pub fn connect(owner: &DbConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            pool: super::build_pool(owner)?,
        })
    }

    pub async fn run<T>(
        &self,
        job: &str,
        work: impl AsyncFnOnce(&Worker<'_>) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        tracing::info!(job, "cross-tenant transaction as adpilot_worker");
        let mut conn = self.pool.get().await?;
        let tx = Conn(conn.transaction().await?);
        tx.batch_execute("SET LOCAL ROLE adpilot_worker").await?;
        let worker = Worker { tx };
        let out = work(&worker).await?;
        worker.tx.commit().await?;
        Ok(out)
    }
}
