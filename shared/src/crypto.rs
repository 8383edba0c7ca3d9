//! Encryption at rest for third-party tokens (Meta access tokens): AES-256-GCM under a
//! key id, so keys can rotate. `TOKEN_ENCRYPTION_KEYS` is `id:base64key[,id:base64key…]`,
//! newest first: new values are sealed with the first key, old ones open with theirs.
//! Sealed form: `<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`, with the key id as
//! associated data so a value cannot be relabelled to another key.

use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::config::{ConfigError, required};

const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("sealed value is malformed")]
    Malformed,
    #[error("no key with id {0}")]
    UnknownKey(String),
    #[error("sealed value failed authentication")]
    Tampered,
}

pub struct TokenCipher {
    keys: Vec<(String, Aes256Gcm)>,
}

impl TokenCipher {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::parse(&required("TOKEN_ENCRYPTION_KEYS")?).map_err(|reason| ConfigError::Invalid {
            name: "TOKEN_ENCRYPTION_KEYS",
            reason,
        })
    }

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

    pub fn seal(&self, plaintext: &str) -> String {
        let (id, cipher) = &self.keys[0];
        let nonce = Nonce::generate();
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: id.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{id}:{}", STANDARD.encode(out))
    }

    pub fn open(&self, sealed: &str) -> Result<String, CryptoError> {
        let (id, b64) = sealed.split_once(':').ok_or(CryptoError::Malformed)?;
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
            .decrypt(
                &nonce,
                Payload {
                    msg: body,
                    aad: id.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Tampered)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Malformed)
    }

    /// Whether a sealed value should be re-sealed under the current key.
    pub fn needs_rotation(&self, sealed: &str) -> bool {
        sealed
            .split_once(':')
            .is_none_or(|(id, _)| id != self.current_key_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const K2: &str = "k2:HxwdHhscGxoZGBcWFRQTEhEQDw4NDAsKCQgHBgUEAwI=";

    #[test]
    fn sealed_values_open_and_hide_the_plaintext() {
        let c = TokenCipher::parse(K1).unwrap();
        let sealed = c.seal("EAAB-secret-token");
        assert!(sealed.starts_with("k1:"));
        assert!(!sealed.contains("secret"));
        assert_ne!(sealed, c.seal("EAAB-secret-token"), "nonces must differ");
        assert_eq!(c.open(&sealed).unwrap(), "EAAB-secret-token");
    }

    #[test]
    fn old_keys_still_open_after_rotation() {
        let old = TokenCipher::parse(K1).unwrap().seal("token");
        let rotated = TokenCipher::parse(&format!("{K2},{K1}")).unwrap();
        assert_eq!(rotated.open(&old).unwrap(), "token");
        assert!(rotated.needs_rotation(&old));
        assert!(!rotated.needs_rotation(&rotated.seal("token")));
    }

    #[test]
    fn tampering_and_relabelling_are_detected() {
        let c = TokenCipher::parse(&format!("{K1},{K2}")).unwrap();
        let sealed = c.seal("token");
        let relabelled = sealed.replacen("k1:", "k2:", 1);
        assert_eq!(c.open(&relabelled).unwrap_err(), CryptoError::Tampered);
        let mut bytes = STANDARD.decode(&sealed[3..]).unwrap();
        bytes[20] ^= 1;
        assert_eq!(
            c.open(&format!("k1:{}", STANDARD.encode(bytes)))
                .unwrap_err(),
            CryptoError::Tampered
        );
        assert!(matches!(c.open("k9:AAAA"), Err(CryptoError::UnknownKey(_))));
    }

    #[test]
    fn bad_key_specs_are_refused() {
        assert!(TokenCipher::parse("").is_err());
        assert!(TokenCipher::parse("k1:c2hvcnQ=").is_err());
        assert!(TokenCipher::parse("nocolon").is_err());
    }
}
