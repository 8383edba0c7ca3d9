//! The `notifications` responses: what the API answers, each made from its `shared::repo::notifications` row.

use crate::domain::notification::Category;
use crate::repo::notifications as row;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A notice in the app's feed (and perhaps by email).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Notification {
    /// The notification's id.
    pub id: Uuid,
    /// What it is about.
    pub category: Category,
    /// Its title.
    pub title: String,
    /// What happened, in a sentence or two.
    pub body: String,
    /// Where in the app to act on it.
    pub link: Option<String>,
    /// When it was read; null while unread.
    pub read_at: Option<DateTime<Utc>>,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
}

impl From<row::Notification> for Notification {
    fn from(r: row::Notification) -> Self {
        Self {
            id: r.id,
            category: r.category,
            title: r.title,
            body: r.body,
            link: r.link,
            read_at: r.read_at,
            created_at: r.created_at,
        }
    }
}

/// A category's channels for one user.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Preference {
    /// The category.
    pub category: Category,
    /// Shown in the app's feed.
    pub in_app: bool,
    /// Sent by email.
    pub email: bool,
    /// Payment problems are always emailed.
    pub email_required: bool,
}

impl From<row::Preference> for Preference {
    fn from(r: row::Preference) -> Self {
        Self {
            category: r.category,
            in_app: r.in_app,
            email: r.email,
            email_required: r.email_required,
        }
    }
}
