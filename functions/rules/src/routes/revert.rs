//! `POST /v1/optimizations/{id}/revert`: undoes an applied budget or status action on
//! Meta and here, once. The action is claimed first (so two reverts undo once); if the
//! campaign changed since the action (its budget or status is no longer what the action
//! set), nothing is undone and the owner is told why; if Meta refuses, the claim is
//! given back. The undo is the owner's edit and is logged as a `reverted` decision.

use chrono::{DateTime, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;
use shared::auth::authenticate;
use shared::domain::money::Currency;
use shared::error::{AppError, Problem};
use shared::http::docs::{NotAuthenticated, NotFound, UpstreamError};
use shared::http::{json, parse_id};
use shared::repo::optimization_logs::{self, Entry};
use shared::repo::optimizer_facts::{self, Written};
use shared::rules::guards::Change;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::State;
use crate::meta_change::{self, OnMeta};

#[derive(Serialize, ToSchema)]
pub struct Reverted {
    /// The action undone.
    pub optimization_id: Uuid,
    /// The `reverted` decision logged for the undo.
    pub revert_id: Uuid,
    #[schema(value_type = Object)]
    pub undo: serde_json::Value,
    pub reverted_at: DateTime<Utc>,
}

fn not_revertible(detail: &str) -> AppError {
    AppError::Conflict {
        code: "not_revertible",
        detail: detail.into(),
    }
}

fn changed_since() -> AppError {
    AppError::Conflict {
        code: "changed_since",
        detail: "The campaign was changed after this action; nothing was undone. Set it by hand."
            .into(),
    }
}

/// The undo of an applied change, given the campaign as it is now.
fn undo_of(
    after: &serde_json::Value,
    before: &serde_json::Value,
    now: &optimizer_facts::Locked,
    on_creative: bool,
) -> Result<Change, AppError> {
    let dec = |v: &serde_json::Value| v.as_str().and_then(|s| s.parse::<Decimal>().ok());
    match after["action"].as_str() {
        Some("budget") => {
            let (set, was) = (dec(&after["to"]), dec(&before["daily_budget"]));
            let (Some(set), Some(was)) = (set, was) else {
                return Err(not_revertible("The action's budgets were not recorded."));
            };
            if now.daily_budget != Some(set) {
                return Err(changed_since());
            }
            Ok(Change::Budget { from: set, to: was })
        }
        Some("pause") if on_creative || now.status == "paused" => Ok(Change::Unpause),
        Some("unpause") if on_creative || now.status == "active" => Ok(Change::Pause),
        Some("pause" | "unpause") => Err(changed_since()),
        _ => Err(not_revertible(
            "Only budget and pause/resume actions can be reverted.",
        )),
    }
}

#[utoipa::path(post, path = "/v1/optimizations/{id}/revert", operation_id = "revert_optimization", tag = "rules", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "An applied optimization (from the campaign's decision log)")),
    responses(
        (status = 200, description = "Undone on Meta and here", body = Reverted),
        NotAuthenticated,
        NotFound,
        (status = 409, description = "Not an applied budget or status action, already reverted (not_revertible), or the campaign changed since (changed_since)", body = Problem, content_type = "application/problem+json"),
        UpstreamError,
    ))]
pub async fn revert(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let id = parse_id(id)?;
    let (log, undo, on) = state
        .ctx
        .db
        .tenant(user, async |t| {
            let log = optimization_logs::locked(t, id)
                .await?
                .ok_or(AppError::NotFound)?;
            if log.decision.as_deref() != Some("applied") || log.success != Some(true) {
                return Err(not_revertible(
                    "Only an applied action that succeeded can be reverted.",
                ));
            }
            if log.reverted_at.is_some() {
                return Err(not_revertible("This action was reverted already."));
            }
            let now = optimizer_facts::lock(t, log.campaign_id).await?;
            let (after, before) = (
                log.after_values.clone().unwrap_or_default(),
                log.before_values.clone().unwrap_or_default(),
            );
            let undo = undo_of(&after, &before, &now, log.asset_id.is_some())?;
            if !optimization_logs::claim_revert(t, id).await? {
                return Err(not_revertible("This action was reverted already."));
            }
            let meta_ad_id = match log.asset_id {
                Some(a) => optimizer_facts::meta_ad_of(t, log.campaign_id, a).await?,
                None => None,
            };
            let on = OnMeta {
                currency: Currency::parse(&now.currency).unwrap_or(Currency::INR),
                ad_account_id: now.ad_account_id,
                meta_campaign_id: now.meta_campaign_id,
                meta_adset_id: now.meta_adset_id,
                meta_ad_id,
            };
            Ok((log, undo, on))
        })
        .await?;
    if let Err(why) = meta_change::send(&state.meta(), user.0, &on, &undo).await {
        state
            .ctx
            .db
            .tenant(user, async |t| {
                optimization_logs::release_revert(t, id).await
            })
            .await?;
        return Err(AppError::Upstream {
            service: "Meta",
            detail: why,
        });
    }
    let revert_id = state
        .ctx
        .db
        .tenant(user, async |t| {
            let written = match (&undo, log.asset_id) {
                (Change::Budget { to, .. }, _) => Written::DailyBudget(*to),
                (_, Some(asset)) => Written::CreativeActive(asset, undo == Change::Unpause),
                (Change::Unpause, None) => Written::CampaignStatus("active"),
                _ => Written::CampaignStatus("paused"),
            };
            optimizer_facts::write_change(t, log.campaign_id, written, "user").await?;
            let window = format!("revert:{id}");
            let e = Entry {
                user_id: user.0,
                campaign_id: log.campaign_id,
                rule_id: log.rule_id,
                rule_version: log.rule_version,
                entity_type: log.entity_type.as_deref().unwrap_or("CAMPAIGN"),
                asset_id: log.asset_id,
                optimization_type: log.optimization_type.as_deref().unwrap_or(""),
                trigger_condition: "revert",
                decision: "reverted",
                skip_reason: None,
                window_key: &window,
                metrics: json!({"reverts": id}),
                before_values: log.after_values.clone(),
                after_values: Some(json!(undo)),
            };
            optimization_logs::record(t, &e)
                .await?
                .ok_or_else(|| AppError::Internal("the revert was not logged".into()))
        })
        .await?;
    tracing::info!(user_id = %user, optimization_id = %id, ?undo, "optimization reverted");
    json(
        StatusCode::OK,
        &Reverted {
            optimization_id: id,
            revert_id,
            undo: json!(undo),
            reverted_at: Utc::now(),
        },
    )
}
