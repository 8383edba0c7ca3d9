//! Access tokens: JWT, HS256 with the secret from `JWT_SECRET`, a few minutes long.

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use lambda_http::Request;
use lambda_http::http::header::AUTHORIZATION;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::{ConfigError, parsed_or, required};
use crate::domain::UserId;
use crate::error::AppError;

const ISSUER: &str = "adpilot";
const AUDIENCE: &str = "adpilot-api";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
}

/// Issues and verifies access tokens.
#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_seconds: i64,
}

impl AccessTokens {
    /// Tokens signed with `secret` (HS256), valid for `ttl_seconds`.
    pub fn new(secret: &[u8], ttl_seconds: i64) -> Self {
        super::jwt_hmac::install();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_seconds,
        }
    }

    /// `JWT_SECRET` (at least 32 bytes) and `ACCESS_TOKEN_TTL_SECONDS` (default 900).
    pub fn from_env() -> Result<Self, ConfigError> {
        let secret = required("JWT_SECRET")?;
        if secret.len() < 32 {
            return Err(ConfigError::Invalid {
                name: "JWT_SECRET",
                reason: "must be at least 32 bytes".into(),
            });
        }
        Ok(Self::new(
            secret.as_bytes(),
            parsed_or("ACCESS_TOKEN_TTL_SECONDS", 900)?,
        ))
    }

    /// How long an access token lives, in seconds.
    pub fn ttl_seconds(&self) -> i64 {
        self.ttl_seconds
    }

    /// A signed access token for `user`, expiring after the TTL.
    pub fn issue(&self, user: UserId) -> Result<String, AppError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user.0,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + self.ttl_seconds,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(AppError::internal)
    }

    /// The user a token was issued to; a bad signature, issuer, audience or an expired token is 401.
    pub fn verify(&self, token: &str) -> Result<UserId, AppError> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| UserId(data.claims.sub))
            .map_err(|_| AppError::Unauthenticated {
                code: "invalid_token",
                detail: "The access token is invalid or has expired.",
            })
    }
}

/// The user a request acts for, from its `Authorization: Bearer` header.
pub fn authenticate(req: &Request, tokens: &AccessTokens) -> Result<UserId, AppError> {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let token = header
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(AppError::Unauthenticated {
            code: "missing_token",
            detail: "Send an access token in the Authorization header: Bearer <token>.",
        })?;
    tokens.verify(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(ttl: i64) -> AccessTokens {
        AccessTokens::new(b"a-test-secret-that-is-long-enough-123", ttl)
    }

    #[test]
    fn a_token_verifies_to_its_user() {
        let user = UserId::new();
        let t = tokens(60);
        assert_eq!(t.verify(&t.issue(user).unwrap()).unwrap(), user);
    }

    #[test]
    fn an_expired_token_is_refused() {
        let t = tokens(-60);
        let token = t.issue(UserId::new()).unwrap();
        assert_eq!(t.verify(&token).unwrap_err().code(), "invalid_token");
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let other = AccessTokens::new(b"another-secret-that-is-long-enough-456", 60);
        let token = other.issue(UserId::new()).unwrap();
        assert!(tokens(60).verify(&token).is_err());
    }
}
