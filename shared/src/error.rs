//! One error type for every function, mapped once to `application/problem+json`
//! (RFC 9457). A 500 tells the client nothing about internals; the log gets the cause
//! together with the request id.

use chrono::{DateTime, Utc};
use lambda_http::http::StatusCode;
use serde::Serialize;

/// One offending input field of a validation failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field's path in the request (`email`, `targeting.age_min`, `limit`).
    pub field: String,
    /// Stable, machine-readable reason (`required`, `invalid_url`, …).
    pub code: &'static str,
    /// What is wrong, for a person.
    pub message: String,
}

impl FieldError {
    /// The error for `field`, with its code and message.
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// Everything a handler or a worker can fail with; each variant has one status and one
/// problem+json shape (see [`AppError::status`] and `shared::http`).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The body is not JSON, or not the JSON the endpoint reads (400); the parser's words.
    #[error("request body is not valid JSON: {0}")]
    MalformedBody(String),
    /// The body is larger than the endpoint reads (413).
    #[error("request body over {limit} bytes")]
    PayloadTooLarge {
        /// The most bytes the endpoint reads.
        limit: usize,
    },
    /// Input fields that are wrong, every one of them (422).
    #[error("validation failed: {0:?}")]
    Validation(Vec<FieldError>),
    /// No valid access token (401).
    #[error("unauthenticated: {detail}")]
    Unauthenticated {
        /// Stable code (`missing_token`, `invalid_token`, `invalid_credentials`, …).
        code: &'static str,
        /// What was wrong with the credentials.
        detail: &'static str,
    },
    /// No such resource for this user (404): someone else's looks the same as none.
    #[error("not found")]
    NotFound,
    /// The route exists but not with this method (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request contradicts the resource's current state (409).
    #[error("conflict: {detail}")]
    Conflict {
        /// Stable code naming the conflict.
        code: &'static str,
        /// What conflicts, for a person.
        detail: String,
    },
    /// The resource changed since the client (or this request) read it (412).
    #[error("precondition failed: {detail}")]
    PreconditionFailed {
        /// Stable code naming the precondition.
        code: &'static str,
        /// What changed, for a person.
        detail: String,
    },
    /// Another request is doing this right now (409): how far it got, and when to look
    /// again at the latest.
    #[error("in progress: {detail}")]
    InProgress {
        /// Stable code naming the operation.
        code: &'static str,
        /// What is running, for a person.
        detail: String,
        /// How far it got (the operation's own progress document).
        progress: serde_json::Value,
        /// When to look again.
        retry_at: DateTime<Utc>,
    },
    /// Well-formed input the platform cannot act on in this state (422), naming the field.
    #[error("unprocessable: {detail}")]
    Unprocessable {
        /// Stable code naming the reason.
        code: &'static str,
        /// The field the reason is about.
        field: &'static str,
        /// Why, for a person.
        detail: String,
    },
    /// Not enough credits left for what was asked (402).
    #[error("payment required: {detail}")]
    PaymentRequired {
        /// What was asked and what is left, for a person.
        detail: String,
        /// Credits left in the current period.
        credits_remaining: i32,
    },
    /// A limit per period was reached; it lifts at `retry_at` (429).
    #[error("rate limited: {detail}")]
    RateLimited {
        /// Stable code naming the limit.
        code: &'static str,
        /// Which limit, for a person.
        detail: String,
        /// When the limit lifts.
        retry_at: DateTime<Utc>,
    },
    /// A provider (Razorpay, Meta, Google) refused or failed; its message is passed on (502).
    #[error("{service} error: {detail}")]
    Upstream {
        /// The provider's name (`Meta`, `Razorpay`, `Stripe`, `Google`).
        service: &'static str,
        /// The provider's message.
        detail: String,
    },
    /// The database cannot be reached or is overloaded right now (503, `Retry-After`):
    /// nothing was done, and the same request can be sent again.
    #[error("unavailable: {cause}")]
    Unavailable {
        /// What failed, for the log only.
        cause: String,
        /// Seconds the client should wait (`Retry-After`).
        retry_after_seconds: u32,
    },
    /// Our fault (500): the cause goes to the log with the request id, never to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Seconds a client waits before retrying a request the database could not serve.
pub const UNAVAILABLE_RETRY_AFTER: u32 = 5;

impl AppError {
    /// A validation failure of one field.
    pub fn field(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, code, message)])
    }

    /// An internal error carrying `cause` to the log.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    /// The database could not serve the request now: retry after a few seconds.
    fn unavailable(cause: String) -> Self {
        Self::Unavailable {
            cause,
            retry_after_seconds: UNAVAILABLE_RETRY_AFTER,
        }
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MalformedBody(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } | Self::InProgress { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PaymentRequired { .. } => StatusCode::PAYMENT_REQUIRED,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Upstream { .. } => StatusCode::BAD_GATEWAY,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable, machine-readable code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedBody(_) => "malformed_body",
            Self::PayloadTooLarge { .. } => "body_too_large",
            Self::Validation(_) => "validation_failed",
            Self::Unauthenticated { code, .. } => code,
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict { code, .. }
            | Self::InProgress { code, .. }
            | Self::PreconditionFailed { code, .. } => code,
            Self::Unprocessable { code, .. } => code,
            Self::PaymentRequired { .. } => "insufficient_credits",
            Self::RateLimited { code, .. } => code,
            Self::Upstream { .. } => "upstream_error",
            Self::Unavailable { .. } => "temporarily_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::MalformedBody(_) => "The request body could not be read",
            Self::PayloadTooLarge { .. } => "The request body is too large",
            Self::Validation(_) => "The request is not valid",
            Self::Unauthenticated { .. } => "Authentication required",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::Conflict { .. } => "Conflict",
            Self::InProgress { .. } => "Already in progress",
            Self::PreconditionFailed { .. } => "Changed since it was read",
            Self::Unprocessable { .. } => "The request cannot be carried out",
            Self::PaymentRequired { .. } => "Not enough credits",
            Self::RateLimited { .. } => "Limit reached",
            Self::Upstream { .. } => "A provider refused the request",
            Self::Unavailable { .. } => "Temporarily unavailable",
            Self::Internal(_) => "Internal server error",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::MalformedBody(why) => format!("The body must be a JSON object: {why}"),
            Self::PayloadTooLarge { limit } => {
                format!("The body is over {} KiB; send at most that.", limit / 1024)
            }
            Self::Validation(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                format!("Invalid field(s): {}", fields.join(", "))
            }
            Self::Unauthenticated { detail, .. } => (*detail).to_owned(),
            Self::NotFound => "The resource does not exist.".to_owned(),
            Self::MethodNotAllowed => "This resource does not support that method.".to_owned(),
            Self::Conflict { detail, .. }
            | Self::InProgress { detail, .. }
            | Self::PreconditionFailed { detail, .. } => detail.clone(),
            Self::Unprocessable { detail, .. } => detail.clone(),
            Self::PaymentRequired { detail, .. } => detail.clone(),
            Self::RateLimited { detail, .. } => detail.clone(),
            Self::Upstream { service, detail } => format!("{service}: {detail}"),
            Self::Unavailable {
                retry_after_seconds,
                ..
            } => format!(
                "The service is busy or restarting; nothing was changed. Try again in {retry_after_seconds} seconds."
            ),
            Self::Internal(_) => {
                "Something went wrong on our side. Quote the request id if you contact support."
                    .to_owned()
            }
        }
    }

    /// The RFC 9457 problem document for this error.
    pub fn problem(&self, request_id: &str) -> Problem {
        Problem {
            r#type: format!(
                "https://adpilot.dev/problems/{}",
                self.code().replace('_', "-")
            ),
            title: self.title(),
            status: self.status().as_u16(),
            detail: self.detail(),
            code: self.code(),
            errors: match self {
                Self::Validation(errors) => Some(errors.clone()),
                Self::Unprocessable {
                    code,
                    field,
                    detail,
                } => Some(vec![FieldError::new(*field, code, detail.clone())]),
                _ => None,
            },
            credits_remaining: match self {
                Self::PaymentRequired {
                    credits_remaining, ..
                } => Some(*credits_remaining),
                _ => None,
            },
            retry_at: match self {
                Self::RateLimited { retry_at, .. } | Self::InProgress { retry_at, .. } => {
                    Some(*retry_at)
                }
                _ => None,
            },
            progress: match self {
                Self::InProgress { progress, .. } => Some(progress.clone()),
                _ => None,
            },
            request_id: request_id.to_owned(),
        }
    }
}

/// `application/problem+json` body (RFC 9457).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    pub r#type: String,
    /// The status's short name (`Not Found`).
    pub title: &'static str,
    /// The HTTP status, repeated in the body.
    pub status: u16,
    /// What went wrong with this request, for a person.
    pub detail: String,
    /// Stable, machine-readable code.
    pub code: &'static str,
    /// The offending fields, for validation failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// For 402: the credits left in the current period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credits_remaining: Option<i32>,
    /// For 429: when the limit lifts; for 409 in progress: when to look again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<DateTime<Utc>>,
    /// For 409 in progress: how far the running operation got.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub progress: Option<serde_json::Value>,
    /// API Gateway's id of the request, as in the logs.
    pub request_id: String,
}

impl From<crate::crypto::CryptoError> for AppError {
    /// A sealed token that does not open is our fault (a key missing or a row damaged).
    fn from(e: crate::crypto::CryptoError) -> Self {
        Self::Internal(format!("sealed token: {e}"))
    }
}

/// Whether a database error means "not now" (connection lost, server restarting or
/// out of connections, statement timed out) rather than a fault in the request.
fn is_transient(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    match e.as_db_error() {
        Some(db) => [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::TOO_MANY_CONNECTIONS,
            SqlState::QUERY_CANCELED,
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
        ]
        .contains(db.code()),
        // No answer from the server at all: the connection broke or never opened.
        None => {
            e.is_closed() || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
        }
    }
}

impl From<tokio_postgres::Error> for AppError {
    fn from(e: tokio_postgres::Error) -> Self {
        if is_transient(&e) {
            Self::unavailable(format!("database: {e}"))
        } else {
            Self::Internal(format!("database: {e:?}"))
        }
    }
}

impl From<deadpool_postgres::PoolError> for AppError {
    /// Every pool error (no connection in time, cannot connect, pool closed) means the
    /// database is out of reach right now.
    fn from(e: deadpool_postgres::PoolError) -> Self {
        Self::unavailable(format!("database pool: {e}"))
    }
}

/// The name of the unique constraint a database error violated, if that is what it is.
pub fn unique_violation(e: &tokio_postgres::Error) -> Option<&str> {
    let db = e.as_db_error()?;
    (db.code() == &tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
        .then(|| db.constraint().unwrap_or(""))
}
