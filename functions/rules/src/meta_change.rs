//! Sending one optimization change to Meta — an ad set's daily budget (in the
//! currency's minor units) or targeting, a campaign's or an ad's status — with the owner's token for
//! the campaign's ad account. Shared by the optimizer (acting) and revert (undoing).

use shared::crypto::TokenCipher;
use shared::db::Db;
use shared::domain::UserId;
use shared::domain::campaign::MetaStatus;
use shared::domain::money::Currency;
use shared::meta::Graph;
use shared::meta::ads::{self, Budget};
use shared::repo::meta_accounts;
use shared::rules::guards::Change;
use uuid::Uuid;

/// What Meta calls are made with.
pub struct MetaAccess<'a> {
    pub db: &'a Db,
    pub graph: &'a Graph,
    pub cipher: &'a TokenCipher,
}

/// Where a campaign (or one of its ads) lives on Meta.
#[derive(Clone, Debug)]
pub struct OnMeta {
    pub currency: Currency,
    pub ad_account_id: Option<String>,
    pub meta_campaign_id: Option<String>,
    pub meta_adset_id: Option<String>,
    /// Set when the change is to one creative's ad.
    pub meta_ad_id: Option<String>,
}

/// Sends the change to Meta; the error text when Meta refused or could not be reached.
pub async fn send(
    m: &MetaAccess<'_>,
    user: Uuid,
    c: &OnMeta,
    change: &Change,
) -> Result<(), String> {
    if *change == Change::Notify {
        return Ok(());
    }
    let account = c
        .ad_account_id
        .as_deref()
        .ok_or("the campaign has no ad account")?;
    let access =
        m.db.tenant(UserId(user), async |t| {
            meta_accounts::access_for(t, user, account).await
        })
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no active Meta connection can use the campaign's ad account")?;
    let token = m
        .cipher
        .open(&access.sealed_token)
        .map_err(|_| "the stored Meta token could not be opened".to_owned())?;
    let object = match (change, &c.meta_ad_id) {
        (Change::Budget { .. } | Change::AudienceExpansion { .. }, _) => c.meta_adset_id.clone(),
        (_, Some(ad)) => Some(ad.clone()),
        _ => c.meta_campaign_id.clone(),
    }
    .ok_or("the campaign is not on Meta")?;
    let sent = match change {
        Change::Budget { to, .. } => {
            ads::set_budget(
                m.graph,
                &token,
                &object,
                Budget::Daily(c.currency.to_minor(*to)),
            )
            .await
        }
        Change::Pause => ads::set_status(m.graph, &token, &object, MetaStatus::Paused).await,
        Change::Unpause => ads::set_status(m.graph, &token, &object, MetaStatus::Active).await,
        Change::AudienceExpansion { audience, .. } => {
            let targeting = audience.to_meta().to_string();
            ads::update(m.graph, &token, &object, &[("targeting", targeting)]).await
        }
        other => return Err(format!("{other:?} is not available yet")),
    };
    sent.map_err(|e| e.message)
}
