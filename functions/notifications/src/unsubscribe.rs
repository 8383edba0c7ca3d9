//! Unsubscribe links that work without a login: a token naming the user and the category,
//! signed with a key derived from `JWT_SECRET` (HMAC-SHA256 with its own label, so it can
//! never pass for an access token). It does one thing: turn that category's email off.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};
use shared::domain::notification::Category;
use uuid::Uuid;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
}

impl Signer {
    pub fn new(jwt_secret: &[u8]) -> Self {
        let mut mac = HmacSha256::new_from_slice(jwt_secret).expect("any key length");
        mac.update(b"adpilot unsubscribe links v1");
        Self {
            key: mac.finalize().into_bytes().to_vec(),
        }
    }

    pub fn from_env() -> Result<Self, shared::config::ConfigError> {
        Ok(Self::new(
            shared::config::required("JWT_SECRET")?.as_bytes(),
        ))
    }

    fn mac(&self, user: Uuid, c: Category) -> Vec<u8> {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("any key length");
        mac.update(format!("{user}\0{}", c.as_str()).as_bytes());
        mac.finalize().into_bytes()[..16].to_vec()
    }

    pub fn token(&self, user: Uuid, c: Category) -> String {
        let mut raw = user.as_bytes().to_vec();
        raw.extend_from_slice(c.as_str().as_bytes());
        raw.push(0);
        raw.extend(self.mac(user, c));
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// The user and category a token names, if it is ours and unaltered.
    pub fn verify(&self, token: &str) -> Option<(Uuid, Category)> {
        let raw = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        let user = Uuid::from_slice(raw.get(..16)?).ok()?;
        let rest = raw.get(16..)?;
        let nul = rest.iter().position(|b| *b == 0)?;
        let c = Category::parse(std::str::from_utf8(&rest[..nul]).ok()?)?;
        let sig = &rest[nul + 1..];
        shared::signature::constant_time_eq(sig, &self.mac(user, c)).then_some((user, c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_user_and_category_and_any_change_breaks_it() {
        let s = Signer::new(b"a-test-secret-that-is-long-enough-123");
        let user = Uuid::new_v4();
        let t = s.token(user, Category::Generation);
        assert_eq!(s.verify(&t), Some((user, Category::Generation)));
        let other = Signer::new(b"another-secret-that-is-long-enough-45");
        assert_eq!(other.verify(&t), None);
        let mut raw = URL_SAFE_NO_PAD.decode(&t).unwrap();
        raw[3] ^= 1;
        assert_eq!(s.verify(&URL_SAFE_NO_PAD.encode(raw)), None, "another user");
        assert_eq!(s.verify("not-a-token"), None);
    }
}
