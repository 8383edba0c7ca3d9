//! The `refresh_tokens` table: hashes of issued refresh tokens, grouped in families
//! (one per login) so that reuse of a rotated token can revoke the whole family.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::Tenant;
use crate::domain::TokenFamilyId;
use crate::error::AppError;

pub struct StoredToken {
    pub id: Uuid,
    pub family: TokenFamilyId,
    pub expires_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl StoredToken {
    /// Still exchangeable: never rotated, never revoked, not expired.
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.rotated_at.is_none() && self.revoked_at.is_none() && self.expires_at > now
    }
}

pub async fn insert(
    t: &Tenant<'_>,
    family: TokenFamilyId,
    hash: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<(), AppError> {
    t.tx.execute(
        "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)",
        &[&t.user().0, &family.0, &hash, &expires_at],
    )
    .await?;
    Ok(())
}

/// The token with this hash, locked until the transaction ends so that two
/// concurrent refreshes cannot both rotate it.
pub async fn find_for_update(t: &Tenant<'_>, hash: &[u8]) -> Result<Option<StoredToken>, AppError> {
    let row =
        t.tx.query_opt(
            "SELECT id, family_id, expires_at, rotated_at, revoked_at FROM refresh_tokens \
             WHERE token_hash = $1 FOR UPDATE",
            &[&hash],
        )
        .await?;
    Ok(row.map(|r| StoredToken {
        id: r.get(0),
        family: TokenFamilyId(r.get(1)),
        expires_at: r.get(2),
        rotated_at: r.get(3),
        revoked_at: r.get(4),
    }))
}

pub async fn mark_rotated(t: &Tenant<'_>, id: Uuid) -> Result<(), AppError> {
    t.tx.execute(
        "UPDATE refresh_tokens SET rotated_at = now() WHERE id = $1",
        &[&id],
    )
    .await?;
    Ok(())
}

pub async fn revoke_family(t: &Tenant<'_>, family: TokenFamilyId) -> Result<u64, AppError> {
    Ok(t.tx
        .execute(
            "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
            &[&family.0],
        )
        .await?)
}

pub async fn revoke_all(t: &Tenant<'_>) -> Result<u64, AppError> {
    Ok(t.tx
        .execute(
            "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
            &[&t.user().0],
        )
        .await?)
}
