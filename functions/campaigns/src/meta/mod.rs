//! Campaigns on Meta: launching (`launch`), keeping a launched campaign the same there
//! as here (`lifecycle`), and Meta's delivery estimate before spending (`estimate`). Meta always changes first; our row
//! follows Meta's answer, so what the user sees is what is spending.

pub mod estimate;
pub mod launch;
pub mod lifecycle;
pub mod spec;

use chrono::Utc;
use shared::domain::{CampaignId, UserId};
use shared::error::AppError;
use shared::meta::{ErrorKind, GraphError};
use shared::repo::campaigns::{self, Claim};
use shared::repo::meta_accounts::Access;
use uuid::Uuid;

use crate::State;

/// What changing a campaign's ads on Meta takes: the pool, the Graph client, the token
/// cipher and S3 (the media the ads show). The campaigns API lends its `State`; the
/// optimizer lends its own parts (`Parts`) when it adds a replacement creative's ad.
pub trait MetaParts {
    fn db(&self) -> &shared::db::Db;
    fn graph(&self) -> &shared::meta::Graph;
    fn cipher(&self) -> &shared::crypto::TokenCipher;
    fn storage(&self) -> &shared::aws::storage::Storage;
}

impl MetaParts for State {
    fn db(&self) -> &shared::db::Db {
        &self.db
    }
    fn graph(&self) -> &shared::meta::Graph {
        &self.graph
    }
    fn cipher(&self) -> &shared::crypto::TokenCipher {
        &self.cipher
    }
    fn storage(&self) -> &shared::aws::storage::Storage {
        &self.storage
    }
}

/// Borrowed parts, for a function other than the campaigns API.
pub struct Parts<'a> {
    pub db: &'a shared::db::Db,
    pub graph: &'a shared::meta::Graph,
    pub cipher: &'a shared::crypto::TokenCipher,
    pub storage: &'a shared::aws::storage::Storage,
}

impl MetaParts for Parts<'_> {
    fn db(&self) -> &shared::db::Db {
        self.db
    }
    fn graph(&self) -> &shared::meta::Graph {
        self.graph
    }
    fn cipher(&self) -> &shared::crypto::TokenCipher {
        self.cipher
    }
    fn storage(&self) -> &shared::aws::storage::Storage {
        self.storage
    }
}

/// The tenant's campaign (404 when it is not theirs), what it has on Meta, and the
/// access to its ad account (None before it has one, or when its connection is gone).
pub async fn with_access(
    t: &shared::db::Tenant<'_>,
    user: UserId,
    id: CampaignId,
) -> Result<(campaigns::Campaign, campaigns::MetaLink, Option<Access>), AppError> {
    let c = campaigns::get(t, id, false)
        .await?
        .ok_or(AppError::NotFound)?;
    let link = campaigns::meta_link(t, id).await?;
    let access = match &link.ad_account_id {
        Some(act) => shared::repo::meta_accounts::access_for(t, user.0, act).await?,
        None => None,
    };
    Ok((c, link, access))
}

/// The token of an ad account's connection, or the 409 that asks to reconnect.
pub fn token_of(
    state: &impl MetaParts,
    access: Option<Access>,
) -> Result<(Access, String), AppError> {
    let access = access.ok_or(AppError::Conflict {
        code: "meta_reconnect_required",
        detail:
            "The Meta connection for this campaign's ad account is gone or expired. Connect again."
                .into(),
    })?;
    let token = state.cipher().open(&access.sealed_token)?;
    Ok((access, token))
}

/// Runs `work` holding the campaign's claim: a campaign is launched, edited, paused or
/// deleted (on Meta, then here) by one request at a time, so neither Meta nor our row
/// can end up with a change the other lacks. A second caller gets 409
/// `launch_in_progress` with the progress, saying `busy`. The claim is given back
/// however `work` ends.
pub async fn claimed<T>(
    state: &impl MetaParts,
    user: UserId,
    id: CampaignId,
    busy: &'static str,
    work: impl AsyncFnOnce(Uuid) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let claim = Uuid::new_v4();
    let held = state
        .db()
        .tenant(user, async |t| campaigns::claim_launch(t, id, claim).await)
        .await?;
    if let Claim::Held { until, progress } = held {
        return Err(AppError::InProgress {
            code: "launch_in_progress",
            detail: busy.into(),
            progress: serde_json::to_value(progress.unwrap_or_default())
                .map_err(AppError::internal)?,
            retry_at: until,
        });
    }
    let outcome = work(claim).await;
    if let Err(e) = state
        .db()
        .tenant(user, async |t| {
            campaigns::release_launch(t, id, claim).await
        })
        .await
    {
        tracing::warn!(campaign_id = %id, error = %e, "launch claim not released; it expires by itself");
    }
    outcome
}

/// A Meta failure as the API answers it.
pub fn meta_error(e: GraphError) -> AppError {
    match e.kind {
        ErrorKind::RateLimited => AppError::RateLimited {
            code: "meta_rate_limited",
            detail: format!("Meta asks us to slow down: {}", e.message),
            retry_at: Utc::now() + chrono::Duration::minutes(5),
        },
        ErrorKind::TokenInvalid => AppError::Conflict {
            code: "meta_reconnect_required",
            detail: format!(
                "Meta no longer accepts this connection ({}). Connect your account again.",
                e.message
            ),
        },
        _ => AppError::Upstream {
            service: "Meta",
            detail: e.message,
        },
    }
}
