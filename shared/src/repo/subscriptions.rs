//! The `subscriptions` table. Every account has exactly one current subscription from
//! signup on; a trigger copies its tier and status onto `users` in the same
//! transaction. A checkout creates a non-current row (`created`) at a provider (Razorpay
//! or Stripe, `payment_method`); the provider's webhook makes it current when it is paid
//! (see `apply_change`), whichever provider it is.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::db::{Tenant, Worker};
use crate::domain::billing::{BillingCycle, Provider, SubscriptionStatus, Tier};
use crate::domain::notification::{Category, Notice};
use crate::error::AppError;
use crate::repo::notifications;

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
#[derive(Clone, Debug)]
pub struct Subscription {
    pub id: Uuid,
    pub tier: Tier,
    pub billing_cycle: BillingCycle,
    /// trial, active, past_due, paused, cancelled or expired (created: checkout not finished).
    pub status: SubscriptionStatus,
    pub price: Decimal,
    pub currency: String,
    pub current_period_start: DateTime<Utc>,
    pub current_period_end: DateTime<Utc>,
    pub cancel_at_period_end: bool,
    pub credits_used: i32,
    pub credits_limit: i32,
    pub credits_remaining: i32,
    /// The provider that charges it (null for the trial).
    pub payment_method: Option<Provider>,
    /// What the provider charges: card, upi, emandate, … (when it has told us).
    pub payment_method_type: Option<String>,
    /// The card's brand and last four digits, never its number.
    pub card: Option<CardSummary>,
    /// The provider's id of the subscription (Razorpay's sub_…, Stripe's sub_…).
    pub remote_id: Option<String>,
}

/// A card as its owner may see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardSummary {
    pub brand: Option<String>,
    pub last4: String,
}

const COLUMNS: &str = "id, tier, billing_cycle, status, price, currency, current_period_start, current_period_end, \
                       cancel_at_period_end, monthly_ai_credits_used, monthly_ai_credits_limit, payment_method, \
                       payment_method_type, card_brand, card_last4, \
                       coalesce(razorpay_subscription_id, stripe_subscription_id) AS remote_id";

impl From<&Row> for Subscription {
    fn from(r: &Row) -> Self {
        let (used, limit): (i32, i32) = (
            r.get("monthly_ai_credits_used"),
            r.get("monthly_ai_credits_limit"),
        );
        Self {
            id: r.get("id"),
            tier: Tier::parse(r.get("tier")).unwrap_or(Tier::Starter),
            billing_cycle: BillingCycle::parse(r.get("billing_cycle"))
                .unwrap_or(BillingCycle::Monthly),
            status: SubscriptionStatus::parse(r.get("status"))
                .unwrap_or(SubscriptionStatus::Expired),
            price: r.get("price"),
            currency: r.get("currency"),
            current_period_start: r.get("current_period_start"),
            current_period_end: r.get("current_period_end"),
            cancel_at_period_end: r.get("cancel_at_period_end"),
            credits_used: used,
            credits_limit: limit,
            credits_remaining: (limit - used).max(0),
            payment_method: r
                .get::<_, Option<String>>("payment_method")
                .as_deref()
                .and_then(Provider::parse),
            payment_method_type: r.get("payment_method_type"),
            card: r
                .get::<_, Option<String>>("card_last4")
                .map(|last4| CardSummary {
                    brand: r.get("card_brand"),
                    last4,
                }),
            remote_id: r.get("remote_id"),
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

/// What a checkout will become once its provider reports it paid.
pub struct Checkout<'a> {
    /// Chosen before the provider is called, so the provider's records can name it.
    pub id: Uuid,
    pub provider: Provider,
    pub tier: Tier,
    pub billing_cycle: BillingCycle,
    pub price: Decimal,
    pub currency: &'a str,
    pub credits: i32,
    /// Razorpay's subscription id, or Stripe's Checkout Session id.
    pub remote_id: &'a str,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
}

/// A checkout created and never paid.
#[derive(Clone, Debug)]
pub struct OpenCheckout {
    pub id: Uuid,
    pub provider: Provider,
    /// Razorpay's subscription id, or Stripe's Checkout Session id.
    pub remote_id: String,
}

/// The tenant's open checkouts (created, never paid).
pub async fn open_checkouts(t: &Tenant<'_>) -> Result<Vec<OpenCheckout>, AppError> {
    Ok(t.tx
        .query(
            "SELECT id, payment_method, coalesce(razorpay_subscription_id, stripe_checkout_session_id) \
             FROM subscriptions WHERE status = 'created' AND NOT is_current AND payment_method IS NOT NULL",
            &[],
        )
        .await?
        .iter()
        .filter_map(|r| {
            Some(OpenCheckout {
                id: r.get(0),
                provider: Provider::parse(r.get(1))?,
                remote_id: r.get::<_, Option<String>>(2)?,
            })
        })
        .collect())
}

/// Marks an open checkout cancelled (it was closed at its provider).
pub async fn close_checkout(t: &Tenant<'_>, id: Uuid) -> Result<(), AppError> {
    t.tx.execute(
        "UPDATE subscriptions SET status = 'cancelled', provider_status = 'cancelled' \
         WHERE id = $1 AND status = 'created' AND NOT is_current",
        &[&id],
    )
    .await?;
    Ok(())
}

/// Records a checkout made at its provider: not current until paid. None when the user
/// already has an open checkout (another request made one meanwhile).
pub async fn create_checkout(
    t: &Tenant<'_>,
    c: &Checkout<'_>,
) -> Result<Option<Subscription>, AppError> {
    let (razorpay_id, stripe_session) = match c.provider {
        Provider::Razorpay => (Some(c.remote_id), None),
        Provider::Stripe => (None, Some(c.remote_id)),
    };
    let sql = format!(
        "INSERT INTO subscriptions (id, user_id, tier, billing_cycle, price, currency, status, is_current, \
                                    payment_method, razorpay_subscription_id, stripe_checkout_session_id, \
                                    provider_status, current_period_start, current_period_end, \
                                    monthly_ai_credits_limit) \
         VALUES ($1, $2, $3, $4, $5, $6, 'created', false, $7, $8, $9, 'created', $10, $11, $12) \
         ON CONFLICT (user_id) WHERE status = 'created' AND NOT is_current DO NOTHING RETURNING {COLUMNS}"
    );
    let row =
        t.tx.query_opt(
            &sql,
            &[
                &c.id,
                &t.user().0,
                &c.tier.as_str(),
                &c.billing_cycle.as_str(),
                &c.price,
                &c.currency,
                &c.provider.as_str(),
                &razorpay_id,
                &stripe_session,
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

/// Ends the current subscription now, as its provider confirmed.
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
    /// Stripe's subscription id, once known.
    pub stripe_subscription_id: Option<String>,
    pub tier: Tier,
    pub status: SubscriptionStatus,
    pub is_current: bool,
    pub current_period_start: DateTime<Utc>,
    pub last_event_at: Option<DateTime<Utc>>,
    /// A newer paid subscription replaced it: it never becomes current again.
    pub superseded: bool,
    /// The period came from a provider's event (not the checkout's estimate).
    pub period_confirmed: bool,
}

const BILLED: &str = "id, user_id, stripe_subscription_id, tier, status, is_current, current_period_start, \
                      last_event_at, superseded_at IS NOT NULL, period_confirmed";

impl From<&Row> for Billed {
    fn from(r: &Row) -> Self {
        Self {
            id: r.get(0),
            user_id: r.get(1),
            stripe_subscription_id: r.get(2),
            tier: Tier::parse(r.get(3)).unwrap_or(Tier::Starter),
            status: SubscriptionStatus::parse(r.get(4)).unwrap_or(SubscriptionStatus::Expired),
            is_current: r.get(5),
            current_period_start: r.get(6),
            last_event_at: r.get(7),
            superseded: r.get(8),
            period_confirmed: r.get(9),
        }
    }
}

/// The one subscription `condition` (over `params`) names, locked for the event.
async fn lock_where(
    w: &Worker<'_>,
    condition: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Option<Billed>, AppError> {
    let sql = format!("SELECT {BILLED} FROM subscriptions s WHERE {condition} FOR UPDATE");
    Ok(w.tx
        .query_opt(&sql, params)
        .await?
        .as_ref()
        .map(Billed::from))
}

pub async fn lock_by_razorpay_id(
    w: &Worker<'_>,
    razorpay_id: &str,
) -> Result<Option<Billed>, AppError> {
    lock_where(w, "razorpay_subscription_id = $1", &[&razorpay_id]).await
}

pub async fn lock_by_stripe_subscription(
    w: &Worker<'_>,
    stripe_id: &str,
) -> Result<Option<Billed>, AppError> {
    lock_where(w, "stripe_subscription_id = $1", &[&stripe_id]).await
}

pub async fn lock_by_stripe_checkout(
    w: &Worker<'_>,
    session_id: &str,
) -> Result<Option<Billed>, AppError> {
    lock_where(w, "stripe_checkout_session_id = $1", &[&session_id]).await
}

/// Our Stripe subscription row `id` (named in the Stripe subscription's metadata), if it
/// belongs to the user whose Stripe customer is `customer` and is linked to no other
/// Stripe subscription than `stripe_id`. (Two first events at once both get here; the
/// second waits for the first's lock and then finds the row linked to this same
/// subscription, which must still match.)
pub async fn lock_stripe_row(
    w: &Worker<'_>,
    id: Uuid,
    customer: &str,
    stripe_id: &str,
) -> Result<Option<Billed>, AppError> {
    lock_where(
        w,
        "id = $1 AND payment_method = 'stripe' \
         AND (stripe_subscription_id IS NULL OR stripe_subscription_id = $3) \
         AND EXISTS (SELECT 1 FROM billing_customers c WHERE c.user_id = s.user_id \
                     AND c.provider = 'stripe' AND c.customer_id = $2)",
        &[&id, &customer, &stripe_id],
    )
    .await
}

/// Links our row to the Stripe subscription its checkout created.
pub async fn link_stripe_subscription(
    w: &Worker<'_>,
    sub: &mut Billed,
    stripe_id: &str,
) -> Result<(), AppError> {
    if sub.stripe_subscription_id.is_none() {
        w.tx.execute(
            "UPDATE subscriptions SET stripe_subscription_id = $2 WHERE id = $1",
            &[&sub.id, &stripe_id],
        )
        .await?;
        sub.stripe_subscription_id = Some(stripe_id.to_owned());
    }
    Ok(())
}

/// What a provider charges: its id there, kind and, for a card, brand and last four.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Instrument {
    pub id: Option<String>,
    pub kind: Option<String>,
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
}

/// Records what pays for subscription `id`. Details only fill in: a later event that
/// names the same method without its card keeps the card already known.
pub async fn set_instrument(w: &Worker<'_>, id: Uuid, i: &Instrument) -> Result<(), AppError> {
    let last4 = i
        .card_last4
        .as_deref()
        .filter(|l| l.len() == 4 && l.bytes().all(|b| b.is_ascii_digit()));
    w.tx.execute(
        "UPDATE subscriptions SET \
             card_brand = CASE WHEN $2::text IS DISTINCT FROM payment_method_id AND $2::text IS NOT NULL \
                               THEN $4 ELSE coalesce($4, card_brand) END, \
             card_last4 = CASE WHEN $2::text IS DISTINCT FROM payment_method_id AND $2::text IS NOT NULL \
                               THEN $5 ELSE coalesce($5, card_last4) END, \
             payment_method_type = coalesce($3, payment_method_type), \
             payment_method_id = coalesce($2, payment_method_id) \
         WHERE id = $1",
        &[&id, &i.id, &i.kind, &i.card_brand.as_deref().map(str::to_lowercase), &last4],
    )
    .await?;
    Ok(())
}

/// The Stripe payment method of subscription `id` whose card is not known yet.
pub async fn card_to_fetch(w: &Worker<'_>, id: Uuid) -> Result<Option<String>, AppError> {
    Ok(w.tx
        .query_opt(
            "SELECT payment_method_id FROM subscriptions WHERE id = $1 AND payment_method = 'stripe' \
               AND payment_method_id IS NOT NULL AND card_last4 IS NULL \
               AND coalesce(payment_method_type, 'card') = 'card'",
            &[&id],
        )
        .await?
        .map(|r| r.get(0)))
}

/// What one webhook event changes on a subscription.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Change {
    /// The event proves the subscription was paid for (active, past due or paused):
    /// it becomes the account's current one if it is not yet (and was not superseded).
    pub paid: bool,
    pub status: Option<SubscriptionStatus>,
    pub provider_status: Option<String>,
    pub period: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The tier and its monthly credits, when the plan changed.
    pub tier: Option<(Tier, i32)>,
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
/// stops being current and every other provider subscription of the user is superseded
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
             credits_month_start = CASE WHEN $5::timestamptz IS NOT NULL THEN $5 WHEN $2 THEN now() \
                                        ELSE credits_month_start END, \
             tier = coalesce($7, tier), \
             monthly_ai_credits_limit = coalesce($8, monthly_ai_credits_limit), \
             cancel_at_period_end = coalesce($9, cancel_at_period_end), \
             last_event_at = greatest(last_event_at, $10) \
         WHERE id = $1",
        &[
            &sub.id,
            &becomes_current,
            &change.status.map(SubscriptionStatus::as_str),
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

/// Our statuses of a subscription that can still charge the customer.
const LIVE: &str = "('created', 'active', 'past_due', 'paused')";

/// Supersedes every other provider subscription of `sub`'s user (Razorpay's or
/// Stripe's), so none of them can become current again (a late event for an old one
/// changes nothing); the live ones are cancelled here and marked due for cancelling at
/// their provider: a Razorpay subscription or a Stripe subscription is cancelled, an
/// open Stripe Checkout Session expired.
async fn supersede_others(w: &Worker<'_>, sub: &Billed) -> Result<(), AppError> {
    let sql = format!(
        "UPDATE subscriptions SET superseded_at = now(), \
                status = CASE WHEN status IN {LIVE} THEN 'cancelled' ELSE status END, \
                cancel_at_period_end = CASE WHEN status IN {LIVE} THEN false ELSE cancel_at_period_end END, \
                provider_cancel_due_at = CASE WHEN status IN {LIVE} THEN now() END, \
                provider_cancel_attempts = 0 \
         WHERE user_id = $1 AND id <> $2 AND superseded_at IS NULL AND payment_method IS NOT NULL \
         RETURNING provider_cancel_due_at IS NOT NULL"
    );
    let rows = w.tx.query(&sql, &[&sub.user_id, &sub.id]).await?;
    let n = rows.iter().filter(|r| r.get::<_, bool>(0)).count() as u64;
    if n > 0 {
        tracing::info!(user_id = %sub.user_id, superseded = n, by = %sub.id, "subscriptions superseded");
    }
    Ok(())
}

/// A superseded subscription still to be cancelled at its provider.
#[derive(Clone, Debug)]
pub struct DueCancellation {
    pub id: Uuid,
    pub user_id: Uuid,
    pub provider: Provider,
    /// What to end there: Razorpay's or Stripe's subscription, or Stripe's open
    /// Checkout Session (`checkout`).
    pub remote_id: String,
    pub checkout: bool,
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
            "UPDATE subscriptions SET provider_cancel_due_at = now() + interval '2 minutes', \
                    provider_cancel_attempts = provider_cancel_attempts + 1 \
             WHERE id IN (SELECT id FROM subscriptions \
                          WHERE provider_cancel_due_at <= now() AND ($1::uuid IS NULL OR user_id = $1) \
                          ORDER BY provider_cancel_due_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
             RETURNING id, user_id, payment_method, \
                       coalesce(razorpay_subscription_id, stripe_subscription_id, stripe_checkout_session_id), \
                       stripe_subscription_id IS NULL AND razorpay_subscription_id IS NULL, \
                       provider_cancel_attempts",
            &[&user, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(DueCancellation {
                id: r.get(0),
                user_id: r.get(1),
                provider: Provider::parse(r.get(2))?,
                remote_id: r.get::<_, Option<String>>(3)?,
                checkout: r.get(4),
                attempts: r.get(5),
            })
        })
        .collect())
}

/// The provider confirmed the subscription ended (`provider_status` as it reported).
pub async fn cancellation_done(
    w: &Worker<'_>,
    id: Uuid,
    provider_status: &str,
) -> Result<(), AppError> {
    w.tx.execute(
        "UPDATE subscriptions SET provider_cancel_due_at = NULL, provider_cancel_error = NULL, \
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
        "UPDATE subscriptions SET provider_cancel_error = $2, \
                provider_cancel_due_at = now() + make_interval(secs => $3) WHERE id = $1",
        &[&id, &error, &(retry_in_seconds as f64)],
    )
    .await?;
    Ok(())
}

/// Starts a new credit month for every active annual subscription whose month is over
/// (credits reset monthly within an annual plan; each paid period resets them too). The
/// month moves on by whole months from the period's start, so however often this runs
/// (or runs at once), each month resets once. Returns how many were reset.
pub async fn roll_annual_credit_months(w: &Worker<'_>) -> Result<u64, AppError> {
    Ok(w.tx.execute(
        "UPDATE subscriptions s SET monthly_ai_credits_used = 0, \
                credits_month_start = s.credits_month_start + make_interval(months => m.months) \
         FROM (SELECT id, (SELECT max(n) FROM generate_series(1, 24) n \
                           WHERE credits_month_start + make_interval(months => n) <= now()) AS months \
               FROM subscriptions WHERE is_current AND billing_cycle = 'annual' \
                 AND credits_month_start + interval '1 month' <= now() \
                 AND credits_month_start < current_period_end) m \
         WHERE s.id = m.id AND s.status = 'active' \
           AND s.credits_month_start + interval '1 month' <= now()",
        &[],
    )
    .await?)
}

/// Ends every trial whose period is over (status `expired`; spending already stopped at
/// its end). Returns how many ended; running it again ends none.
pub async fn expire_trials(w: &Worker<'_>) -> Result<u64, AppError> {
    let ended = w
        .tx
        .query(
            "UPDATE subscriptions SET status = 'expired' \
             WHERE is_current AND status = 'trial' AND current_period_end <= now() RETURNING id, user_id",
            &[],
        )
        .await?;
    for r in &ended {
        let (id, user): (Uuid, Uuid) = (r.get(0), r.get(1));
        let notice = Notice {
            category: Category::Trial,
            event_key: format!("trial:{id}:ended"),
            title: "Your free trial has ended".into(),
            body: "Your ads keep their history, but new generations and launches need a plan. Choose one to carry on.".into(),
            link: Some("/billing".into()),
        };
        notifications::notify(w, user, &notice).await?;
    }
    Ok(ended.len() as u64)
}

/// Tells owners whose trial ends within three days, once per trial; how many were told.
pub async fn tell_trials_ending(w: &Worker<'_>) -> Result<u64, AppError> {
    let ending = w
        .tx
        .query(
            "SELECT s.id, s.user_id, s.current_period_end FROM subscriptions s \
             WHERE s.is_current AND s.status = 'trial' \
               AND s.current_period_end > now() AND s.current_period_end <= now() + interval '3 days' \
               AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = s.user_id \
                                 AND n.event_key = 'trial:' || s.id || ':ending')",
            &[],
        )
        .await?;
    for r in &ending {
        let (id, user, ends): (Uuid, Uuid, DateTime<Utc>) = (r.get(0), r.get(1), r.get(2));
        let days = ((ends - Utc::now()).num_hours() as f64 / 24.0)
            .ceil()
            .max(1.0) as i64;
        let notice = Notice {
            category: Category::Trial,
            event_key: format!("trial:{id}:ending"),
            title: format!(
                "Your free trial ends in {days} day{}",
                if days == 1 { "" } else { "s" }
            ),
            body: format!(
                "Your trial ends on {}. Choose a plan to keep generating ads and running campaigns.",
                ends.format("%e %B %Y").to_string().trim()
            ),
            link: Some("/billing".into()),
        };
        notifications::notify(w, user, &notice).await?;
    }
    Ok(ending.len() as u64)
}
