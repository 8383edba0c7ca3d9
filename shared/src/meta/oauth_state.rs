//! The `state` of a Facebook Login: `<base64url(user id ‖ expiry ‖ nonce)>.<hex
//! HMAC-SHA256>` under the JWT secret. It names the user who started the login, expires
//! after ten minutes, and cannot be forged or moved to another user. The callback is
//! completed by a signed-in user who must be that user, and each state is used once
//! (`state_hash` is what `meta_oauth_states` remembers).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, TimeZone, Utc};
use uuid::Uuid;

use crate::domain::UserId;
use crate::signature::{hmac_sha256_hex, verify_hmac_sha256_hex};

/// How long a login's state is accepted.
pub const TTL_MINUTES: i64 = 10;

/// A state for `user`, valid until `now + TTL_MINUTES`.
pub fn issue(secret: &[u8], user: UserId, now: DateTime<Utc>) -> (String, DateTime<Utc>) {
    let expires = now + Duration::minutes(TTL_MINUTES);
    let mut raw = user.0.as_bytes().to_vec();
    raw.extend_from_slice(&expires.timestamp().to_be_bytes());
    raw.extend_from_slice(&rand::random::<[u8; 8]>());
    let payload = URL_SAFE_NO_PAD.encode(raw);
    let mac = hmac_sha256_hex(secret, format!("meta-oauth-state:{payload}").as_bytes());
    (format!("{payload}.{mac}"), expires)
}

#[derive(Debug, PartialEq, Eq)]
/// Why a state is refused.
pub enum StateError {
    /// Not one we issued (bad shape or signature).
    Invalid,
    /// Ours, but older than `TTL_MINUTES`.
    Expired,
}

/// What an authentic, unexpired state says.
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    /// The user who started the login.
    pub user: UserId,
    /// When the state stops being accepted.
    pub expires: DateTime<Utc>,
}

/// The SHA-256 (hex) of a state, the key that makes it single-use.
pub fn state_hash(state: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(state.as_bytes()))
}

/// The user a state was issued to, if it is authentic and not expired.
pub fn verify(secret: &[u8], state: &str, now: DateTime<Utc>) -> Result<Verified, StateError> {
    let (payload, mac) = state.split_once('.').ok_or(StateError::Invalid)?;
    if !verify_hmac_sha256_hex(
        secret,
        format!("meta-oauth-state:{payload}").as_bytes(),
        mac,
    ) {
        return Err(StateError::Invalid);
    }
    let raw = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| StateError::Invalid)?;
    if raw.len() != 32 {
        return Err(StateError::Invalid);
    }
    let user = Uuid::from_slice(&raw[..16]).map_err(|_| StateError::Invalid)?;
    let expires = i64::from_be_bytes(raw[16..24].try_into().map_err(|_| StateError::Invalid)?);
    let expires = Utc
        .timestamp_opt(expires, 0)
        .single()
        .ok_or(StateError::Invalid)?;
    if now > expires {
        return Err(StateError::Expired);
    }
    Ok(Verified {
        user: UserId(user),
        expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_names_its_user_until_it_expires() {
        let user = UserId::new();
        let now = Utc::now();
        let (state, expires) = issue(b"secret", user, now);
        assert_eq!(expires, now + Duration::minutes(10));
        assert_eq!(
            verify(b"secret", &state, now),
            Ok(Verified {
                user,
                expires: Utc.timestamp_opt(expires.timestamp(), 0).unwrap()
            })
        );
        assert_eq!(state_hash(&state).len(), 64);
        assert_eq!(
            verify(b"secret", &state, now + Duration::minutes(11)),
            Err(StateError::Expired)
        );
        assert_eq!(verify(b"other", &state, now), Err(StateError::Invalid));
        let (other, _) = issue(b"secret", UserId::new(), now);
        let forged = format!(
            "{}.{}",
            other.split('.').next().unwrap(),
            state.split('.').nth(1).unwrap()
        );
        assert_eq!(verify(b"secret", &forged, now), Err(StateError::Invalid));
        assert_eq!(verify(b"secret", "garbage", now), Err(StateError::Invalid));
    }
}
