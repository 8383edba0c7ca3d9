//! Campaigns on Meta: launching (`launch`), keeping a launched campaign the same there
//! as here (`lifecycle`), and Meta's delivery estimate before spending (`estimate`). Meta always changes first; our row
//! follows Meta's answer, so what the user sees is what is spending.

pub mod estimate;
pub mod launch;
pub mod lifecycle;

use chrono::Utc;
use shared::error::AppError;
use shared::meta::{ErrorKind, GraphError};

/// The outbox topic of the sync worker's queue.
pub const META_SYNC_TOPIC: &str = "meta-sync";

/// A Meta failure as the API answers it.
pub fn meta_error(e: GraphError) -> AppError {
    match e.kind {
        ErrorKind::RateLimited => AppError::RateLimited {
            code: "meta_rate_limited",
            detail: format!("Meta asks us to slow down: {}", e.message),
            retry_at: Utc::now() + chrono::Duration::minutes(5),
        },
        ErrorKind::TokenInvalid => AppError::Conflict {
            code: "meta_reconnect_required",
            detail: format!(
                "Meta no longer accepts this connection ({}). Connect your account again.",
                e.message
            ),
        },
        _ => AppError::Upstream {
            service: "Meta",
            detail: e.message,
        },
    }
}
