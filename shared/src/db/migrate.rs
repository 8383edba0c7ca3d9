//! Schema migrations: the numbered SQL files in `migrations/`, embedded at build time and
//! applied by refinery as the owner role. Already-applied versions are skipped, so
//! running it again is a no-op; an advisory lock keeps two deploys from racing.

use tokio_postgres::NoTls;

use crate::error::AppError;

mod embedded {
    refinery::embed_migrations!("../migrations");
}

const MIGRATION_LOCK: i64 = 0x0AD9_1407;

/// One connection as the owner, over TLS when `DATABASE_CA_FILE` is set.
async fn connect(
    url: &str,
) -> Result<(tokio_postgres::Client, tokio::task::JoinHandle<()>), AppError> {
    let mut config: tokio_postgres::Config = url.parse()?;
    let tls = super::tls::connector_from_env().map_err(AppError::internal)?;
    Ok(match tls {
        Some(tls) => {
            config.ssl_mode(tokio_postgres::config::SslMode::Require);
            let (client, conn) = config.connect(tls).await?;
            (
                client,
                tokio::spawn(async move {
                    let _ = conn.await;
                }),
            )
        }
        None => {
            let (client, conn) = config.connect(NoTls).await?;
            (
                client,
                tokio::spawn(async move {
                    let _ = conn.await;
                }),
            )
        }
    })
}

/// Applies pending migrations to the database at `owner_url`; returns the versions applied.
pub async fn migrate(owner_url: &str) -> Result<Vec<String>, AppError> {
    let (mut client, driver) = connect(owner_url).await?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let report = embedded::migrations::runner().run_async(&mut client).await;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await?;
    drop(client);
    let _ = driver.await;
    let report = report.map_err(|e| AppError::Internal(format!("migration failed: {e}")))?;
    Ok(report
        .applied_migrations()
        .iter()
        .map(|m| m.to_string())
        .collect())
}

/// The roles the functions log in as, whose passwords the deploy sets from its secrets.
pub const LOGIN_ROLES: [&str; 2] = ["adpilot_app", "adpilot_worker"];

/// Sets `role`'s login password (from the deploy's secret), so the functions can
/// connect as it. Only the roles in `LOGIN_ROLES`; passwords never reach the logs.
pub async fn set_login_password(
    owner_url: &str,
    role: &str,
    password: &str,
) -> Result<(), AppError> {
    if !LOGIN_ROLES.contains(&role) {
        return Err(AppError::Internal(format!(
            "{role} is not a login role of the functions"
        )));
    }
    let (client, driver) = connect(owner_url).await?;
    let sql: String = client
        .query_one(
            "SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', $1::text, $2::text)",
            &[&role, &password],
        )
        .await?
        .get(0);
    client.batch_execute(&sql).await?;
    drop(client);
    let _ = driver.await;
    Ok(())
}

/// A fingerprint of every migration's content: test templates are keyed by it.
pub fn migration_checksum() -> String {
    let mut sum: u64 = 0xcbf2_9ce4_8422_2325;
    for m in embedded::migrations::runner().get_migrations() {
        sum = (sum ^ m.checksum()).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{sum:016x}")
}
