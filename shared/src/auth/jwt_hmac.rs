//! jsonwebtoken's crypto for the one algorithm access tokens use, HS256 (on the
//! workspace's `hmac` and `sha2`). Installed as jsonwebtoken's provider when the first
//! `AccessTokens` is made; any other algorithm is refused. Built without its
//! `rust_crypto` feature, jsonwebtoken links no RSA, ECDSA or EdDSA code into every
//! function (results.md, "Dependency steps", step 3).

use std::sync::Once;

use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

static HS256_ONLY: CryptoProvider = CryptoProvider {
    signer_factory: signer,
    verifier_factory: verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes HS256 jsonwebtoken's provider for this process; later calls do nothing.
pub fn install() {
    static ONCE: Once = Once::new();
    // Fails only if a provider is already installed, which can only be this one.
    ONCE.call_once(|| {
        let _ = HS256_ONLY.install_default();
    });
}

fn hs256(alg: &Algorithm, family: AlgorithmFamily, key: &[u8]) -> Result<Hs256, Error> {
    if *alg != Algorithm::HS256 {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    if family != AlgorithmFamily::Hmac {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    HmacSha256::new_from_slice(key)
        .map(Hs256)
        .map_err(|_| ErrorKind::InvalidKeyFormat.into())
}

fn signer(alg: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    Ok(Box::new(hs256(alg, key.family(), key.as_bytes())?))
}

fn verifier(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    Ok(Box::new(hs256(alg, key.family(), key.try_get_as_bytes()?)?))
}

/// An HS256 key, signing and verifying.
struct Hs256(HmacSha256);

impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut mac = self.0.clone();
        mac.update(msg);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, msg: &[u8], sig: &Vec<u8>) -> Result<(), signature::Error> {
        let mut mac = self.0.clone();
        mac.update(msg);
        // Constant-time comparison.
        mac.verify_slice(sig).map_err(|_| signature::Error::new())
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{Header, Validation, decode, encode};
    use serde_json::{Value, json};

    #[test]
    fn an_hs256_token_signs_and_verifies_and_other_algorithms_are_refused() {
        install();
        let key = b"a-test-secret-of-at-least-32-bytes!!";
        let token = encode(
            &Header::new(Algorithm::HS256),
            &json!({"sub": "x", "exp": 4_000_000_000u64}),
            &EncodingKey::from_secret(key),
        )
        .unwrap();
        let got = decode::<Value>(
            &token,
            &DecodingKey::from_secret(key),
            &Validation::new(Algorithm::HS256),
        )
        .unwrap();
        assert_eq!(got.claims["sub"], "x");
        let other_key = decode::<Value>(
            &token,
            &DecodingKey::from_secret(b"another-secret-of-at-least-32-bytes"),
            &Validation::new(Algorithm::HS256),
        );
        assert_eq!(other_key.unwrap_err().kind(), &ErrorKind::InvalidSignature);
        let hs512 = encode(
            &Header::new(Algorithm::HS512),
            &json!({"sub": "x"}),
            &EncodingKey::from_secret(key),
        );
        assert_eq!(hs512.unwrap_err().kind(), &ErrorKind::InvalidAlgorithm);
    }
}
