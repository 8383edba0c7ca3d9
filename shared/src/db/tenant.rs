//! Tenant transactions: begin, `set_config('app.current_user_id', user, true)`, run the
//! work, commit. The setting is transaction-local, so a pooled connection never carries
//! one user's identity into another request.

use deadpool_postgres::{Pool, Transaction};

use crate::config::{ConfigError, DbConfig};
use crate::domain::UserId;
use crate::error::AppError;

/// The app role's pool. The only ways in are a tenant transaction or a public one.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
}

/// A transaction scoped to one user by row-level security.
pub struct Tenant<'a> {
    pub(crate) tx: Transaction<'a>,
    user: UserId,
}

impl Tenant<'_> {
    pub fn user(&self) -> UserId {
        self.user
    }
}

/// A transaction with no user set: RLS hides every tenant row; only the
/// security-definer functions granted to the app role (login lookup) see anything.
pub struct Public<'a> {
    pub(crate) tx: Transaction<'a>,
}

impl Db {
    pub fn connect(cfg: &DbConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            pool: super::build_pool(cfg)?,
        })
    }

    /// Runs `work` in a transaction scoped to `user`; commits when it returns Ok,
    /// rolls back otherwise.
    pub async fn tenant<T>(
        &self,
        user: UserId,
        work: impl AsyncFnOnce(&Tenant<'_>) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let mut conn = self.pool.get().await?;
        let tx = conn.transaction().await?;
        tx.execute(
            "SELECT set_config('app.current_user_id', $1, true)",
            &[&user.0.to_string()],
        )
        .await?;
        let tenant = Tenant { tx, user };
        let out = work(&tenant).await?;
        tenant.tx.commit().await?;
        Ok(out)
    }

    /// Runs `work` in a transaction with no user set.
    pub async fn public<T>(
        &self,
        work: impl AsyncFnOnce(&Public<'_>) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let mut conn = self.pool.get().await?;
        let public = Public {
            tx: conn.transaction().await?,
        };
        let out = work(&public).await?;
        public.tx.commit().await?;
        Ok(out)
    }
}
