//! Secrets from AWS Secrets Manager, fetched once at init and cached for the life of
//! the instance. `SECRET_ARN_<NAME>=<secret arn>` makes `<NAME>` (e.g. `JWT_SECRET`,
//! `DATABASE_PASSWORD`) come from that secret; `<arn>#<key>` takes one key of a JSON
//! secret (`#password` of a database user's secret). The plain `<NAME>` variable is the
//! local fallback when no ARN is given; with one, a secret that cannot be read fails the
//! init, naming it. Secret values never reach the logs.

use std::collections::HashMap;

use crate::config::{ConfigError, provide_secrets};

/// The prefix of a variable naming where a secret lives.
pub const PREFIX: &str = "SECRET_ARN_";

/// How long one secret may take to read: an init that cannot reach Secrets Manager
/// fails naming the secret instead of hanging until the function times out.
pub const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Where one configuration value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    /// The variable the value is for (`DATABASE_PASSWORD`).
    pub name: String,
    /// The secret's ARN or name.
    pub secret_id: String,
    /// The key of a JSON secret, or the whole string.
    pub key: Option<String>,
}

/// The secrets `vars` ask for (`SECRET_ARN_<NAME>`).
pub fn wanted(vars: impl Iterator<Item = (String, String)>) -> Vec<Wanted> {
    let mut out: Vec<Wanted> = vars
        .filter_map(|(k, v)| {
            let name = k.strip_prefix(PREFIX)?.to_owned();
            let v = v.trim();
            if name.is_empty() || v.is_empty() {
                return None;
            }
            let (secret_id, key) = match v.rsplit_once('#') {
                Some((id, key)) => (id.to_owned(), Some(key.to_owned())),
                None => (v.to_owned(), None),
            };
            Some(Wanted {
                name,
                secret_id,
                key,
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Fetches every wanted secret (each secret once, however many names use it).
pub async fn fetch(
    client: &aws_sdk_secretsmanager::Client,
    wanted: &[Wanted],
) -> Result<HashMap<String, String>, ConfigError> {
    let mut strings: HashMap<&str, String> = HashMap::new();
    let mut values = HashMap::new();
    for w in wanted {
        if !strings.contains_key(w.secret_id.as_str()) {
            let read = client.get_secret_value().secret_id(&w.secret_id).send();
            let out = tokio::time::timeout(FETCH_TIMEOUT, read)
                .await
                .map_err(|_| invalid(w, format!("no answer within {FETCH_TIMEOUT:?}")))?
                .map_err(|e| {
                    invalid(
                        w,
                        aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
                    )
                })?;
            let string = out
                .secret_string
                .ok_or_else(|| invalid(w, "the secret has no string value".into()))?;
            strings.insert(&w.secret_id, string);
        }
        let string = &strings[w.secret_id.as_str()];
        let value = match &w.key {
            None => string.clone(),
            Some(key) => serde_json::from_str::<serde_json::Value>(string)
                .ok()
                .and_then(|doc| doc.get(key).and_then(|v| v.as_str()).map(str::to_owned))
                .ok_or_else(|| {
                    invalid(w, format!("the secret is not JSON with a string \"{key}\""))
                })?,
        };
        values.insert(w.name.clone(), value);
    }
    Ok(values)
}

fn invalid(w: &Wanted, reason: String) -> ConfigError {
    ConfigError::Secret {
        name: w.name.clone(),
        reason,
    }
}

/// At init: fetches the secrets the environment asks for and makes them the values of
/// their names for this process. Nothing asked for: no AWS client is made.
pub async fn load_from_env() -> Result<(), ConfigError> {
    let wanted = wanted(std::env::vars());
    if wanted.is_empty() {
        return Ok(());
    }
    let config = crate::tls::aws_sdk_config().await;
    let values = fetch(&aws_sdk_secretsmanager::Client::new(&config), &wanted).await?;
    tracing::info!(names = ?values.keys().collect::<Vec<_>>(), "configuration read from Secrets Manager");
    provide_secrets(values);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_arn_variables_name_what_they_provide_with_an_optional_json_key() {
        let vars = [
            (
                "SECRET_ARN_JWT_SECRET",
                "arn:aws:secretsmanager:ap-south-1:1:secret:jwt",
            ),
            (
                "SECRET_ARN_DATABASE_PASSWORD",
                "arn:aws:secretsmanager:ap-south-1:1:secret:app#password",
            ),
            ("SECRET_ARN_", "x"),
            ("SECRET_ARN_EMPTY", " "),
            ("JWT_SECRET", "local fallback"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let got = wanted(vars.into_iter());
        assert_eq!(
            got,
            [
                Wanted {
                    name: "DATABASE_PASSWORD".into(),
                    secret_id: "arn:aws:secretsmanager:ap-south-1:1:secret:app".into(),
                    key: Some("password".into()),
                },
                Wanted {
                    name: "JWT_SECRET".into(),
                    secret_id: "arn:aws:secretsmanager:ap-south-1:1:secret:jwt".into(),
                    key: None,
                },
            ]
        );
    }
}
