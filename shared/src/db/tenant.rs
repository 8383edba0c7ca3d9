//! Tenant transactions: begin, `set_config('app.current_user_id', user, true)`, run the
//! work, commit. The setting is transaction-local, so a pooled connection never carries
//! one user's identity into another request.

use deadpool_postgres::Pool;

use super::Conn;

use crate::config::{ConfigError, DbConfig};
use crate::domain::UserId;
use crate::error::AppError;

/// The answer for a user whose account is gone (deleted or deactivated).
pub const ACCOUNT_INACTIVE: AppError = AppError::Unauthenticated {
    code: "account_inactive",
    detail: "This account no longer exists. Sign up again to continue.",
};

/// The app role's pool. The only ways in are a tenant transaction or a public one.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
}

/// A transaction scoped to one user by row-level security.
pub struct Tenant<'a> {
    pub(crate) tx: Conn<'a>,
    user: UserId,
}

impl Tenant<'_> {
    /// The user this transaction is scoped to.
    pub fn user(&self) -> UserId {
        self.user
    }
}

/// A transaction with no user set: RLS hides every tenant row; only the
/// security-definer functions granted to the app role (login lookup) see anything.
pub struct Public<'a> {
    pub(crate) tx: Conn<'a>,
}

impl Db {
    /// A pool logging in as the app role.
    pub fn connect(cfg: &DbConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            pool: super::build_pool(cfg)?,
        })
    }

    /// Runs `work` in a transaction scoped to `user`; commits when it returns Ok,
    /// rolls back otherwise. A deleted or deactivated account is refused here, so an
    /// access token issued before `DELETE /v1/me` stops working at once.
    pub async fn tenant<T>(
        &self,
        user: UserId,
        work: impl AsyncFnOnce(&Tenant<'_>) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        self.scoped(user, true, work).await
    }

    /// Like `tenant`, for the transaction that creates the account itself (signup).
    pub async fn new_account<T>(
        &self,
        user: UserId,
        work: impl AsyncFnOnce(&Tenant<'_>) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        self.scoped(user, false, work).await
    }

    async fn scoped<T>(
        &self,
        user: UserId,
        must_be_live: bool,
        work: impl AsyncFnOnce(&Tenant<'_>) -> Result<T, AppError>,
    ) -> Result<T, AppError> {
        let mut conn = self.pool.get().await?;
        let tx = Conn(conn.transaction().await?);
        tx.execute(
            "SELECT set_config('app.current_user_id', $1, true)",
            &[&user.0.to_string()],
        )
        .await?;
        if must_be_live {
            let live = tx
                .query_opt(
                    "SELECT deleted_at IS NULL AND is_active FROM users WHERE id = $1",
                    &[&user.0],
                )
                .await?
                .is_some_and(|r| r.get::<_, bool>(0));
            if !live {
                return Err(ACCOUNT_INACTIVE);
            }
        }
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
            tx: Conn(conn.transaction().await?),
        };
        let out = work(&public).await?;
        public.tx.commit().await?;
        Ok(out)
    }
}
