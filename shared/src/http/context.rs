//! What every HTTP function serving signed-in users needs, built once per cold start:
//! the app role's pool and the access-token verifier.

use crate::auth::AccessTokens;
use crate::config::{ConfigError, DbConfig};
use crate::db::Db;

/// The pool and verifier every signed-in route uses.
pub struct Context {
    /// The app role's pool (row-level security applies).
    pub db: Db,
    /// Verifies access tokens.
    pub tokens: AccessTokens,
}

impl Context {
    /// From `DATABASE_URL` and `JWT_SECRET` (see `DbConfig` and `AccessTokens`).
    pub async fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            db: Db::connect(&DbConfig::from_env()?)?,
            tokens: AccessTokens::from_env()?,
        })
    }
}
