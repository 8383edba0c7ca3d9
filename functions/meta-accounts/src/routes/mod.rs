//! The meta-accounts routes: connecting, listing, the optimizer's budget ceiling per ad account, revoking.

pub mod accounts;
pub mod budget_cap;
pub mod connect;
pub mod revoke;
