//! Repositories: the SQL for each table lives here, next to the row types it returns.
//! Handlers call these with a tenant (or worker) transaction and never write SQL.

pub mod analytics;
pub mod assets;
pub mod billing_events;
pub mod campaigns;
pub mod creative_results;
pub mod credits;
pub mod customers;
pub mod generations;
pub mod insights;
pub mod jobs;
pub mod meta_accounts;
pub mod meta_events;
pub mod notifications;
pub mod optimization_logs;
pub mod optimizer_facts;
pub mod optimizer_runs;
pub mod outbox;
pub mod profiles;
pub mod refresh_tokens;
pub mod report_figures;
pub mod reports;
pub mod retention;
pub mod rules;
pub mod sql;
pub mod subscriptions;
pub mod system_config;
pub mod throttle;
pub mod usage;
pub mod users;
