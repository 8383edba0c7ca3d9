//! What the API answers: the response bodies and their OpenAPI schemas, each made from
//! a repository row by `From`, so a row can change without changing the wire, and the
//! repositories know nothing of HTTP or OpenAPI.

pub mod analytics;
pub mod assets;
pub mod campaigns;
pub mod creative_results;
pub mod jobs;
pub mod meta_accounts;
pub mod notifications;
pub mod profiles;
pub mod subscriptions;
pub mod system_config;
pub mod usage;
pub mod users;
