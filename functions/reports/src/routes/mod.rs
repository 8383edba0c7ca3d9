//! The reports API's handlers.

pub mod reports;
