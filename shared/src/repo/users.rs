//! The `users` table: accounts, their profile fields, soft deletion.

use chrono::{DateTime, Utc};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::db::{Public, Tenant};
use crate::domain::patch::Patch;
use crate::domain::{Email, UserId};
use crate::error::{AppError, unique_violation};

/// An account as the API shows it (never the password hash).
#[derive(Debug)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub subscription_tier: String,
    pub subscription_status: String,
    pub trial_ends_at: Option<DateTime<Utc>>,
    pub last_login: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, email, first_name, last_name, phone, subscription_tier, subscription_status, \
                       trial_ends_at, last_login, created_at, updated_at";

impl From<&Row> for User {
    fn from(r: &Row) -> Self {
        Self {
            id: r.get("id"),
            email: r.get("email"),
            first_name: r.get("first_name"),
            last_name: r.get("last_name"),
            phone: r.get("phone"),
            subscription_tier: r.get("subscription_tier"),
            subscription_status: r.get("subscription_status"),
            trial_ends_at: r.get("trial_ends_at"),
            last_login: r.get("last_login"),
            created_at: r.get("created_at"),
            updated_at: r.get("updated_at"),
        }
    }
}

pub struct NewUser<'a> {
    pub email: &'a Email,
    pub password_hash: &'a str,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub trial_ends_at: DateTime<Utc>,
}

/// Creates the tenant's own account row; a live account with the same email in any
/// letter case is a conflict.
pub async fn insert(t: &Tenant<'_>, new: &NewUser<'_>) -> Result<User, AppError> {
    let sql = format!(
        "INSERT INTO users (id, email, password_hash, first_name, last_name, phone, \
                            subscription_tier, subscription_status, trial_ends_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'starter', 'trial', $7) RETURNING {COLUMNS}"
    );
    let row =
        t.tx.query_one(
            &sql,
            &[
                &t.user().0,
                &new.email.as_str(),
                &new.password_hash,
                &new.first_name,
                &new.last_name,
                &new.phone,
                &new.trial_ends_at,
            ],
        )
        .await
        .map_err(|e| match unique_violation(&e) {
            Some("users_email_key") => AppError::Conflict {
                code: "email_taken",
                detail: "An account with this email already exists.".into(),
            },
            _ => e.into(),
        })?;
    Ok(User::from(&row))
}

/// The tenant's live account.
pub async fn find(t: &Tenant<'_>) -> Result<Option<User>, AppError> {
    let sql =
        format!("SELECT {COLUMNS} FROM users WHERE id = $1 AND deleted_at IS NULL AND is_active");
    Ok(t.tx
        .query_opt(&sql, &[&t.user().0])
        .await?
        .as_ref()
        .map(User::from))
}

/// A live account's id and password hash by email, before anyone is authenticated.
pub async fn find_login(
    p: &Public<'_>,
    email: &Email,
) -> Result<Option<(UserId, String)>, AppError> {
    let row =
        p.tx.query_opt(
            "SELECT user_id, password_hash FROM auth_find_login($1)",
            &[&email.as_str()],
        )
        .await?;
    Ok(row.map(|r| (UserId(r.get(0)), r.get(1))))
}

pub async fn record_login(t: &Tenant<'_>) -> Result<Option<User>, AppError> {
    let sql = format!(
        "UPDATE users SET last_login = now() WHERE id = $1 AND deleted_at IS NULL AND is_active RETURNING {COLUMNS}"
    );
    Ok(t.tx
        .query_opt(&sql, &[&t.user().0])
        .await?
        .as_ref()
        .map(User::from))
}

/// Changes to a user's own profile fields.
#[derive(Default)]
pub struct ProfileChange {
    pub first_name: Patch<String>,
    pub last_name: Patch<String>,
    pub phone: Patch<String>,
}

pub async fn update_profile(
    t: &Tenant<'_>,
    change: ProfileChange,
) -> Result<Option<User>, AppError> {
    // Each column: keep when absent ($n_set false), otherwise take the value (or NULL).
    let sql = format!(
        "UPDATE users SET \
            first_name = CASE WHEN $2 THEN $3 ELSE first_name END, \
            last_name  = CASE WHEN $4 THEN $5 ELSE last_name END, \
            phone      = CASE WHEN $6 THEN $7 ELSE phone END \
         WHERE id = $1 AND deleted_at IS NULL AND is_active RETURNING {COLUMNS}"
    );
    let split = |p: Patch<String>| match p {
        Patch::Absent => (false, None),
        Patch::Null => (true, None),
        Patch::Value(v) => (true, Some(v)),
    };
    let (fs, fv) = split(change.first_name);
    let (ls, lv) = split(change.last_name);
    let (ps, pv) = split(change.phone);
    let row =
        t.tx.query_opt(&sql, &[&t.user().0, &fs, &fv, &ls, &lv, &ps, &pv])
            .await?;
    Ok(row.as_ref().map(User::from))
}

/// Soft-deletes the account: the row stays, logins stop. True if it was live.
pub async fn soft_delete(t: &Tenant<'_>) -> Result<bool, AppError> {
    let n = t
        .tx
        .execute(
            "UPDATE users SET deleted_at = now(), is_active = false WHERE id = $1 AND deleted_at IS NULL",
            &[&t.user().0],
        )
        .await?;
    Ok(n == 1)
}
