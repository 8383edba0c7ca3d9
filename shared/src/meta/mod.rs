//! Meta (Facebook/Instagram) Marketing API: the one Graph client, the signed OAuth
//! `state` that binds a login to the user who started it, and what the functions share
//! about tokens.

pub mod graph;
pub mod oauth_state;

pub use graph::{ErrorKind, Graph, GraphError, Reply, Usage};
