//! Webhook signatures: hex HMAC-SHA256 of the exact raw body under a shared secret
//! (Razorpay's `X-Razorpay-Signature`, Meta's `X-Hub-Signature-256` after `sha256=`),
//! and Stripe's `Stripe-Signature` (`t=…,v1=…`: the HMAC of `{t}.{body}`, any `v1` may
//! match, within a tolerance against replay). Comparison is constant-time.

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

/// Stripe's tolerance between a signature's timestamp and now, in seconds.
pub const STRIPE_TOLERANCE_SECONDS: i64 = 300;

/// Why a `Stripe-Signature` was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StripeRefusal {
    /// No `t=` timestamp or no `v1=` signature in the header.
    Malformed,
    /// The timestamp is more than the tolerance away from now (a replay, or a bad clock).
    OutsideTolerance,
    /// No `v1` signature is the HMAC of `{t}.{body}`.
    NoMatch,
}

/// Verifies a `Stripe-Signature` header as Stripe specifies: the header's `t` and every
/// `v1` value (other schemes such as `v0` are ignored), the HMAC-SHA256 of
/// `{t}.{raw body}` under the endpoint secret compared in constant time against each,
/// and `t` within `STRIPE_TOLERANCE_SECONDS` of `now` (Unix seconds).
pub fn verify_stripe(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: i64,
) -> Result<(), StripeRefusal> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.push(v),
            _ => {}
        }
    }
    let (Some(t), false) = (timestamp, signatures.is_empty()) else {
        return Err(StripeRefusal::Malformed);
    };
    if (now - t).abs() > STRIPE_TOLERANCE_SECONDS {
        return Err(StripeRefusal::OutsideTolerance);
    }
    let mut signed = mac(secret, t.to_string().as_bytes());
    signed.update(b".");
    signed.update(body);
    let expected = signed.finalize().into_bytes();
    let matches = signatures.iter().fold(false, |any, v| {
        let given = hex::decode(v).unwrap_or_default();
        any | constant_time_eq(&expected, &given)
    });
    if matches {
        Ok(())
    } else {
        Err(StripeRefusal::NoMatch)
    }
}

/// A `Stripe-Signature` header for `body` at `t` (simulators and tests sign with it).
pub fn stripe_signature_header(secret: &[u8], body: &[u8], t: i64) -> String {
    let mut signed = mac(secret, t.to_string().as_bytes());
    signed.update(b".");
    signed.update(body);
    format!("t={t},v1={}", hex::encode(signed.finalize().into_bytes()))
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

    // Signed independently with Python: hmac.new(b"whsec_test", b"1764060000." + BODY, sha256).
    const STRIPE_SECRET: &[u8] = b"whsec_test";
    const STRIPE_BODY: &[u8] = br#"{"id":"evt_1","object":"event","type":"invoice.paid"}"#;
    const STRIPE_T: i64 = 1_764_060_000;
    const STRIPE_V1: &str = "fb0dcecad7124e0d5a99ce03c01e599bc0e5855e752821c55f891aa1e51131cb";

    #[test]
    fn a_stripe_signature_matches_an_independently_computed_vector() {
        let header = format!("t={STRIPE_T},v1={STRIPE_V1}");
        assert_eq!(
            stripe_signature_header(STRIPE_SECRET, STRIPE_BODY, STRIPE_T),
            header
        );
        assert_eq!(
            verify_stripe(STRIPE_SECRET, &header, STRIPE_BODY, STRIPE_T + 10),
            Ok(())
        );
    }

    #[test]
    fn any_of_several_v1_signatures_may_match_and_v0_is_ignored() {
        let wrong = "0".repeat(64);
        let header = format!("t={STRIPE_T},v0={STRIPE_V1},v1={wrong},v1={STRIPE_V1}");
        assert_eq!(
            verify_stripe(STRIPE_SECRET, &header, STRIPE_BODY, STRIPE_T),
            Ok(())
        );
        let only_v0 = format!("t={STRIPE_T},v0={STRIPE_V1}");
        assert_eq!(
            verify_stripe(STRIPE_SECRET, &only_v0, STRIPE_BODY, STRIPE_T),
            Err(StripeRefusal::Malformed)
        );
        let all_wrong = format!("t={STRIPE_T},v1={wrong},v1=nothex");
        assert_eq!(
            verify_stripe(STRIPE_SECRET, &all_wrong, STRIPE_BODY, STRIPE_T),
            Err(StripeRefusal::NoMatch)
        );
    }

    #[test]
    fn a_stripe_signature_outside_five_minutes_is_refused_even_when_it_matches() {
        let header = format!("t={STRIPE_T},v1={STRIPE_V1}");
        for now in [STRIPE_T + 301, STRIPE_T - 301, STRIPE_T + 86_400] {
            assert_eq!(
                verify_stripe(STRIPE_SECRET, &header, STRIPE_BODY, now),
                Err(StripeRefusal::OutsideTolerance),
                "{now}"
            );
        }
        assert_eq!(
            verify_stripe(STRIPE_SECRET, &header, STRIPE_BODY, STRIPE_T + 300),
            Ok(())
        );
    }

    #[test]
    fn a_changed_body_a_wrong_secret_or_a_missing_timestamp_is_refused() {
        let header = format!("t={STRIPE_T},v1={STRIPE_V1}");
        let changed = br#"{"id":"evt_2","object":"event","type":"invoice.paid"}"#;
        assert_eq!(
            verify_stripe(STRIPE_SECRET, &header, changed, STRIPE_T),
            Err(StripeRefusal::NoMatch)
        );
        assert_eq!(
            verify_stripe(b"whsec_other", &header, STRIPE_BODY, STRIPE_T),
            Err(StripeRefusal::NoMatch)
        );
        for bad in [
            format!("v1={STRIPE_V1}"),
            "t=abc,v1=00".into(),
            String::new(),
        ] {
            assert_eq!(
                verify_stripe(STRIPE_SECRET, &bad, STRIPE_BODY, STRIPE_T),
                Err(StripeRefusal::Malformed),
                "{bad}"
            );
        }
    }
}
