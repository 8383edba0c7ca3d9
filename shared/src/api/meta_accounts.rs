//! The `meta_accounts` responses: what the API answers, each made from its `shared::repo::meta_accounts` row.

use crate::repo::meta_accounts as row;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A connection as its owner sees it (never the token).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Connection {
    /// The connection's id.
    pub id: Uuid,
    /// The Meta user who connected.
    pub meta_user_id: String,
    /// Their name on Meta.
    pub meta_user_name: Option<String>,
    /// active; expiring (the token ends within 7 days: reconnect before
    /// `token_expires_at` to keep syncing); expired (reconnect); revoked; or error.
    pub connection_status: String,
    /// Permissions Meta reports as granted.
    pub granted_permissions: Vec<String>,
    /// When Meta's token expires (reconnect before then).
    pub token_expires_at: Option<DateTime<Utc>>,
    /// How many ad accounts it may use.
    pub ad_account_count: i64,
    /// When insights were last synced.
    pub last_sync: Option<DateTime<Utc>>,
    /// The last sync's error, if it failed.
    pub last_error: Option<String>,
    /// When it was connected.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<row::Connection> for Connection {
    fn from(r: row::Connection) -> Self {
        Self {
            id: r.id,
            meta_user_id: r.meta_user_id,
            meta_user_name: r.meta_user_name,
            connection_status: r.connection_status,
            granted_permissions: r.granted_permissions,
            token_expires_at: r.token_expires_at,
            ad_account_count: r.ad_account_count,
            last_sync: r.last_sync,
            last_error: r.last_error,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// An ad account of a connection.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AdAccount {
    /// `act_<digits>`.
    pub ad_account_id: String,
    /// The ad account's name on Meta.
    pub name: Option<String>,
    /// Meta's account_status (1 active, 2 disabled, 3 unsettled, 7 pending review, …).
    pub account_status: i32,
    /// The ad account's currency (ISO 4217): its campaigns' budgets are in it.
    pub currency: String,
    /// Its time zone (IANA name), which Meta's days follow.
    pub timezone_name: Option<String>,
    /// Hours the account's time zone is ahead of UTC (Meta's `timezone_offset_hours_utc`):
    /// its insights days are days there.
    #[schema(value_type = Option<String>, example = "5.5")]
    pub timezone_offset_hours: Option<rust_decimal::Decimal>,
    /// Whether its insights are synced.
    pub sync_enabled: bool,
    /// When it was last synced.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// The owner's ceiling on the account's daily budgets together, which the optimizer
    /// never raises a budget past; none: only each campaign's own maximum applies.
    #[schema(value_type = Option<String>, example = "5000.00")]
    pub optimizer_budget_cap: Option<rust_decimal::Decimal>,
}

impl From<row::AdAccount> for AdAccount {
    fn from(r: row::AdAccount) -> Self {
        Self {
            ad_account_id: r.ad_account_id,
            name: r.name,
            account_status: r.account_status,
            currency: r.currency,
            timezone_name: r.timezone_name,
            timezone_offset_hours: r.timezone_offset_hours,
            sync_enabled: r.sync_enabled,
            last_sync_at: r.last_sync_at,
            optimizer_budget_cap: r.optimizer_budget_cap,
        }
    }
}
