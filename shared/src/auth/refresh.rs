//! Refresh tokens: opaque, random, stored only as a SHA-256 hash. A token names its
//! user (`<user id>.<secret>`) so it can be looked up inside that user's tenant
//! transaction; the secret part is what makes it unguessable.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::UserId;

/// A long-lived refresh token: the user's id (so a lookup needs no scan) and 32 random bytes.
/// Only its SHA-256 is stored.
pub struct RefreshToken {
    /// Whose token it is.
    pub user: UserId,
    /// The token as the client holds it: `<user id>.<base64url secret>`.
    pub token: String,
}

impl RefreshToken {
    /// A new token for `user`.
    pub fn generate(user: UserId) -> Self {
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        Self {
            user,
            token: format!("{}.{}", user.0.simple(), URL_SAFE_NO_PAD.encode(secret)),
        }
    }

    /// Reads a token presented by a client; `None` when it is not shaped like ours.
    pub fn parse(token: &str) -> Option<Self> {
        let (user, secret) = token.split_once('.')?;
        let user = Uuid::try_parse(user).ok()?;
        (URL_SAFE_NO_PAD.decode(secret).ok()?.len() == 32).then(|| Self {
            user: UserId(user),
            token: token.to_owned(),
        })
    }

    /// The SHA-256 of the token, as stored.
    pub fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.token.as_bytes()).to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_parses_back_to_its_user() {
        let user = UserId::new();
        let t = RefreshToken::generate(user);
        let parsed = RefreshToken::parse(&t.token).unwrap();
        assert_eq!(parsed.user, user);
        assert_eq!(parsed.hash(), t.hash());
    }

    #[test]
    fn tokens_are_unique_and_garbage_is_rejected() {
        let user = UserId::new();
        assert_ne!(
            RefreshToken::generate(user).token,
            RefreshToken::generate(user).token
        );
        for bad in [
            "",
            "abc",
            "not-a-uuid.AAAA",
            &format!("{}.short", user.0.simple()),
        ] {
            assert!(RefreshToken::parse(bad).is_none(), "{bad:?}");
        }
    }
}
