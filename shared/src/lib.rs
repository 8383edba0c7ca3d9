//! Adpilot's shared crate: everything the Lambda functions have in common — configuration,
//! the Postgres pool and tenant transactions, repositories, API response types, domain
//! types, errors mapped to problem+json, and authentication.
//!
//! Every public item is documented; `repo`, marked `allow(missing_docs)` below, is the
//! one module not yet done.

#![warn(missing_docs)]

pub mod api;
pub mod auth;
#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "billing")]
pub mod billing;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
#[cfg(feature = "media")]
pub mod media;
pub mod messages;
#[cfg(feature = "meta")]
pub mod meta;
#[cfg(feature = "outbound")]
pub mod outbound;
pub mod paging;
#[allow(missing_docs)]
pub mod repo;
pub mod rules;
#[cfg(feature = "secrets")]
pub mod secrets;
pub mod signature;
pub mod telemetry;
pub mod tls;
pub mod webfetch;
pub mod worker_error;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::{AppError, FieldError};
pub use worker_error::WorkerError;
