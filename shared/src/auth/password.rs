//! Password hashing with argon2id (PHC strings). Hashing is CPU-bound, so it runs on
//! the blocking pool rather than stalling the async runtime.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::domain::Password;
use crate::error::AppError;

/// The argon2id PHC string of `password`, hashed on the blocking pool.
pub async fn hash(password: &Password) -> Result<String, AppError> {
    let plain = password.expose().to_owned();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(plain.as_bytes())
            .map(|h| h.to_string())
            .map_err(AppError::internal)
    })
    .await
    .map_err(AppError::internal)?
}

/// True when `plain` matches `stored`. With no stored hash (unknown account) it
/// still does the same work, so response time does not reveal which emails exist.
pub async fn verify(plain: &str, stored: Option<String>) -> Result<bool, AppError> {
    let plain = plain.to_owned();
    tokio::task::spawn_blocking(move || {
        let decoy = decoy_hash();
        let known = stored.is_some();
        let phc = stored.unwrap_or(decoy);
        let ok = Argon2::default()
            .verify_password(plain.as_bytes(), phc.as_str())
            .is_ok();
        Ok::<_, AppError>(known && ok)
    })
    .await
    .map_err(AppError::internal)?
}

fn decoy_hash() -> String {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY
        .get_or_init(|| {
            Argon2::default()
                .hash_password(b"decoy password for unknown accounts")
                .map(|h| h.to_string())
                .unwrap_or_default()
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() {
        let pw = Password::parse("correct-horse-battery".into()).unwrap();
        let h = hash(&pw).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(
            verify("correct-horse-battery", Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(!verify("correct-horse-batterx", Some(h)).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        assert!(
            !verify("decoy password for unknown accounts", None)
                .await
                .unwrap()
        );
    }
}
