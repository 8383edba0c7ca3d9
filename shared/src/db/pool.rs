//! The connection pool, tuned for Lambda: one instance serves one request at a time,
//! so a couple of connections suffice; a connection is verified before reuse because
//! a frozen instance may wake with a dead socket; every statement has a timeout; TLS
//! when `DATABASE_CA_FILE` is set (see `tls`).

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;
use tokio_postgres::config::SslMode;

use crate::config::{ConfigError, DbConfig};

/// A pool for `cfg`: TLS when `DATABASE_CA_FILE` is set, the statement timeout set on
/// every new connection, connections checked when they are reused.
pub fn build_pool(cfg: &DbConfig) -> Result<Pool, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        name: "DATABASE_URL",
        reason,
    };
    let mut pg: tokio_postgres::Config = cfg
        .database_url
        .parse()
        .map_err(|e| invalid(format!("{e}")))?;
    if let Some(password) = &cfg.password {
        pg.password(password.as_bytes());
    }
    pg.options(format!("-c statement_timeout={}", cfg.statement_timeout_ms));
    pg.connect_timeout(Duration::from_secs(5));
    pg.application_name(
        std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "adpilot".to_owned()),
    );
    let recycling = ManagerConfig {
        recycling_method: RecyclingMethod::Verified,
    };
    let manager = match super::tls::connector_from_env()? {
        Some(tls) => {
            pg.ssl_mode(SslMode::Require);
            Manager::from_config(pg, tls, recycling)
        }
        None => Manager::from_config(pg, NoTls, recycling),
    };
    Pool::builder(manager)
        .max_size(cfg.pool_size.max(1))
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_secs(10)))
        .create_timeout(Some(Duration::from_secs(5)))
        .recycle_timeout(Some(Duration::from_secs(2)))
        .build()
        .map_err(|e| invalid(e.to_string()))
}
