//! The asset routes, one module per resource.

pub mod download;
pub mod library;
pub mod uploads;
