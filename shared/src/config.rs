//! Configuration from the environment, read once at init. A missing variable fails the
//! init with an error naming it. A value fetched from AWS Secrets Manager at init (see
//! `secrets`) takes the place of the variable of the same name, which remains only as
//! the local fallback.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::OnceLock;

static SECRETS: OnceLock<HashMap<String, String>> = OnceLock::new();

/// Makes `values` (name → secret) the source of those names for this process; called
/// once at init, before any configuration is read. A second call changes nothing.
pub fn provide_secrets(values: HashMap<String, String>) {
    let _ = SECRETS.set(values);
}

/// A variable's value: from Secrets Manager when it was fetched, else the environment.
fn lookup(name: &str) -> Option<String> {
    SECRETS
        .get()
        .and_then(|s| s.get(name).cloned())
        .or_else(|| std::env::var(name).ok())
}

/// An optional variable; empty counts as unset.
pub fn optional(name: &'static str) -> Option<String> {
    lookup(name).filter(|v| !v.trim().is_empty())
}

/// Why a function cannot start: its configuration is missing or wrong (an init error).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is unset or empty; its name.
    #[error("missing required environment variable {0}")]
    Missing(&'static str),
    /// A variable is set but unusable.
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
    /// A secret the template names (`SECRET_ARN_<NAME>`) cannot be read.
    #[error("the secret for {name} cannot be read: {reason}")]
    Secret {
        /// The variable the secret stands for.
        name: String,
        /// Secrets Manager's answer.
        reason: String,
    },
}

/// A variable, or `default` when it is unset or empty (provider base URLs, host lists).
pub fn or_default(name: &'static str, default: &str) -> String {
    optional(name).unwrap_or_else(|| default.to_owned())
}

/// A required variable; empty counts as missing.
pub fn required(name: &'static str) -> Result<String, ConfigError> {
    optional(name).ok_or(ConfigError::Missing(name))
}

/// An optional variable parsed into `T`, with a default when unset.
pub fn parsed_or<T: FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match optional(name) {
        Some(v) => v.trim().parse().map_err(|e: T::Err| ConfigError::Invalid {
            name,
            reason: e.to_string(),
        }),
        None => Ok(default),
    }
}

/// Database settings for functions that serve users (the app role, RLS applies).
#[derive(Clone, Debug)]
pub struct DbConfig {
    /// Without the password in AWS: that comes from its secret.
    pub database_url: String,
    /// Overrides the URL's password (`DATABASE_PASSWORD`, `DATABASE_WORKER_PASSWORD`).
    pub password: Option<String>,
    /// Connections per process (`DATABASE_POOL_SIZE`, default 2).
    pub pool_size: usize,
    /// The server cancels a statement after this long (`DATABASE_STATEMENT_TIMEOUT_MS`).
    pub statement_timeout_ms: u64,
}

impl DbConfig {
    /// The app role's connection (`DATABASE_URL`, `DATABASE_PASSWORD`); statements time out after 5 s.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            database_url: required("DATABASE_URL")?,
            password: optional("DATABASE_PASSWORD"),
            pool_size: parsed_or("DATABASE_POOL_SIZE", 2)?,
            statement_timeout_ms: parsed_or("DATABASE_STATEMENT_TIMEOUT_MS", 5_000)?,
        })
    }

    /// The worker role's connection (`DATABASE_WORKER_URL`): webhooks and cross-tenant jobs.
    pub fn worker_from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            database_url: required("DATABASE_WORKER_URL")?,
            password: optional("DATABASE_WORKER_PASSWORD"),
            pool_size: parsed_or("DATABASE_POOL_SIZE", 2)?,
            statement_timeout_ms: parsed_or("DATABASE_STATEMENT_TIMEOUT_MS", 60_000)?,
        })
    }
}

/// The owner's connection URL for migrations: `DATABASE_OWNER_URL`, with the password
/// from `DATABASE_OWNER_PASSWORD` (its secret in AWS) when that is set.
pub fn owner_url_from_env() -> Result<String, ConfigError> {
    let base = required("DATABASE_OWNER_URL")?;
    let Some(password) = optional("DATABASE_OWNER_PASSWORD") else {
        return Ok(base);
    };
    let invalid = |reason: String| ConfigError::Invalid {
        name: "DATABASE_OWNER_URL",
        reason,
    };
    let mut url = url::Url::parse(&base).map_err(|e| invalid(e.to_string()))?;
    url.set_password(Some(&password))
        .map_err(|()| invalid("cannot carry a password".into()))?;
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_variable_is_named_in_the_error() {
        let err = required("ADPILOT_SURELY_UNSET_VARIABLE").unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing required environment variable ADPILOT_SURELY_UNSET_VARIABLE"
        );
    }

    #[test]
    fn an_unset_optional_variable_takes_its_default() {
        assert_eq!(parsed_or("ADPILOT_SURELY_UNSET_VARIABLE", 7u32).unwrap(), 7);
    }
}
