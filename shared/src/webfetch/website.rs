//! A website address a user gives us, checked at the door with the fetcher's own rules:
//! a private or reserved address (literal, or what the name resolves to) or a port other
//! than 80/443 is a 422 on the field that carried it, before anything is queued.

use url::Url;

use super::target::{AllowHosts, Refusal, resolve, target};
use crate::error::{AppError, FieldError};

fn invalid(field: &str, r: &Refusal) -> FieldError {
    let code = match r {
        Refusal::Private { .. } => "private_address",
        Refusal::Port(_) => "port_not_allowed",
        Refusal::Credentials => "credentials_in_url",
        _ => "invalid_url",
    };
    FieldError::new(field, code, r.to_string())
}

/// Checks an already well-formed http(s) URL against the fetch rules, resolving its
/// name (for at most 3 s); the 422 names `field`. A name that does not resolve (yet) is
/// let through: the analysis reports it, and only what a name points to can be refused.
pub async fn check(field: &str, url: &str, allow: &AllowHosts) -> Result<(), AppError> {
    let parsed = Url::parse(url).map_err(|_| {
        AppError::Validation(vec![FieldError::new(field, "invalid_url", "not a URL")])
    })?;
    let t = target(&parsed, allow).map_err(|r| AppError::Validation(vec![invalid(field, &r)]))?;
    match tokio::time::timeout(std::time::Duration::from_secs(3), resolve(&t)).await {
        Ok(Err(r @ Refusal::Private { .. })) => Err(AppError::Validation(vec![invalid(field, &r)])),
        _ => Ok(()),
    }
}
