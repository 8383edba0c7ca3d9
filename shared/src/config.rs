//! Configuration from the environment, read once at init. A missing variable fails the
//! init with an error naming it.

use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("missing required environment variable {0}")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// A required variable; empty counts as missing.
pub fn required(name: &'static str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ConfigError::Missing(name)),
    }
}

/// An optional variable parsed into `T`, with a default when unset.
pub fn parsed_or<T: FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => {
            v.trim().parse().map_err(|e: T::Err| ConfigError::Invalid {
                name,
                reason: e.to_string(),
            })
        }
        _ => Ok(default),
    }
}

/// Database settings for functions that serve users (the app role, RLS applies).
#[derive(Clone, Debug)]
pub struct DbConfig {
    pub database_url: String,
    pub pool_size: usize,
    pub statement_timeout_ms: u64,
}

impl DbConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            database_url: required("DATABASE_URL")?,
            pool_size: parsed_or("DATABASE_POOL_SIZE", 2)?,
            statement_timeout_ms: parsed_or("DATABASE_STATEMENT_TIMEOUT_MS", 5_000)?,
        })
    }

    /// The worker role's connection (`DATABASE_WORKER_URL`): webhooks and cross-tenant jobs.
    pub fn worker_from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            database_url: required("DATABASE_WORKER_URL")?,
            pool_size: parsed_or("DATABASE_POOL_SIZE", 2)?,
            statement_timeout_ms: parsed_or("DATABASE_STATEMENT_TIMEOUT_MS", 60_000)?,
        })
    }
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
