//! The rules API's handlers.

pub mod optimizations;
pub mod preview;
pub mod revert;
pub mod rules;
