//! Encryption at rest for third-party tokens (Meta access tokens): AES-256-GCM under a
//! key id, so keys can rotate. `TOKEN_ENCRYPTION_KEYS` is `id:base64key[,id:base64key…]`,
//! newest first: new values are sealed with the first key, old ones open with theirs.
//! Sealed form: `v2:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`. The associated data
//! binds the key id and the row the value belongs to (for a Meta token, its user and Meta
//! account), so a value can be neither relabelled to another key nor copied into another
//! row: it opens only where it was sealed. Values sealed before binding
//! (`<key id>:<base64>`, key id only as associated data) still open, and `needs_rotation`
//! marks them, so maintenance re-seals them bound.

use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::config::{ConfigError, required};

const NONCE_LEN: usize = 12;
const BOUND: &str = "v2";

/// A sealed value as stored, with the row it is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// `v2:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`, as stored.
    pub value: String,
    /// What the value was sealed for, e.g. `meta_accounts:<user id>:<meta user id>`.
    pub bound_to: String,
}

impl Sealed {
    /// A revoked connection stores no token.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}

/// The associated data of a bound value.
fn bound_aad(key_id: &str, bound_to: &str) -> Vec<u8> {
    format!("{BOUND}\0{key_id}\0{bound_to}").into_bytes()
}

/// Why a sealed value does not open.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// Not shaped like a sealed value.
    #[error("sealed value is malformed")]
    Malformed,
    /// Sealed with a key this process does not hold; its id.
    #[error("no key with id {0}")]
    UnknownKey(String),
    /// Changed since it was sealed, or sealed for another row.
    #[error("sealed value failed authentication")]
    Tampered,
}

/// AES-256-GCM with key rotation: seals with the first key, opens with any.
pub struct TokenCipher {
    keys: Vec<(String, Aes256Gcm)>,
}

impl TokenCipher {
    /// The keys in `TOKEN_ENCRYPTION_KEYS`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::parse(&required("TOKEN_ENCRYPTION_KEYS")?).map_err(|reason| ConfigError::Invalid {
            name: "TOKEN_ENCRYPTION_KEYS",
            reason,
        })
    }

    /// Keys from `id:base64key[,id:base64key…]`, newest (sealing) first; or why not.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let keys = spec
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|entry| {
                let (id, b64) = entry.split_once(':').ok_or("each key must be id:base64")?;
                let bytes = STANDARD
                    .decode(b64)
                    .map_err(|_| format!("key {id} is not base64"))?;
                let key = Key::<Aes256Gcm>::try_from(bytes.as_slice())
                    .map_err(|_| format!("key {id} must be 32 bytes"))?;
                Ok((id.to_owned(), Aes256Gcm::new(&key)))
            })
            .collect::<Result<Vec<_>, String>>()?;
        if keys.is_empty() {
            return Err("at least one key is required".into());
        }
        Ok(Self { keys })
    }

    /// The id of the key new values are sealed with.
    pub fn current_key_id(&self) -> &str {
        &self.keys[0].0
    }

    /// Seals `plaintext` for the row `bound_to` under the newest key.
    pub fn seal(&self, plaintext: &str, bound_to: &str) -> String {
        let id = self.current_key_id();
        format!(
            "{BOUND}:{id}:{}",
            self.encrypt(plaintext, &bound_aad(id, bound_to))
        )
    }

    /// Seals the way values were sealed before binding (key id only as associated data),
    /// for tests of re-sealing them.
    #[cfg(any(test, feature = "testing"))]
    pub fn seal_unbound(&self, plaintext: &str) -> String {
        let id = self.current_key_id();
        format!("{id}:{}", self.encrypt(plaintext, id.as_bytes()))
    }

    /// base64(nonce ‖ ciphertext ‖ tag) under the newest key.
    fn encrypt(&self, plaintext: &str, aad: &[u8]) -> String {
        let nonce = Nonce::generate();
        let sealed = self.keys[0]
            .1
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad,
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        STANDARD.encode([nonce.to_vec(), sealed].concat())
    }

    /// Opens a value in the row it was sealed for; anywhere else it is `Tampered`.
    pub fn open(&self, sealed: &Sealed) -> Result<String, CryptoError> {
        match sealed.value.split(':').collect::<Vec<_>>()[..] {
            [BOUND, id, b64] => self.decrypt(id, b64, &bound_aad(id, &sealed.bound_to)),
            [id, b64] => self.decrypt(id, b64, id.as_bytes()),
            _ => Err(CryptoError::Malformed),
        }
    }

    fn decrypt(&self, id: &str, b64: &str, aad: &[u8]) -> Result<String, CryptoError> {
        let cipher = self
            .keys
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, c)| c)
            .ok_or_else(|| CryptoError::UnknownKey(id.to_owned()))?;
        let bytes = STANDARD.decode(b64).map_err(|_| CryptoError::Malformed)?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(CryptoError::Malformed);
        }
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| CryptoError::Malformed)?;
        let plain = cipher
            .decrypt(&nonce, Payload { msg: body, aad })
            .map_err(|_| CryptoError::Tampered)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Malformed)
    }

    /// Whether a sealed value should be re-sealed: under an older key, or not bound.
    pub fn needs_rotation(&self, sealed: &str) -> bool {
        match sealed.split(':').collect::<Vec<_>>()[..] {
            [BOUND, id, _] => id != self.current_key_id(),
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const K2: &str = "k2:HxwdHhscGxoZGBcWFRQTEhEQDw4NDAsKCQgHBgUEAwI=";

    const ROW: &str = "meta_accounts:u1:m1";

    fn at(value: &str, bound_to: &str) -> Sealed {
        Sealed {
            value: value.to_owned(),
            bound_to: bound_to.to_owned(),
        }
    }

    #[test]
    fn sealed_values_open_and_hide_the_plaintext() {
        let c = TokenCipher::parse(K1).unwrap();
        let sealed = c.seal("EAAB-secret-token", ROW);
        assert!(sealed.starts_with("v2:k1:"));
        assert!(!sealed.contains("secret"));
        assert_ne!(
            sealed,
            c.seal("EAAB-secret-token", ROW),
            "nonces must differ"
        );
        assert_eq!(c.open(&at(&sealed, ROW)).unwrap(), "EAAB-secret-token");
    }

    #[test]
    fn a_value_copied_into_another_row_does_not_open() {
        let c = TokenCipher::parse(K1).unwrap();
        let sealed = c.seal("victim-token", "meta_accounts:victim:m1");
        for elsewhere in ["meta_accounts:attacker:m9", "meta_accounts:victim:m2", ""] {
            assert_eq!(
                c.open(&at(&sealed, elsewhere)).unwrap_err(),
                CryptoError::Tampered
            );
        }
    }

    #[test]
    fn old_keys_still_open_after_rotation() {
        let old = TokenCipher::parse(K1).unwrap().seal("token", ROW);
        let rotated = TokenCipher::parse(&format!("{K2},{K1}")).unwrap();
        assert_eq!(rotated.open(&at(&old, ROW)).unwrap(), "token");
        assert!(rotated.needs_rotation(&old));
        assert!(!rotated.needs_rotation(&rotated.seal("token", ROW)));
    }

    #[test]
    fn values_sealed_before_binding_open_and_are_marked_for_resealing() {
        let c = TokenCipher::parse(K1).unwrap();
        let legacy = c.seal_unbound("token");
        assert_eq!(c.open(&at(&legacy, ROW)).unwrap(), "token");
        assert!(c.needs_rotation(&legacy), "current key, but unbound");
    }

    #[test]
    fn tampering_and_relabelling_are_detected() {
        let c = TokenCipher::parse(&format!("{K1},{K2}")).unwrap();
        let sealed = c.seal("token", ROW);
        let relabelled = sealed.replacen("v2:k1:", "v2:k2:", 1);
        assert_eq!(
            c.open(&at(&relabelled, ROW)).unwrap_err(),
            CryptoError::Tampered
        );
        let unbound = sealed.replacen("v2:", "", 1);
        assert_eq!(
            c.open(&at(&unbound, ROW)).unwrap_err(),
            CryptoError::Tampered,
            "no downgrade"
        );
        let mut bytes = STANDARD.decode(&sealed[6..]).unwrap();
        bytes[20] ^= 1;
        let flipped = format!("v2:k1:{}", STANDARD.encode(bytes));
        assert_eq!(
            c.open(&at(&flipped, ROW)).unwrap_err(),
            CryptoError::Tampered
        );
        assert!(matches!(
            c.open(&at("k9:AAAA", ROW)),
            Err(CryptoError::UnknownKey(_))
        ));
        assert_eq!(
            c.open(&at("a:b:c:d", ROW)).unwrap_err(),
            CryptoError::Malformed
        );
    }

    #[test]
    fn bad_key_specs_are_refused() {
        assert!(TokenCipher::parse("").is_err());
        assert!(TokenCipher::parse("k1:c2hvcnQ=").is_err());
        assert!(TokenCipher::parse("nocolon").is_err());
    }
}
