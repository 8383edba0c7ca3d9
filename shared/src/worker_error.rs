//! The error of queue workers, schedules and event handlers: what the work should do
//! next, not an HTTP status. Repositories answer `AppError` (they serve handlers too);
//! `?` turns it into a `WorkerError` at the worker's edge, so a worker matches on
//! "the account is gone" instead of on a 401.

use crate::error::AppError;

/// Why a worker's step did not finish.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The user's account was deleted or deactivated: there is nothing left to do for
    /// it, and retrying would not change that.
    #[error("the account is gone")]
    AccountGone,
    /// The database (or another dependency) cannot serve right now; the same step can
    /// run again later unchanged.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a refusal, bad stored data or a bug; the message is for the log.
    #[error("{0}")]
    Failed(String),
}

impl WorkerError {
    /// A failure described by `why`.
    pub fn failed(why: impl std::fmt::Display) -> Self {
        Self::Failed(why.to_string())
    }
}

impl From<AppError> for WorkerError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Unauthenticated {
                code: "account_inactive",
                ..
            } => Self::AccountGone,
            AppError::Unavailable { cause, .. } => Self::Unavailable(cause),
            AppError::Internal(cause) => Self::Failed(cause),
            other => Self::Failed(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::ACCOUNT_INACTIVE;

    #[test]
    fn a_gone_account_is_its_own_case_and_other_401s_are_failures() {
        assert!(matches!(
            WorkerError::from(ACCOUNT_INACTIVE),
            WorkerError::AccountGone
        ));
        let other = AppError::Unauthenticated {
            code: "invalid_token",
            detail: "bad",
        };
        assert!(matches!(WorkerError::from(other), WorkerError::Failed(_)));
    }

    #[test]
    fn an_unavailable_database_stays_retryable_and_keeps_its_cause() {
        let e = WorkerError::from(AppError::Unavailable {
            cause: "pool timed out".into(),
            retry_after_seconds: 5,
        });
        assert_eq!(e.to_string(), "unavailable: pool timed out");
    }

    #[test]
    fn an_internal_error_keeps_its_cause_for_the_log() {
        let e = WorkerError::from(AppError::internal("insights row: bad date"));
        assert_eq!(e.to_string(), "insights row: bad date");
    }
}
