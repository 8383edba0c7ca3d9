//! A creative refresh on Meta: the replacement (the library's best creative the campaign
//! has not used, chosen when the rule was judged) attached to the campaign as the
//! optimizer's edit and given its ad — made and switched on exactly as the campaigns API
//! does it, under the campaign's launch claim — and only then the tired creative's ad
//! paused, so the campaign is never left without a running creative. If the new ad
//! cannot be made the replacement is detached again; the log row says what Meta said.
//!
//! When the library has no unused creative and the owner allowed it, the refresh first
//! has one generated with the owner's credits (`generate`: an on-brand image in the
//! tired creative's format, spent and queued in one transaction with the claim's
//! record); the hourly tick swaps it in once it is made, or fails the refresh when it
//! could not be (its credits are refunded by whoever ended the generation).

use serde_json::json;
use shared::WorkerError;
use shared::domain::asset::{AssetType, Format};
use shared::domain::{AssetId, CampaignId, UserId};
use shared::repo::generations::{self, NewGeneration};
use shared::repo::optimization_logs::{self, AwaitingCreative};
use shared::repo::rules::Rule;
use shared::repo::{campaigns, optimizer_facts};
use shared::rules::guards::Change;
use uuid::Uuid;

use crate::State;
use crate::act::{self, FOLLOW_UP_DAYS};
use rules::judge::Judgement;
use rules::meta_change::{self, OnMeta};

/// What to ask the image model for: a new take on the campaign, on brand.
fn brief(campaign_name: &str, purpose: &str) -> String {
    format!(
        "A fresh ad creative for \"{campaign_name}\", a {purpose} campaign: a new scene and \
         composition, unlike the creative it replaces, in the brand's colours and voice."
    )
}

/// Starts the generation of the claimed refresh's replacement; the refresh then waits
/// for it (`finish_generated`). Not enough credits, or the day's limit, fails the
/// refresh with why.
pub async fn generate(
    state: &State,
    rule: &Rule,
    j: &Judgement,
    log: Uuid,
) -> Result<&'static str, WorkerError> {
    let owner = UserId(rule.user_id);
    let started = state
        .db
        .tenant(owner, async |t| {
            let (purpose, format) =
                optimizer_facts::replacement_brief(t, j.campaign_id, j.asset_id).await?;
            let prompt = brief(&j.campaign_name, &purpose);
            let started = generations::start(
                t,
                &NewGeneration {
                    kind: AssetType::Image,
                    format: format
                        .as_deref()
                        .and_then(|f| Format::parse(f).ok())
                        .unwrap_or(Format::Square),
                    prompt: &prompt,
                    style: None,
                    use_brand: true,
                },
            )
            .await?;
            optimization_logs::awaiting_creative(
                t,
                log,
                started.asset_id,
                started.job_id,
                started.credits_spent,
            )
            .await?;
            Ok(started)
        })
        .await;
    match started {
        Ok(g) => {
            state.relay.send_now(&state.db, owner, &[g.outbox_id]).await;
            tracing::info!(user_id = %owner, rule_id = %rule.id, campaign_id = %j.campaign_id,
                asset_id = %g.asset_id, credits = g.credits_spent, "replacement creative being generated");
            Ok("generating")
        }
        Err(e) => {
            let why = format!("no replacement could be generated: {e}");
            state
                .db
                .tenant(owner, async |t| {
                    optimization_logs::settle(t, log, Err(&why), FOLLOW_UP_DAYS).await
                })
                .await?;
            tracing::warn!(user_id = %owner, rule_id = %rule.id, why, "creative refresh failed");
            Ok("failed")
        }
    }
}

/// Swaps in the creatives generated for waiting refreshes (or fails the refreshes whose
/// generation failed). Returns how many were settled.
pub async fn finish_generated(state: &State) -> Result<usize, WorkerError> {
    let waiting = state
        .worker
        .run("optimizer-generated-refreshes", async |w| {
            optimization_logs::claim_awaiting(w, 20).await
        })
        .await?;
    for r in &waiting {
        finish_one(state, r).await?;
    }
    Ok(waiting.len())
}

async fn finish_one(state: &State, r: &AwaitingCreative) -> Result<(), WorkerError> {
    let owner = UserId(r.user_id);
    let sent = if r.generated_status == "active" {
        let tired = state
            .db
            .tenant(owner, async |t| {
                let locked = optimizer_facts::lock(t, r.campaign_id).await?;
                act::on_meta(t, locked, r.campaign_id, r.asset_id).await
            })
            .await?;
        send(state, r.user_id, r.campaign_id, &tired, r.generated).await
    } else {
        Err(format!(
            "the creative generated for this refresh could not be made ({}); its credits were refunded",
            r.failure_reason.as_deref().unwrap_or("no reason given")
        ))
    };
    let told = state
        .db
        .tenant(owner, async |t| {
            if let Err(why) = &sent {
                optimization_logs::settle(t, r.id, Err(why), FOLLOW_UP_DAYS).await?;
                return Ok(None);
            }
            if let Some(tired) = r.asset_id {
                optimizer_facts::write_as_optimizer(
                    t,
                    r.campaign_id,
                    optimizer_facts::Written::CreativeActive(tired, false),
                )
                .await?;
            }
            let mut after = r.after_values.clone();
            after["replacement"] = json!(r.generated);
            optimization_logs::settle(t, r.id, Ok(&after), FOLLOW_UP_DAYS).await?;
            let title = format!("Creative refreshed in {}", r.campaign_name);
            let body = format!(
                "A creative whose results were falling was paused, and a new one generated for it with your credits now runs in its place. Its effect is measured in {FOLLOW_UP_DAYS} days."
            );
            act::notify(t, owner, r.id, r.campaign_id, (&title, &body))
                .await
                .map(Some)
        })
        .await?;
    act::relay(state, owner, told).await;
    match &sent {
        Ok(()) => {
            tracing::info!(user_id = %owner, campaign_id = %r.campaign_id, asset_id = %r.generated,
            "generated creative swapped in")
        }
        Err(why) => {
            tracing::warn!(user_id = %owner, campaign_id = %r.campaign_id, why, "generated refresh failed")
        }
    }
    Ok(())
}

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
