//! The `users` responses: what the API answers, each made from its `shared::repo::users` row.

use crate::repo::users as row;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// An account as the API shows it (never the password hash).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct User {
    /// The user's id.
    pub id: Uuid,
    /// Their email address (the login).
    pub email: String,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// The plan they are on.
    pub subscription_tier: String,
    /// Their subscription's status.
    pub subscription_status: String,
    /// When the trial ends, while on trial.
    pub trial_ends_at: Option<DateTime<Utc>>,
    /// When they last signed in.
    pub last_login: Option<DateTime<Utc>>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<row::User> for User {
    fn from(r: row::User) -> Self {
        Self {
            id: r.id,
            email: r.email,
            first_name: r.first_name,
            last_name: r.last_name,
            phone: r.phone,
            subscription_tier: r.subscription_tier,
            subscription_status: r.subscription_status,
            trial_ends_at: r.trial_ends_at,
            last_login: r.last_login,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}
