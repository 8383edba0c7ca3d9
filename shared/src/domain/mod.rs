//! Domain types that parse their input: once a value has its type, the rest of the
//! code trusts it. Parse failures say what is wrong; `Fields` collects them per field.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{AppError, FieldError};

/// `as_str`/`parse` for an enum through its serde names, so the wire, the database
/// and the code use one spelling.
macro_rules! string_enum {
    ($t:ty) => {
        impl $t {
            /// The value's JSON name, as stored.
            pub fn as_str(self) -> String {
                serde_json::to_value(self)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            }

            /// The value named `raw` (its JSON name), if there is one.
            pub fn parse(raw: &str) -> Option<Self> {
                serde_json::from_value(serde_json::Value::String(raw.to_owned())).ok()
            }
        }
    };
}

pub mod asset;
pub mod billing;
pub mod campaign;
pub mod launch;
pub mod metrics;
pub mod money;
pub mod notification;
pub mod patch;
pub mod profile;
pub mod rule;
pub mod score;
pub mod weeks;

/// Why a raw value is not a valid domain value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    /// Stable code (`required`, `too_long`, `out_of_range`, …).
    pub code: &'static str,
    /// What a valid value looks like, for a person.
    pub message: String,
}

impl Invalid {
    /// The reason `code`, explained by `message`.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Collects every invalid field of a request before answering, so the client learns
/// about all of them at once.
#[derive(Default)]
pub struct Fields(Vec<FieldError>);

impl Fields {
    /// The parsed value, or none with `field`'s error recorded.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, Invalid>) -> Option<T> {
        parsed
            .map_err(|e| self.0.push(FieldError::new(field, e.code, e.message)))
            .ok()
    }

    /// A field the request must carry.
    pub fn required<T>(&mut self, field: &str, raw: Option<T>) -> Option<T> {
        self.check(
            field,
            raw.ok_or_else(|| Invalid::new("required", format!("{field} is required"))),
        )
    }

    /// Whether `field` was already found invalid.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    /// Ok when every field was valid; otherwise one 422 naming all of them.
    pub fn finish(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.0))
        }
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new random (v4) id.
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An Adpilot account.
    UserId
);
id_type!(
    /// A refresh-token family: every token rotated from one login.
    TokenFamilyId
);
id_type!(
    /// A creative asset (image or video) in a user's library.
    AssetId
);
id_type!(
    /// A campaign.
    CampaignId
);
id_type!(
    /// A background job.
    JobId
);

/// A public web address: http or https, with a host, at most 2,000 characters.
pub fn web_url(raw: &str) -> Result<String, Invalid> {
    let bad = || {
        Invalid::new(
            "invalid_url",
            "must be an http(s) address like https://example.com",
        )
    };
    let trimmed = raw.trim();
    if trimmed.len() > 2000 {
        return Err(bad());
    }
    let parsed = url::Url::parse(trimmed).map_err(|_| bad())?;
    let host_ok = matches!(parsed.host(), Some(url::Host::Ipv6(_)))
        || parsed
            .host_str()
            .is_some_and(|h| h.contains('.') || h == "localhost");
    if !matches!(parsed.scheme(), "http" | "https") || !host_ok {
        return Err(bad());
    }
    Ok(parsed.to_string())
}

/// Free text: trimmed, non-empty, at most `max` characters, no control characters
/// other than newlines and tabs.
pub fn text(raw: &str, max: usize) -> Result<String, Invalid> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(Invalid::new(
            "empty",
            "must not be empty; send null to clear it",
        ));
    }
    if t.chars().count() > max {
        return Err(Invalid::new(
            "too_long",
            format!("must be at most {max} characters"),
        ));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Invalid::new(
            "invalid_characters",
            "must not contain control characters",
        ));
    }
    Ok(t.to_owned())
}

/// A normalised email address: trimmed, lower-cased, one `@`, a dotted domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// The address normalised, or why it is not one.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let email = raw.trim().to_lowercase();
        let bad = || {
            Invalid::new(
                "invalid_email",
                "must be an email address like name@example.com",
            )
        };
        if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = email.split_once('@').ok_or_else(bad)?;
        let domain_ok = domain.contains('.')
            && !domain.contains('@')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(bad());
        }
        Ok(Self(email))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed: at least 10 characters, at most 128 (hashing cost is bounded).
pub struct Password(String);

impl Password {
    /// Fewest characters.
    pub const MIN_CHARS: usize = 10;
    /// Most characters.
    pub const MAX_CHARS: usize = 128;

    /// The password, or which length rule it breaks.
    pub fn parse(raw: String) -> Result<Self, Invalid> {
        let n = raw.chars().count();
        if n < Self::MIN_CHARS {
            return Err(Invalid::new(
                "too_short",
                format!("must be at least {} characters", Self::MIN_CHARS),
            ));
        }
        if n > Self::MAX_CHARS {
            return Err(Invalid::new(
                "too_long",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Self(raw))
    }

    /// The plain text, for hashing and verifying only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A first or last name: trimmed, 1–100 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    /// The name trimmed, or why it is not one.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(Invalid::new(
                "empty",
                "must not be empty; send null to clear it",
            ));
        }
        if name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(Invalid::new(
                "invalid_name",
                "must be at most 100 printable characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A phone number in international form: `+` and 8–15 digits (E.164); spaces, dashes
/// and brackets are accepted on input and dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// The number in E.164 form, or why it is not one.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let bad = || {
            Invalid::new(
                "invalid_phone",
                "must be an international number like +919876543210",
            )
        };
        let trimmed = raw.trim();
        let rest = trimmed.strip_prefix('+').ok_or_else(bad)?;
        if rest
            .chars()
            .any(|c| !(c.is_ascii_digit() || " -()".contains(c)))
        {
            return Err(bad());
        }
        let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return Err(bad());
        }
        Ok(Self(format!("+{digits}")))
    }

    /// The number, `+` and digits.
    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lowercased() {
        assert_eq!(
            Email::parse("  Priya.S@Example.IN ").unwrap().as_str(),
            "priya.s@example.in"
        );
    }

    #[test]
    fn email_rejects_what_is_not_an_address() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@b",
            "a@@b.com",
            "a b@c.com",
            "a@-x.com",
            "a@x..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn password_needs_ten_characters() {
        assert_eq!(
            Password::parse("123456789".into()).unwrap_err().code,
            "too_short"
        );
        assert!(Password::parse("1234567890".into()).is_ok());
        assert!(Password::parse("x".repeat(129)).is_err());
    }

    #[test]
    fn password_never_prints() {
        let p = Password::parse("correct-horse-battery".into()).unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
    }

    #[test]
    fn phone_normalises_to_e164() {
        assert_eq!(
            Phone::parse(" +91 98765-43210 ").unwrap().into_inner(),
            "+919876543210"
        );
        for bad in ["9876543210", "+12", "+91 98765 4321x", "+0123456789"] {
            assert!(Phone::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(PersonName::parse("  Asha ").unwrap().into_inner(), "Asha");
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"a".repeat(101)).is_err());
    }

    #[test]
    fn fields_collects_every_problem() {
        let mut f = Fields::default();
        f.check("email", Email::parse("nope"));
        f.required::<String>("password", None);
        match f.finish().unwrap_err() {
            AppError::Validation(errors) => {
                let names: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(names, ["email", "password"]);
            }
            other => panic!("expected validation error, got {other:?}"),
        }
    }
}
