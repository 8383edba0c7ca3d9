//! The `subscriptions` table. Every account has exactly one current subscription from
//! signup on; a trigger copies its tier and status onto `users` in the same
//! transaction. A checkout creates a non-current row (`created`); the Razorpay webhook
//! makes it current when it is paid (see `apply_change`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use tokio_postgres::Row;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::{Tenant, Worker};
use crate::error::AppError;

/// Opens the starter trial for a new account: free, `credits` AI credits, ends at `ends_at`.
pub async fn start_trial(
    t: &Tenant<'_>,
    credits: i32,
    ends_at: DateTime<Utc>,
) -> Result<(), AppError> {
    t.tx.execute(
        "INSERT INTO subscriptions (user_id, tier, billing_cycle, price, currency, status, \
                                    current_period_start, current_period_end, monthly_ai_credits_limit) \
         VALUES ($1, 'starter', 'monthly', 0, 'INR', 'trial', now(), $2, $3)",
        &[&t.user().0, &ends_at, &credits],
    )
    .await?;
    Ok(())
}

/// A subscription as its owner sees it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Subscription {
    pub id: Uuid,
    /// starter, professional or business.
    pub tier: String,
    /// monthly or annual.
    pub billing_cycle: String,
    /// trial, active, past_due, paused, cancelled or expired (created: checkout not finished).
    pub status: String,
    #[schema(value_type = String, example = "3999.00")]
    pub price: Decimal,
    pub currency: String,
    pub current_period_start: DateTime<Utc>,
    pub current_period_end: DateTime<Utc>,
    pub cancel_at_period_end: bool,
    pub credits_used: i32,
    pub credits_limit: i32,
    pub credits_remaining: i32,
    #[serde(skip)]
    pub razorpay_subscription_id: Option<String>,
}

const COLUMNS: &str = "id, tier, billing_cycle, status, price, currency, current_period_start, current_period_end, \
                       cancel_at_period_end, monthly_ai_credits_used, monthly_ai_credits_limit, razorpay_subscription_id";

impl From<&Row> for Subscription {
    fn from(r: &Row) -> Self {
        let (used, limit): (i32, i32) = (
            r.get("monthly_ai_credits_used"),
            r.get("monthly_ai_credits_limit"),
        );
        Self {
            id: r.get("id"),
            tier: r.get("tier"),
            billing_cycle: r.get("billing_cycle"),
            status: r.get("status"),
            price: r.get("price"),
            currency: r.get("currency"),
            current_period_start: r.get("current_period_start"),
            current_period_end: r.get("current_period_end"),
            cancel_at_period_end: r.get("cancel_at_period_end"),
            credits_used: used,
            credits_limit: limit,
            credits_remaining: (limit - used).max(0),
            razorpay_subscription_id: r.get("razorpay_subscription_id"),
        }
    }
}

pub async fn current(t: &Tenant<'_>) -> Result<Subscription, AppError> {
    let sql = format!("SELECT {COLUMNS} FROM subscriptions WHERE is_current");
    let row =
        t.tx.query_opt(&sql, &[])
            .await?
            .ok_or_else(|| AppError::Internal("account has no current subscription".into()))?;
    Ok(Subscription::from(&row))
}

/// What a checkout will become once Razorpay reports it paid.
pub struct Checkout<'a> {
    pub tier: &'a str,
    pub billing_cycle: &'a str,
    pub price: Decimal,
    pub credits: i32,
    pub razorpay_subscription_id: &'a str,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
}

/// The Razorpay ids of the tenant's open checkouts (created, never paid).
pub async fn open_checkouts(t: &Tenant<'_>) -> Result<Vec<String>, AppError> {
    Ok(t.tx
        .query(
            "SELECT razorpay_subscription_id FROM subscriptions \
             WHERE status = 'created' AND NOT is_current AND razorpay_subscription_id IS NOT NULL",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// Marks an open checkout cancelled (it was cancelled at Razorpay).
pub async fn close_checkout(t: &Tenant<'_>, razorpay_id: &str) -> Result<(), AppError> {
    t.tx.execute(
        "UPDATE subscriptions SET status = 'cancelled', provider_status = 'cancelled' \
         WHERE razorpay_subscription_id = $1 AND status = 'created' AND NOT is_current",
        &[&razorpay_id],
    )
    .await?;
    Ok(())
}

/// Records a Razorpay subscription created for checkout: not current until paid. None
/// when the user already has an open checkout (another request made one meanwhile).
pub async fn create_checkout(
    t: &Tenant<'_>,
    c: &Checkout<'_>,
) -> Result<Option<Subscription>, AppError> {
    let sql = format!(
        "INSERT INTO subscriptions (user_id, tier, billing_cycle, price, currency, status, is_current, \
                                    razorpay_subscription_id, provider_status, current_period_start, \
                                    current_period_end, monthly_ai_credits_limit) \
         VALUES ($1, $2, $3, $4, 'INR', 'created', false, $5, 'created', $6, $7, $8) \
         ON CONFLICT (user_id) WHERE status = 'created' AND NOT is_current DO NOTHING RETURNING {COLUMNS}"
    );
    let row =
        t.tx.query_opt(
            &sql,
            &[
                &t.user().0,
                &c.tier,
                &c.billing_cycle,
                &c.price,
                &c.razorpay_subscription_id,
                &c.period_start,
                &c.period_end,
                &c.credits,
            ],
        )
        .await?;
    Ok(row.as_ref().map(Subscription::from))
}

/// Marks the current subscription to end with its period (Razorpay `cancel_at_cycle_end`).
pub async fn set_cancel_at_period_end(t: &Tenant<'_>, id: Uuid) -> Result<(), AppError> {
    t.tx.execute(
        "UPDATE subscriptions SET cancel_at_period_end = true WHERE id = $1",
        &[&id],
    )
    .await?;
    Ok(())
}

/// Ends the current subscription now, as Razorpay confirmed.
pub async fn set_cancelled(t: &Tenant<'_>, id: Uuid) -> Result<(), AppError> {
    t.tx.execute(
        "UPDATE subscriptions SET status = 'cancelled', provider_status = 'cancelled', \
                cancel_at_period_end = false WHERE id = $1",
        &[&id],
    )
    .await?;
    Ok(())
}

/// A subscription as the billing webhook sees it, locked for the event's transaction.
#[derive(Clone, Debug)]
pub struct Billed {
    pub id: Uuid,
    pub user_id: Uuid,
    pub tier: String,
    pub status: String,
    pub is_current: bool,
    pub current_period_start: DateTime<Utc>,
    pub last_event_at: Option<DateTime<Utc>>,
    /// A newer paid subscription replaced it: it never becomes current again.
    pub superseded: bool,
    /// The period came from a Razorpay event (not the checkout's estimate).
    pub period_confirmed: bool,
}

pub async fn lock_by_razorpay_id(
    w: &Worker<'_>,
    razorpay_id: &str,
) -> Result<Option<Billed>, AppError> {
    let row =
        w.tx.query_opt(
            "SELECT id, user_id, tier, status, is_current, current_period_start, last_event_at, \
                    superseded_at IS NOT NULL, period_confirmed \
             FROM subscriptions WHERE razorpay_subscription_id = $1 FOR UPDATE",
            &[&razorpay_id],
        )
        .await?;
    Ok(row.map(|r| Billed {
        id: r.get(0),
        user_id: r.get(1),
        tier: r.get(2),
        status: r.get(3),
        is_current: r.get(4),
        current_period_start: r.get(5),
        last_event_at: r.get(6),
        superseded: r.get(7),
        period_confirmed: r.get(8),
    }))
}

/// Our statuses of a subscription that has been paid for (active, past due, paused).
pub const PAID: [&str; 3] = ["active", "past_due", "paused"];

/// What one webhook event changes on a subscription.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Change {
    /// The event proves the subscription was paid for (active, past due or paused):
    /// it becomes the account's current one if it is not yet (and was not superseded).
    pub paid: bool,
    pub status: Option<&'static str>,
    pub provider_status: Option<String>,
    pub period: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The tier and its monthly credits, when the plan changed.
    pub tier: Option<(String, i32)>,
    pub cancel_at_period_end: Option<bool>,
    pub event_at: Option<DateTime<Utc>>,
}

impl Change {
    /// What an event older than the last one applied still proves, whatever order the
    /// events arrive in: that the subscription was paid, and the period it paid for
    /// (applied only if later than the stored one). Its status, tier and flags are
    /// outdated by the newer event.
    pub fn only_lasting(self) -> Self {
        Self {
            paid: self.paid,
            period: self.period,
            event_at: self.event_at,
            ..Self::default()
        }
    }
}

/// Applies `change`; events applied in any order end in the same state. When the row is
/// first proven paid it becomes the account's current subscription: the previous one
/// stops being current and every other Razorpay subscription of the user is superseded
/// (see `supersede_others`). A period from an event replaces the checkout's estimate,
/// then only a later one; each new period resets the month's credits, once however often
/// the event is delivered.
pub async fn apply_change(w: &Worker<'_>, sub: &Billed, change: &Change) -> Result<(), AppError> {
    let becomes_current = !sub.is_current && !sub.superseded && change.paid;
    if becomes_current {
        w.tx.execute(
            "UPDATE subscriptions SET is_current = false WHERE user_id = $1 AND is_current",
            &[&sub.user_id],
        )
        .await?;
        supersede_others(w, sub).await?;
    }
    let new_period = change
        .period
        .filter(|(start, _)| !sub.period_confirmed || *start > sub.current_period_start);
    w.tx.execute(
        "UPDATE subscriptions SET \
             is_current = is_current OR $2, \
             status = coalesce($3, status), \
             provider_status = coalesce($4, provider_status), \
             current_period_start = coalesce($5, current_period_start), \
             current_period_end = coalesce($6, current_period_end), \
             period_confirmed = period_confirmed OR $5::timestamptz IS NOT NULL, \
             monthly_ai_credits_used = CASE WHEN $5::timestamptz IS NOT NULL OR $2 THEN 0 ELSE monthly_ai_credits_used END, \
             tier = coalesce($7, tier), \
             monthly_ai_credits_limit = coalesce($8, monthly_ai_credits_limit), \
             cancel_at_period_end = coalesce($9, cancel_at_period_end), \
             last_event_at = greatest(last_event_at, $10) \
         WHERE id = $1",
        &[
            &sub.id,
            &becomes_current,
            &change.status,
            &change.provider_status,
            &new_period.map(|p| p.0),
            &new_period.map(|p| p.1),
            &change.tier.as_ref().map(|t| t.0.as_str()),
            &change.tier.as_ref().map(|t| t.1),
            &change.cancel_at_period_end,
            &change.event_at,
        ],
    )
    .await?;
    Ok(())
}

/// Razorpay statuses of a subscription that can still charge the customer.
const LIVE: &str = "('created', 'active', 'past_due', 'paused')";

/// Supersedes every other Razorpay subscription of `sub`'s user, so none of them can
/// become current again (a late event for an old one changes nothing); the live ones
/// are cancelled here and marked due for cancelling at Razorpay.
async fn supersede_others(w: &Worker<'_>, sub: &Billed) -> Result<(), AppError> {
    let sql = format!(
        "UPDATE subscriptions SET superseded_at = now(), \
                status = CASE WHEN status IN {LIVE} THEN 'cancelled' ELSE status END, \
                cancel_at_period_end = CASE WHEN status IN {LIVE} THEN false ELSE cancel_at_period_end END, \
                razorpay_cancel_due_at = CASE WHEN status IN {LIVE} THEN now() END, \
                razorpay_cancel_attempts = 0 \
         WHERE user_id = $1 AND id <> $2 AND superseded_at IS NULL \
           AND razorpay_subscription_id IS NOT NULL RETURNING razorpay_cancel_due_at IS NOT NULL"
    );
    let rows = w.tx.query(&sql, &[&sub.user_id, &sub.id]).await?;
    let n = rows.iter().filter(|r| r.get::<_, bool>(0)).count() as u64;
    if n > 0 {
        tracing::info!(user_id = %sub.user_id, superseded = n, by = %sub.id, "subscriptions superseded");
    }
    Ok(())
}

/// A superseded subscription still to be cancelled at Razorpay.
#[derive(Clone, Debug)]
pub struct DueCancellation {
    pub id: Uuid,
    pub user_id: Uuid,
    pub razorpay_subscription_id: String,
    /// Counting this one.
    pub attempts: i32,
}

/// Claims up to `limit` due cancellations (of `user` only, when given): each is pushed
/// two minutes ahead, so a crashed attempt is retried and two sweeps never share one.
pub async fn claim_due_cancellations(
    w: &Worker<'_>,
    user: Option<Uuid>,
    limit: i64,
) -> Result<Vec<DueCancellation>, AppError> {
    let rows =
        w.tx.query(
            "UPDATE subscriptions SET razorpay_cancel_due_at = now() + interval '2 minutes', \
                    razorpay_cancel_attempts = razorpay_cancel_attempts + 1 \
             WHERE id IN (SELECT id FROM subscriptions \
                          WHERE razorpay_cancel_due_at <= now() AND ($1::uuid IS NULL OR user_id = $1) \
                          ORDER BY razorpay_cancel_due_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
             RETURNING id, user_id, razorpay_subscription_id, razorpay_cancel_attempts",
            &[&user, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| DueCancellation {
            id: r.get(0),
            user_id: r.get(1),
            razorpay_subscription_id: r.get(2),
            attempts: r.get(3),
        })
        .collect())
}

/// Razorpay confirmed the subscription ended (`provider_status` as it reported).
pub async fn cancellation_done(
    w: &Worker<'_>,
    id: Uuid,
    provider_status: &str,
) -> Result<(), AppError> {
    w.tx.execute(
        "UPDATE subscriptions SET razorpay_cancel_due_at = NULL, razorpay_cancel_error = NULL, \
                provider_status = $2 WHERE id = $1",
        &[&id, &provider_status],
    )
    .await?;
    Ok(())
}

/// Cancelling failed: tried again after `retry_in_seconds`.
pub async fn cancellation_failed(
    w: &Worker<'_>,
    id: Uuid,
    error: &str,
    retry_in_seconds: i64,
) -> Result<(), AppError> {
    w.tx.execute(
        "UPDATE subscriptions SET razorpay_cancel_error = $2, \
                razorpay_cancel_due_at = now() + make_interval(secs => $3) WHERE id = $1",
        &[&id, &error, &(retry_in_seconds as f64)],
    )
    .await?;
    Ok(())
}
