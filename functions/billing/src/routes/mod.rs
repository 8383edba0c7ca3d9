//! The billing routes, one module per resource.

pub mod plans;
pub mod subscription;
pub mod usage;
