//! The meta-accounts routes: connecting, listing, revoking.

pub mod accounts;
pub mod connect;
pub mod revoke;
