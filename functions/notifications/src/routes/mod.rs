//! The notifications function's HTTP handlers, one module per resource.

pub mod feed;
pub mod preferences;
pub mod unsubscribe;
