//! `meta_accounts` (a user's Meta connections, tokens sealed with AES-256-GCM) and
//! `meta_ad_accounts` (the ad accounts each may use), plus the per-account hourly call
//! budget in `meta_rate_windows`.

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::crypto::Sealed;
use crate::db::{Tenant, Tx, Worker};
use crate::domain::notification::{Category, Notice};
use crate::error::AppError;
use crate::repo::notifications;

/// A connection as its owner sees it (never the token).
#[derive(Clone, Debug)]
pub struct Connection {
    pub id: Uuid,
    pub meta_user_id: String,
    pub meta_user_name: Option<String>,
    /// active; expiring (the token ends within 7 days: reconnect before
    /// `token_expires_at` to keep syncing); expired (reconnect); revoked; or error.
    pub connection_status: String,
    /// Permissions Meta reports as granted.
    pub granted_permissions: Vec<String>,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub ad_account_count: i64,
    pub last_sync: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A connection's columns; its status reads `expiring` 7 days before its token ends
/// (long-lived tokens last about 60 days) and `expired` after.
const CONNECTION: &str = "m.id, m.meta_user_id, m.meta_user_name, \
    CASE WHEN m.connection_status = 'active' AND m.token_expires_at <= now() THEN 'expired' \
         WHEN m.connection_status = 'active' AND m.token_expires_at <= now() + make_interval(days => 7) THEN 'expiring' \
         ELSE m.connection_status END AS connection_status, m.permissions, \
    m.token_expires_at, (SELECT count(*) FROM meta_ad_accounts a WHERE a.meta_account_id = m.id) AS ad_accounts, \
    m.last_sync, m.last_error, m.created_at, m.updated_at";

impl From<&Row> for Connection {
    fn from(r: &Row) -> Self {
        let permissions: Option<Value> = r.get("permissions");
        Self {
            id: r.get("id"),
            meta_user_id: r.get("meta_user_id"),
            meta_user_name: r.get("meta_user_name"),
            connection_status: r.get("connection_status"),
            granted_permissions: permissions
                .as_ref()
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|p| p.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            token_expires_at: r.get("token_expires_at"),
            ad_account_count: r.get("ad_accounts"),
            last_sync: r.get("last_sync"),
            last_error: r.get("last_error"),
            created_at: r.get("created_at"),
            updated_at: r.get("updated_at"),
        }
    }
}

/// An ad account of a connection.
#[derive(Clone, Debug)]
pub struct AdAccount {
    /// `act_<digits>`.
    pub ad_account_id: String,
    pub name: Option<String>,
    /// Meta's account_status (1 active, 2 disabled, 3 unsettled, 7 pending review, …).
    pub account_status: i32,
    pub currency: String,
    pub timezone_name: Option<String>,
    /// Hours the account's time zone is ahead of UTC (Meta's `timezone_offset_hours_utc`):
    /// its insights days are days there.
    pub timezone_offset_hours: Option<rust_decimal::Decimal>,
    pub sync_enabled: bool,
    pub last_sync_at: Option<DateTime<Utc>>,
    /// The owner's ceiling on the account's daily budgets together, which the optimizer
    /// never raises a budget past; none: only each campaign's own maximum applies.
    pub optimizer_budget_cap: Option<rust_decimal::Decimal>,
}

impl From<&Row> for AdAccount {
    fn from(r: &Row) -> Self {
        Self {
            ad_account_id: r.get("ad_account_id"),
            name: r.get("name"),
            account_status: r.get("account_status"),
            currency: r.get("currency"),
            timezone_name: r.get("timezone_name"),
            timezone_offset_hours: r.get("timezone_offset_hours"),
            sync_enabled: r.get("sync_enabled"),
            last_sync_at: r.get("last_sync_at"),
            optimizer_budget_cap: r.get("optimizer_budget_cap"),
        }
    }
}

/// What the callback learnt about the Meta user.
pub struct Connected<'a> {
    pub meta_user_id: &'a str,
    pub meta_user_name: Option<&'a str>,
    pub sealed_token: &'a str,
    pub token_expires_at: Option<DateTime<Utc>>,
    pub granted: &'a [String],
    pub ad_accounts: &'a [AdAccount],
}

/// Creates or refreshes the connection and its ad accounts (reconnecting revives an
/// expired or revoked one); ad accounts no longer listed stop syncing.
pub async fn connect(t: &Tenant<'_>, c: &Connected<'_>) -> Result<Uuid, AppError> {
    let ids: Vec<&str> = c
        .ad_accounts
        .iter()
        .map(|a| a.ad_account_id.as_str())
        .collect();
    let id: Uuid = t
        .tx
        .query_one(
            "INSERT INTO meta_accounts (user_id, meta_user_id, meta_user_name, access_token, token_expires_at, \
                                        permissions, ad_account_ids, connection_status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'active') \
             ON CONFLICT (user_id, meta_user_id) DO UPDATE SET meta_user_name = EXCLUDED.meta_user_name, \
                 access_token = EXCLUDED.access_token, token_expires_at = EXCLUDED.token_expires_at, \
                 permissions = EXCLUDED.permissions, ad_account_ids = EXCLUDED.ad_account_ids, \
                 connection_status = 'active', revoked_at = NULL, last_error = NULL \
             RETURNING id",
            &[
                &t.user().0,
                &c.meta_user_id,
                &c.meta_user_name,
                &c.sealed_token,
                &c.token_expires_at,
                &serde_json::json!(c.granted),
                &ids,
            ],
        )
        .await?
        .get(0);
    for a in c.ad_accounts {
        t.tx.execute(
            "INSERT INTO meta_ad_accounts (meta_account_id, user_id, ad_account_id, name, account_status, currency, timezone_name, \
                                           timezone_offset_hours) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (meta_account_id, ad_account_id) DO UPDATE SET name = EXCLUDED.name, \
                 account_status = EXCLUDED.account_status, currency = EXCLUDED.currency, \
                 timezone_name = EXCLUDED.timezone_name, timezone_offset_hours = EXCLUDED.timezone_offset_hours, \
                 sync_enabled = true",
            &[&id, &t.user().0, &a.ad_account_id, &a.name, &a.account_status, &a.currency, &a.timezone_name,
              &a.timezone_offset_hours],
        )
        .await?;
    }
    t.tx.execute(
        "UPDATE meta_ad_accounts SET sync_enabled = false WHERE meta_account_id = $1 AND NOT (ad_account_id = ANY($2))",
        &[&id, &ids],
    )
    .await?;
    Ok(id)
}

pub async fn list(t: &Tenant<'_>) -> Result<Vec<Connection>, AppError> {
    let sql = format!("SELECT {CONNECTION} FROM meta_accounts m ORDER BY m.created_at DESC, m.id");
    Ok(t.tx
        .query(&sql, &[])
        .await?
        .iter()
        .map(Connection::from)
        .collect())
}

pub async fn get(t: &Tenant<'_>, id: Uuid) -> Result<Option<Connection>, AppError> {
    let sql = format!("SELECT {CONNECTION} FROM meta_accounts m WHERE m.id = $1");
    Ok(t.tx
        .query_opt(&sql, &[&id])
        .await?
        .as_ref()
        .map(Connection::from))
}

const AD_ACCOUNT: &str = "ad_account_id, name, account_status, currency, timezone_name, timezone_offset_hours, \
    sync_enabled, last_sync_at, optimizer_budget_cap";

pub async fn ad_accounts(t: &Tenant<'_>, connection: Uuid) -> Result<Vec<AdAccount>, AppError> {
    let rows = t
        .tx
        .query(
            &format!(
                "SELECT {AD_ACCOUNT} FROM meta_ad_accounts WHERE meta_account_id = $1 ORDER BY ad_account_id"
            ),
            &[&connection],
        )
        .await?;
    Ok(rows.iter().map(AdAccount::from).collect())
}

/// One ad account of a connection, locked for an update.
pub async fn ad_account_for_update(
    t: &Tenant<'_>,
    connection: Uuid,
    ad_account_id: &str,
) -> Result<Option<AdAccount>, AppError> {
    Ok(t
        .tx
        .query_opt(
            &format!(
                "SELECT {AD_ACCOUNT} FROM meta_ad_accounts WHERE meta_account_id = $1 AND ad_account_id = $2 FOR UPDATE"
            ),
            &[&connection, &ad_account_id],
        )
        .await?
        .as_ref()
        .map(AdAccount::from))
}

/// Sets (or, with None, lifts) the optimizer's ceiling on the ad account's daily budgets.
pub async fn set_budget_cap(
    t: &Tenant<'_>,
    connection: Uuid,
    ad_account_id: &str,
    cap: Option<rust_decimal::Decimal>,
) -> Result<Option<AdAccount>, AppError> {
    Ok(t.tx
        .query_opt(
            &format!(
                "UPDATE meta_ad_accounts SET optimizer_budget_cap = $3 \
                  WHERE meta_account_id = $1 AND ad_account_id = $2 RETURNING {AD_ACCOUNT}"
            ),
            &[&connection, &ad_account_id, &cap],
        )
        .await?
        .as_ref()
        .map(AdAccount::from))
}

/// A live campaign running on one of a connection's ad accounts.
pub struct LiveCampaign {
    pub id: Uuid,
    pub name: String,
    pub meta_campaign_id: String,
}

/// The connection's sealed token and the active campaigns on its ad accounts.
pub async fn live_campaigns(
    t: &Tenant<'_>,
    connection: Uuid,
) -> Result<Option<(Sealed, Vec<LiveCampaign>)>, AppError> {
    let Some(token) =
        t.tx.query_opt(
            &format!("SELECT {TOKEN} FROM meta_accounts m WHERE id = $1 FOR UPDATE"),
            &[&connection],
        )
        .await?
    else {
        return Ok(None);
    };
    let rows = t
        .tx
        .query(
            "SELECT c.id, c.name, c.meta_campaign_id FROM campaigns c \
             WHERE c.status = 'active' AND c.deleted_at IS NULL AND c.meta_campaign_id IS NOT NULL \
               AND c.meta_ad_account_id IN (SELECT ad_account_id FROM meta_ad_accounts WHERE meta_account_id = $1) \
             ORDER BY c.created_at, c.id",
            &[&connection],
        )
        .await?;
    Ok(Some((
        sealed(&token, 0),
        rows.iter()
            .map(|r| LiveCampaign {
                id: r.get(0),
                name: r.get(1),
                meta_campaign_id: r.get(2),
            })
            .collect(),
    )))
}

/// Revokes a connection locally: the token is erased and syncing stops.
pub async fn revoke(t: &Tenant<'_>, id: Uuid) -> Result<bool, AppError> {
    let n =
        t.tx.execute(
            "UPDATE meta_accounts SET connection_status = 'revoked', revoked_at = now(), access_token = '' \
             WHERE id = $1",
            &[&id],
        )
        .await?;
    t.tx.execute(
        "UPDATE meta_ad_accounts SET sync_enabled = false WHERE meta_account_id = $1",
        &[&id],
    )
    .await?;
    Ok(n == 1)
}

/// The sealed token of the active connection that may use `ad_account_id`.
pub struct Access {
    pub connection: Uuid,
    pub sealed_token: Sealed,
    pub currency: String,
    /// The pixel sales and leads campaigns optimise for, once chosen.
    pub pixel_id: Option<String>,
    /// Hours the account's time zone is ahead of UTC (as Meta last reported it).
    pub timezone_offset_hours: Option<rust_decimal::Decimal>,
}

pub async fn access_for(
    t: &impl Tx,
    user: Uuid,
    ad_account_id: &str,
) -> Result<Option<Access>, AppError> {
    let row = t
        .tx()
        .query_opt(
            &format!("SELECT m.id, a.currency, a.pixel_id, a.timezone_offset_hours, {TOKEN} FROM meta_ad_accounts a \
             JOIN meta_accounts m ON m.id = a.meta_account_id \
             WHERE a.user_id = $1 AND a.ad_account_id = $2 AND m.connection_status = 'active' AND m.access_token <> '' \
             ORDER BY m.updated_at DESC LIMIT 1"),
            &[&user, &ad_account_id],
        )
        .await?;
    Ok(row.map(|r| Access {
        connection: r.get(0),
        currency: r.get(1),
        pixel_id: r.get(2),
        timezone_offset_hours: r.get(3),
        sealed_token: sealed(&r, 4),
    }))
}

/// The account's "today": the date in its time zone (UTC when Meta never said).
pub async fn local_today(
    w: &Worker<'_>,
    ad_account_id: &str,
) -> Result<chrono::NaiveDate, AppError> {
    let offset: Option<rust_decimal::Decimal> =
        w.tx.query_opt(
            "SELECT timezone_offset_hours FROM meta_ad_accounts WHERE ad_account_id = $1 \
             AND timezone_offset_hours IS NOT NULL LIMIT 1",
            &[&ad_account_id],
        )
        .await?
        .and_then(|r| r.get(0));
    Ok(local_date(Utc::now(), offset))
}

/// The date at `now` in a zone `offset_hours` ahead of UTC.
pub fn local_date(
    now: DateTime<Utc>,
    offset_hours: Option<rust_decimal::Decimal>,
) -> chrono::NaiveDate {
    local_time(now, offset_hours).date()
}

/// The wall-clock time at `now` in a zone `offset_hours` ahead of UTC (UTC when unknown).
pub fn local_time(
    now: DateTime<Utc>,
    offset_hours: Option<rust_decimal::Decimal>,
) -> chrono::NaiveDateTime {
    use rust_decimal::prelude::ToPrimitive;
    let minutes = offset_hours
        .and_then(|h| (h * rust_decimal::Decimal::from(60)).round().to_i64())
        .unwrap_or(0);
    (now + chrono::Duration::minutes(minutes)).naive_utc()
}

/// Remembers the pixel chosen for an ad account of the tenant.
pub async fn set_pixel(t: &Tenant<'_>, ad_account_id: &str, pixel: &str) -> Result<(), AppError> {
    t.tx.execute(
        "UPDATE meta_ad_accounts SET pixel_id = $2 WHERE ad_account_id = $1",
        &[&ad_account_id, &pixel],
    )
    .await?;
    Ok(())
}

/// The user's first active ad account (of an active connection) billing in `currency`.
pub async fn default_ad_account(
    t: &Tenant<'_>,
    currency: &str,
) -> Result<Option<String>, AppError> {
    Ok(t
        .tx
        .query_opt(
            "SELECT a.ad_account_id FROM meta_ad_accounts a JOIN meta_accounts m ON m.id = a.meta_account_id \
             WHERE a.account_status = 1 AND a.currency = $1 AND m.connection_status = 'active' \
               AND m.access_token <> '' ORDER BY a.created_at, a.ad_account_id LIMIT 1",
            &[&currency],
        )
        .await?
        .map(|r| r.get(0)))
}

/// Marks a connection expired (Meta answered 190): syncing stops until the user reconnects.
/// The owner hears of it once per expiry, in the same transaction.
pub async fn mark_expired(t: &impl Tx, connection: Uuid, why: &str) -> Result<(), AppError> {
    let row = t
        .tx()
        .query_opt(
            "UPDATE meta_accounts SET connection_status = 'expired', last_error = $2 \
             WHERE id = $1 AND connection_status <> 'expired' RETURNING user_id, updated_at",
            &[&connection, &why],
        )
        .await?;
    if let Some(r) = row {
        let (user, at): (Uuid, DateTime<Utc>) = (r.get(0), r.get(1));
        let notice = Notice {
            category: Category::MetaConnection,
            event_key: format!("meta:{connection}:expired:{}", at.timestamp()),
            title: "Your Meta connection has expired".into(),
            body: "Adpilot can no longer read your ads' results or change them. Reconnect Meta to carry on.".into(),
            link: Some("/settings/meta".into()),
        };
        notifications::notify(t, user, &notice).await?;
    }
    Ok(())
}

/// Tells owners whose Meta token expires within seven days, once per token; how many.
pub async fn tell_tokens_expiring(w: &Worker<'_>) -> Result<u64, AppError> {
    let rows = w
        .tx
        .query(
            "SELECT m.id, m.user_id, m.token_expires_at FROM meta_accounts m \
             WHERE m.connection_status = 'active' AND m.access_token <> '' \
               AND m.token_expires_at > now() AND m.token_expires_at <= now() + interval '7 days' \
               AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = m.user_id \
                                 AND n.event_key = 'meta:' || m.id || ':expiring:' || floor(extract(epoch FROM m.token_expires_at))::bigint)",
            &[],
        )
        .await?;
    for r in &rows {
        let (id, user, expires): (Uuid, Uuid, DateTime<Utc>) = (r.get(0), r.get(1), r.get(2));
        let notice = Notice {
            category: Category::MetaConnection,
            event_key: format!("meta:{id}:expiring:{}", expires.timestamp()),
            title: "Your Meta connection expires soon".into(),
            body: format!(
                "Meta's permission for Adpilot ends on {}. Reconnect Meta before then so syncing and optimisation keep running.",
                expires.format("%e %B %Y").to_string().trim()
            ),
            link: Some("/settings/meta".into()),
        };
        notifications::notify(w, user, &notice).await?;
    }
    Ok(rows.len() as u64)
}

/// An ad account the hourly sync should pull.
#[derive(Clone, Debug)]
pub struct SyncTarget {
    pub user_id: Uuid,
    pub connection: Uuid,
    pub ad_account_id: String,
}

/// Enabled ad accounts of active connections that have launched campaigns and no sync
/// job waiting or running.
pub async fn sync_targets(w: &Worker<'_>) -> Result<Vec<SyncTarget>, AppError> {
    let rows = w
        .tx
        .query(
            "SELECT a.user_id, a.meta_account_id, a.ad_account_id FROM meta_ad_accounts a \
             JOIN meta_accounts m ON m.id = a.meta_account_id \
             WHERE m.connection_status = 'active' AND a.sync_enabled AND a.account_status = 1 \
               AND EXISTS (SELECT 1 FROM campaigns c WHERE c.user_id = a.user_id \
                           AND c.meta_ad_account_id = a.ad_account_id AND c.meta_campaign_id IS NOT NULL \
                           AND c.deleted_at IS NULL) \
               AND NOT EXISTS (SELECT 1 FROM background_jobs j WHERE j.user_id = a.user_id \
                               AND j.job_type = 'meta_sync' AND j.status IN ('pending', 'running') \
                               AND j.parameters->>'ad_account_id' = a.ad_account_id \
                               AND j.created_at > now() - interval '6 hours') \
             ORDER BY a.last_sync_at NULLS FIRST",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| SyncTarget {
            user_id: r.get(0),
            connection: r.get(1),
            ad_account_id: r.get(2),
        })
        .collect())
}

/// The connection's sealed token and status, for a worker.
pub async fn token_of(
    w: &Worker<'_>,
    connection: Uuid,
) -> Result<Option<(Sealed, String)>, AppError> {
    let row =
        w.tx.query_opt(
            &format!("SELECT connection_status, {TOKEN} FROM meta_accounts m WHERE id = $1"),
            &[&connection],
        )
        .await?;
    Ok(row.map(|r| (sealed(&r, 1), r.get(0))))
}

pub async fn mark_synced(
    w: &Worker<'_>,
    connection: Uuid,
    ad_account_id: &str,
) -> Result<(), AppError> {
    w.tx.execute(
        "UPDATE meta_ad_accounts SET last_sync_at = now() WHERE meta_account_id = $1 AND ad_account_id = $2",
        &[&connection, &ad_account_id],
    )
    .await?;
    w.tx.execute(
        "UPDATE meta_accounts SET last_sync = now(), last_error = NULL WHERE id = $1",
        &[&connection],
    )
    .await?;
    Ok(())
}

/// Marks every ad account with this id disabled on Meta's word (webhook).
pub async fn disable_ad_account(
    w: &Worker<'_>,
    ad_account_id: &str,
    status: i32,
) -> Result<u64, AppError> {
    Ok(w.tx
        .execute(
            "UPDATE meta_ad_accounts SET account_status = $2 WHERE ad_account_id = $1",
            &[&ad_account_id, &status],
        )
        .await?)
}

/// Calls left this hour for `ad_account_id` under `limit`, and until when Meta asked us to wait.
pub async fn budget(
    w: &Worker<'_>,
    ad_account_id: &str,
    limit: i32,
) -> Result<(i32, Option<DateTime<Utc>>), AppError> {
    let row =
        w.tx.query_one(
            "SELECT coalesce((SELECT calls FROM meta_rate_windows WHERE ad_account_id = $1 \
                               AND window_start = date_trunc('hour', now())), 0), \
                    (SELECT max(throttled_until) FROM meta_rate_windows WHERE ad_account_id = $1 \
                      AND throttled_until > now())",
            &[&ad_account_id],
        )
        .await?;
    let used: i32 = row.get(0);
    Ok(((limit - used).max(0), row.get(1)))
}

/// Counts `calls` against this hour and keeps Meta's last usage report; `throttle_until`
/// records a wait Meta asked for.
pub async fn record_calls(
    w: &Worker<'_>,
    ad_account_id: &str,
    calls: i32,
    usage: Option<&Value>,
    throttle_until: Option<DateTime<Utc>>,
) -> Result<(), AppError> {
    w.tx.execute(
        "INSERT INTO meta_rate_windows (ad_account_id, window_start, calls, throttled_until, last_usage) \
         VALUES ($1, date_trunc('hour', now()), $2, $3, $4) \
         ON CONFLICT (ad_account_id, window_start) DO UPDATE SET calls = meta_rate_windows.calls + EXCLUDED.calls, \
             throttled_until = greatest(meta_rate_windows.throttled_until, EXCLUDED.throttled_until), \
             last_usage = coalesce(EXCLUDED.last_usage, meta_rate_windows.last_usage)",
        &[&ad_account_id, &calls, &throttle_until, &usage],
    )
    .await?;
    Ok(())
}

/// Every stored token with its row, for re-sealing.
pub async fn sealed_tokens(w: &Worker<'_>) -> Result<Vec<(Uuid, Sealed)>, AppError> {
    let rows =
        w.tx.query(
            &format!("SELECT id, {TOKEN} FROM meta_accounts m WHERE access_token <> '' FOR UPDATE"),
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), sealed(r, 1))).collect())
}

/// What a connection's token is sealed for: its user and Meta account, so a token
/// copied into another row (or another user's) does not open.
pub fn token_binding(user_id: Uuid, meta_user_id: &str) -> String {
    format!("meta_accounts:{user_id}:{meta_user_id}")
}

/// The columns `sealed` reads, from `meta_accounts m`.
const TOKEN: &str = "m.access_token, m.user_id, m.meta_user_id";

/// The newest active connection's token, for reads on the user's behalf (their Page).
pub async fn newest_token(t: &Tenant<'_>) -> Result<Option<Sealed>, AppError> {
    let sql = format!(
        "SELECT {TOKEN} FROM meta_accounts m WHERE connection_status = 'active' AND access_token <> '' \
         ORDER BY updated_at DESC LIMIT 1"
    );
    Ok(t.tx.query_opt(&sql, &[]).await?.map(|r| sealed(&r, 0)))
}

/// The token at column `at` (of `TOKEN`), bound to its row.
fn sealed(r: &Row, at: usize) -> Sealed {
    Sealed {
        value: r.get(at),
        bound_to: token_binding(r.get(at + 1), r.get::<_, &str>(at + 2)),
    }
}

pub async fn replace_token(w: &Worker<'_>, id: Uuid, sealed: &str) -> Result<(), AppError> {
    w.tx.execute(
        "UPDATE meta_accounts SET access_token = $2 WHERE id = $1",
        &[&id, &sealed],
    )
    .await?;
    Ok(())
}

/// Marks a Facebook Login state used by the tenant. False when it was used before (by
/// anyone: the hash is unique across users), so a state completes at most one connect.
pub async fn consume_state(
    t: &Tenant<'_>,
    state_hash: &str,
    expires_at: DateTime<Utc>,
) -> Result<bool, AppError> {
    let n =
        t.tx.execute(
            "INSERT INTO meta_oauth_states (state_hash, user_id, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (state_hash) DO NOTHING",
            &[&state_hash, &t.user().0, &expires_at],
        )
        .await?;
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accounts_today_is_the_date_in_its_time_zone() {
        let now: DateTime<Utc> = "2026-12-01T20:00:00Z".parse().unwrap();
        let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        assert_eq!(
            local_date(now, Some("5.5".parse().unwrap())),
            d("2026-12-02")
        );
        assert_eq!(
            local_date(now, Some("-8".parse().unwrap())),
            d("2026-12-01")
        );
        let early: DateTime<Utc> = "2026-12-01T03:00:00Z".parse().unwrap();
        assert_eq!(
            local_date(early, Some("-8".parse().unwrap())),
            d("2026-11-30")
        );
        assert_eq!(local_date(early, None), d("2026-12-01"));
    }
}
