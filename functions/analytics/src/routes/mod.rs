//! The analytics routes.

pub mod params;
pub mod performance;
pub mod summary;
