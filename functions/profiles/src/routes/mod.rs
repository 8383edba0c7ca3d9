//! The profile routes, one module per resource.

pub mod analysis;
pub mod brand;
pub mod business;
