//! Login throttling (migration V16): per-account backoff on failed logins and a
//! per-IP request window on `/v1/auth/*`. Both run before anyone is authenticated,
//! through `SECURITY DEFINER` functions; the app role cannot read or reset the counts.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sha2::Digest;

use crate::db::Tx;
use crate::error::AppError;

/// The throttling key of an email as typed: its trimmed, lower-cased SHA-256, whether
/// or not an account has it (so throttling reveals nothing about registration).
pub fn email_key(raw: &str) -> String {
    hex::encode(sha2::Sha256::digest(raw.trim().to_lowercase().as_bytes()))
}

/// Reserves one login attempt for the email key: `None` when it may go ahead, else when
/// the account may be tried again. Counts as a failure until `login_succeeded`.
pub async fn login_attempt(t: &impl Tx, key: &str) -> Result<Option<DateTime<Utc>>, AppError> {
    Ok(t.tx()
        .query_one("SELECT auth_login_attempt($1)", &[&key])
        .await?
        .get(0))
}

/// The password was right: the account's failures are forgiven.
pub async fn login_succeeded(t: &impl Tx, key: &str) -> Result<(), AppError> {
    t.tx()
        .execute("SELECT auth_login_succeeded($1)", &[&key])
        .await?;
    Ok(())
}

/// Counts one `/v1/auth/*` request from `ip`: `None` within `limit` per minute, else
/// when the next minute opens.
pub async fn ip_request(
    t: &impl Tx,
    ip: IpAddr,
    limit: i32,
) -> Result<Option<DateTime<Utc>>, AppError> {
    Ok(t.tx()
        .query_one("SELECT auth_ip_request($1, $2)", &[&ip, &limit])
        .await?
        .get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_keys_the_same_however_it_is_typed() {
        assert_eq!(
            email_key(" Asha@Example.COM "),
            email_key("asha@example.com")
        );
        assert_ne!(
            email_key("asha@example.com"),
            email_key("asha2@example.com")
        );
        assert_eq!(email_key("x").len(), 64);
    }
}
