//! `notifications`, `notification_preferences` and `notification_emails`. `notify` is
//! called inside the transaction that made the change it tells of: the notification
//! exists exactly when the change committed, an event told twice (same `event_key`) is
//! one notification, and when the owner wants it by email the email's row and its queue
//! message are written in the same transaction.

use chrono::{DateTime, Utc};
use tokio_postgres::Row;
use uuid::Uuid;

use crate::db::{Tenant, Tx, Worker};
use crate::domain::notification::{Category, Notice};
use crate::error::AppError;
use crate::messages::NotificationEmail;
use crate::paging::{Cursor, PageRequest};
use crate::repo::outbox;
use crate::repo::sql::Statement;

#[derive(Clone, Debug)]
pub struct Notification {
    pub id: Uuid,
    pub category: Category,
    pub title: String,
    pub body: String,
    /// Where in the app to act on it.
    pub link: Option<String>,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Notification {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            created_at: self.created_at,
            id: self.id,
        }
    }
}

const COLUMNS: &str = "id, category, title, body, link, read_at, created_at";

impl From<&Row> for Notification {
    fn from(r: &Row) -> Self {
        Self {
            id: r.get("id"),
            category: Category::parse(r.get("category")).unwrap_or(Category::Generation),
            title: r.get("title"),
            body: r.get("body"),
            link: r.get("link"),
            read_at: r.get("read_at"),
            created_at: r.get("created_at"),
        }
    }
}

/// A category's channels for one user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preference {
    pub category: Category,
    pub in_app: bool,
    pub email: bool,
    /// Payment problems are always emailed.
    pub email_required: bool,
}

impl Preference {
    /// A category's channels as stored (`None`: never set, both on); payment email is on.
    fn of(category: Category, stored: Option<(bool, bool)>) -> Self {
        let (in_app, email) = stored.unwrap_or((true, true));
        Self {
            category,
            in_app,
            email: email || category.email_required(),
            email_required: category.email_required(),
        }
    }
}

async fn preference(t: &impl Tx, user: Uuid, c: Category) -> Result<Preference, AppError> {
    let row = t
        .tx()
        .query_opt(
            "SELECT in_app, email FROM notification_preferences WHERE user_id = $1 AND category = $2",
            &[&user, &c.as_str()],
        )
        .await?;
    Ok(Preference::of(c, row.map(|r| (r.get(0), r.get(1)))))
}

/// What `notify` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Told {
    /// Recorded (shown in the app when wanted); `email` says whether one is on its way.
    New {
        id: Uuid,
        email: bool,
        outbox: Option<i64>,
    },
    /// The event was told before, or the owner wants it on no channel.
    Nothing,
}

fn clip(s: &str, max: usize) -> String {
    s.trim().chars().take(max).collect()
}

/// Tells `user` of `n`, in the caller's transaction. Long texts are clipped (a provider's
/// error message must never make the transaction that refunds credits fail).
pub async fn notify(t: &impl Tx, user: Uuid, n: &Notice) -> Result<Told, AppError> {
    let (title, body, key) = (
        clip(&n.title, 200),
        clip(&n.body, 2000),
        clip(&n.event_key, 300),
    );
    let pref = preference(t, user, n.category).await?;
    if !pref.in_app && !pref.email {
        return Ok(Told::Nothing);
    }
    let row = t
        .tx()
        .query_opt(
            "INSERT INTO notifications (user_id, category, event_key, title, body, link, in_app) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_id, event_key) DO NOTHING RETURNING id",
            &[&user, &n.category.as_str(), &key, &title, &body, &n.link, &pref.in_app],
        )
        .await?;
    let Some(row) = row else {
        return Ok(Told::Nothing);
    };
    let id: Uuid = row.get(0);
    if !pref.email {
        return Ok(Told::New {
            id,
            email: false,
            outbox: None,
        });
    }
    t.tx()
        .execute(
            "INSERT INTO notification_emails (notification_id, user_id) VALUES ($1, $2)",
            &[&id, &user],
        )
        .await?;
    let outbox = outbox::enqueue_for(
        t,
        user,
        &NotificationEmail {
            notification_id: id,
            user_id: user,
        },
    )
    .await?;
    Ok(Told::New {
        id,
        email: true,
        outbox: Some(outbox),
    })
}

/// The tenant's in-app notifications, newest first, one page (`unread` only if asked).
pub async fn list(
    t: &Tenant<'_>,
    unread: bool,
    page: &PageRequest,
) -> Result<Vec<Notification>, AppError> {
    let mut q = Statement::new(format!("SELECT {COLUMNS} FROM notifications WHERE in_app"));
    let user = q.bind(t.user().0);
    q.push(&format!(" AND user_id = {user}"));
    if unread {
        q.push(" AND read_at IS NULL");
    }
    q.page(page);
    Ok(t.tx
        .query(&q.sql, &q.params())
        .await?
        .iter()
        .map(Notification::from)
        .collect())
}

pub async fn unread_count(t: &Tenant<'_>) -> Result<i64, AppError> {
    Ok(t.tx
        .query_one(
            "SELECT count(*) FROM notifications WHERE in_app AND read_at IS NULL",
            &[],
        )
        .await?
        .get(0))
}

/// Marks one read; false when there is no such notification.
pub async fn mark_read(t: &Tenant<'_>, id: Uuid) -> Result<bool, AppError> {
    let n =
        t.tx.execute(
            "UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE id = $1 AND in_app",
            &[&id],
        )
        .await?;
    Ok(n == 1)
}

/// Marks every unread one read; how many.
pub async fn mark_all_read(t: &Tenant<'_>) -> Result<u64, AppError> {
    Ok(t.tx
        .execute(
            "UPDATE notifications SET read_at = now() WHERE in_app AND read_at IS NULL",
            &[],
        )
        .await?)
}

/// Every category's channels (defaults where never set).
pub async fn preferences(t: &Tenant<'_>) -> Result<Vec<Preference>, AppError> {
    let stored =
        t.tx.query(
            "SELECT category, in_app, email FROM notification_preferences",
            &[],
        )
        .await?;
    Ok(Category::ALL
        .into_iter()
        .map(|c| {
            let row = stored.iter().find(|r| r.get::<_, &str>(0) == c.as_str());
            Preference::of(c, row.map(|r| (r.get(1), r.get(2))))
        })
        .collect())
}

/// Sets one category's channels.
pub async fn set_preference(
    t: &impl Tx,
    user: Uuid,
    c: Category,
    in_app: bool,
    email: bool,
) -> Result<(), AppError> {
    t.tx()
        .execute(
            "INSERT INTO notification_preferences (user_id, category, in_app, email) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, category) DO UPDATE SET in_app = EXCLUDED.in_app, email = EXCLUDED.email, \
                                                         updated_at = now()",
            &[&user, &c.as_str(), &in_app, &(email || c.email_required())],
        )
        .await?;
    Ok(())
}

/// Turns a category's email off (the signed unsubscribe link: no login, the link is the
/// user's word for this one change); false when the category's email cannot be off.
pub async fn unsubscribe(t: &Tenant<'_>, c: Category) -> Result<bool, AppError> {
    if c.email_required() {
        return Ok(false);
    }
    let in_app = preference(t, t.user().0, c).await?.in_app;
    set_preference(t, t.user().0, c, in_app, false).await?;
    Ok(true)
}

/// An email to send: the notification, where to, and whose business it is.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub notification: Notification,
    pub to: String,
    pub business_name: Option<String>,
    pub attempts: i32,
}

/// The pending email of `id`, locked until the transaction ends (a second delivery of
/// its message waits, then finds it sent); None when it was sent or failed for good.
pub async fn pending_email(w: &Worker<'_>, id: Uuid) -> Result<Option<Outgoing>, AppError> {
    let sql = format!(
        "SELECT n.{}, u.email, b.business_name, e.attempts \
         FROM notification_emails e JOIN notifications n ON n.id = e.notification_id \
         JOIN users u ON u.id = e.user_id \
         LEFT JOIN business_profiles b ON b.user_id = e.user_id AND b.deleted_at IS NULL \
         WHERE e.notification_id = $1 AND e.status = 'pending' FOR UPDATE OF e",
        COLUMNS.replace(", ", ", n.")
    );
    Ok(w.tx.query_opt(&sql, &[&id]).await?.map(|r| Outgoing {
        notification: Notification::from(&r),
        to: r.get("email"),
        business_name: r.get("business_name"),
        attempts: r.get("attempts"),
    }))
}

/// Records what became of one attempt: sent (with the provider's id), failed for good,
/// or (neither) one more attempt to retry.
pub async fn email_attempted(
    w: &Worker<'_>,
    id: Uuid,
    sent: Option<&str>,
    failed_for_good: bool,
    error: Option<&str>,
) -> Result<(), AppError> {
    let status = match (sent, failed_for_good) {
        (Some(_), _) => "sent",
        (None, true) => "failed",
        (None, false) => "pending",
    };
    w.tx.execute(
        "UPDATE notification_emails SET attempts = attempts + 1, status = $2, provider_message_id = $3, \
                last_error = $4, sent_at = CASE WHEN $2 = 'sent' THEN now() END \
         WHERE notification_id = $1",
        &[&id, &status, &sent, &error],
    )
    .await?;
    Ok(())
}
