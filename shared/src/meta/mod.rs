//! Meta (Facebook/Instagram) Marketing API: the one Graph client, the signed OAuth
//! `state` that binds a login to the user who started it, and what the functions share
//! about tokens.

pub mod ads;
pub mod graph;
pub mod oauth_state;
pub mod pages;
pub mod reads;

pub use graph::{ErrorKind, Graph, GraphError, Reply, Usage};

/// Calls one insights sync of an ad account makes at least (one per pull: no
/// breakdown, placement, age and gender, region, hourly, the ads' review, their own
/// results, the ad sets' learning stage and the campaigns' reach per window); the hourly
/// budget must fit it.
pub const CALLS_PER_SYNC: i32 = 9;
