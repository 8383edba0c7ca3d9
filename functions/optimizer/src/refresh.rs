//! A creative refresh on Meta: the replacement (the library's best creative the campaign
//! has not used, chosen when the rule was judged) attached to the campaign as the
//! optimizer's edit and given its ad — made and switched on exactly as the campaigns API
//! does it, under the campaign's launch claim — and only then the tired creative's ad
//! paused, so the campaign is never left without a running creative. If the new ad
//! cannot be made the replacement is detached again; the log row says what Meta said.

use shared::domain::{AssetId, CampaignId, UserId};
use shared::repo::{campaigns, optimizer_facts};
use shared::rules::guards::Change;
use uuid::Uuid;

use crate::State;
use rules::meta_change::{self, OnMeta};

/// Where the refresh stopped, when it did not finish.
pub async fn send(
    state: &State,
    user: Uuid,
    campaign: Uuid,
    tired: &OnMeta,
    replacement: Uuid,
) -> Result<(), String> {
    let (owner, id, asset) = (UserId(user), CampaignId(campaign), AssetId(replacement));
    state
        .db
        .tenant(owner, async |t| {
            optimizer_facts::edit_source(t, "optimizer").await?;
            campaigns::attach(t, id, asset, "variation").await?;
            campaigns::set_asset_active(t, id, asset, true).await?;
            optimizer_facts::edit_source(t, "").await
        })
        .await
        .map_err(|e| e.to_string())?;
    let parts = campaigns_api::meta::Parts {
        db: &state.db,
        graph: &state.graph,
        cipher: &state.cipher,
        storage: &state.storage,
    };
    if let Err(e) = campaigns_api::meta::launch::add_creative(&parts, owner, id, asset).await {
        let undone = state
            .db
            .tenant(owner, async |t| {
                optimizer_facts::edit_source(t, "optimizer").await?;
                campaigns::detach(t, id, asset).await?;
                optimizer_facts::edit_source(t, "").await
            })
            .await;
        if let Err(u) = undone {
            tracing::warn!(campaign_id = %campaign, asset_id = %replacement, error = %u, "replacement not detached");
        }
        return Err(format!("the replacement's ad could not be made: {e}"));
    }
    if tired.meta_ad_id.is_none() {
        return Err("the tired creative has no ad on Meta to pause".into());
    }
    meta_change::send(&state.meta(), user, tired, &Change::Pause)
        .await
        .map_err(|e| {
            format!("the replacement runs, but the tired creative's ad was not paused: {e}")
        })
}
