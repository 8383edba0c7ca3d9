//! Query-string parameters, parsed with the same field-naming errors as bodies.

use std::str::FromStr;

use lambda_http::Request;

use crate::domain::{Fields, Invalid};

/// The decoded query parameters of a request; a repeated key keeps every value.
pub struct Query(Vec<(String, String)>);

impl Query {
    /// The request's query parameters, percent-decoded.
    pub fn of(req: &Request) -> Self {
        let raw = req.uri().query().unwrap_or("");
        Self(
            form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The first value of `key`, if given (where repeats do not matter).
    pub fn first(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key`, if given; a key given twice is refused.
    pub fn one<'a>(&'a self, f: &mut Fields, key: &str) -> Option<&'a str> {
        let mut values = self
            .0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            f.check::<()>(
                key,
                Err(Invalid::new("repeated", format!("give {key} once"))),
            );
            return None;
        }
        first
    }

    /// Every value of `key` (`?tag=a&tag=b`), comma-separated values split too.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// `key` parsed as `T`, if given.
    pub fn parse<T: FromStr>(&self, f: &mut Fields, key: &str, what: &str) -> Option<T> {
        let raw = self.one(f, key)?;
        f.check(
            key,
            raw.parse::<T>()
                .map_err(|_| Invalid::new("invalid", format!("must be {what}"))),
        )
    }

    /// Names every parameter that is not in `known`.
    pub fn reject_unknown(&self, f: &mut Fields, known: &[&str]) {
        for (k, _) in &self.0 {
            if !known.contains(&k.as_str()) {
                f.check::<()>(
                    k,
                    Err(Invalid::new(
                        "unknown_parameter",
                        format!("{k} is not a parameter of this route"),
                    )),
                );
            }
        }
    }
}
