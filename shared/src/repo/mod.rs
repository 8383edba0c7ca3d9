//! Repositories: the SQL for each table lives here, next to the row types it returns.
//! Handlers call these with a tenant (or worker) transaction and never write SQL.

pub mod refresh_tokens;
pub mod retention;
pub mod subscriptions;
pub mod system_config;
pub mod users;
