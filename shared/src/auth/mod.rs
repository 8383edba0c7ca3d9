//! Authentication: short-lived HS256 access tokens, argon2id password hashes, opaque
//! rotating refresh tokens, and the bearer check every HTTP function runs first.

pub mod jwt;
mod jwt_hmac;
pub mod password;
pub mod refresh;

pub use jwt::{AccessTokens, authenticate};
