//! Webhook signatures: hex HMAC-SHA256 of the exact raw body under a shared secret
//! (Razorpay's `X-Razorpay-Signature`, Meta's `X-Hub-Signature-256` after `sha256=`).
//! Comparison is constant-time.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    mac
}

/// The lowercase hex HMAC-SHA256 of `body` under `secret`.
pub fn hmac_sha256_hex(secret: &[u8], body: &[u8]) -> String {
    hex::encode(mac(secret, body).finalize().into_bytes())
}

/// The lowercase hex SHA-256 of `bytes` (dedupe keys).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(Sha256::digest(bytes))
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `signature_hex` (upper or lower case hex) is the HMAC-SHA256 of `body`.
pub fn verify_hmac_sha256_hex(secret: &[u8], body: &[u8], signature_hex: &str) -> bool {
    let Ok(given) = hex::decode(signature_hex.trim()) else {
        return false;
    };
    mac(secret, body).verify_slice(&given).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4231 test case 2.
    const KEY: &[u8] = b"Jefe";
    const DATA: &[u8] = b"what do ya want for nothing?";
    const EXPECTED: &str = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

    #[test]
    fn matches_the_rfc_4231_vector() {
        assert_eq!(hmac_sha256_hex(KEY, DATA), EXPECTED);
        assert!(verify_hmac_sha256_hex(KEY, DATA, EXPECTED));
        assert!(verify_hmac_sha256_hex(KEY, DATA, &EXPECTED.to_uppercase()));
    }

    #[test]
    fn refuses_a_wrong_key_a_changed_byte_and_garbage() {
        assert!(!verify_hmac_sha256_hex(b"jefe", DATA, EXPECTED));
        assert!(!verify_hmac_sha256_hex(
            KEY,
            b"what do ya want for nothing!",
            EXPECTED
        ));
        assert!(!verify_hmac_sha256_hex(KEY, DATA, "not hex"));
        assert!(!verify_hmac_sha256_hex(KEY, DATA, ""));
    }
}
