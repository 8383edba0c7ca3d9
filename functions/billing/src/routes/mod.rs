//! The billing routes, one module per resource.

pub mod checkout;
pub mod plans;
pub mod subscription;
pub mod usage;
