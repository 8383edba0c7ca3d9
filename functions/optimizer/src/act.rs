//! Recording a decision, and acting on one: a skip or a dry run is a log row; an action
//! is claimed first (the log's applied-once index makes the same rule, entity and window
//! act once, however many runs race), then sent to Meta, then settled — the campaign
//! changed and the owner told, or the row marked failed with Meta's error. The owner
//! wins: a significant edit of theirs after the run began makes the action a skip.

use chrono::{DateTime, Utc};
use rules::judge::Judgement;
use rules::meta_change::{self, OnMeta};
use serde_json::{Value, json};
use shared::WorkerError;
use shared::domain::UserId;
use shared::domain::money::Currency;
use shared::domain::notification::{Category, Notice};
use shared::domain::rule::EntityType;
use shared::error::AppError;
use shared::repo::notifications;
use shared::repo::optimization_logs::{self, Entry};
use shared::repo::optimizer_facts::{self, Written};
use shared::repo::rules::Rule;
use shared::rules::guards::{Change, Decision};
use uuid::Uuid;

use crate::State;

/// Days after an action before its effect is measured.
pub const FOLLOW_UP_DAYS: i64 = 3;

fn entry<'a>(rule: &'a Rule, j: &'a Judgement, decision: &'a str) -> Entry<'a> {
    Entry {
        user_id: rule.user_id,
        campaign_id: j.campaign_id,
        rule_id: Some(rule.id),
        rule_version: Some(rule.version),
        entity_type: match rule.spec.entity_type {
            EntityType::Campaign => "CAMPAIGN",
            EntityType::Ad => "AD",
        },
        asset_id: j.asset_id,
        optimization_type: rule.spec.execution_spec.execution_type.slug(),
        trigger_condition: &rule.trigger_condition,
        decision,
        skip_reason: None,
        window_key: &j.window,
        metrics: serde_json::to_value(&j.evaluation).unwrap_or(Value::Null),
        before_values: None,
        after_values: None,
    }
}

/// Records or carries out one judgement; returns what happened (for the run's tally).
pub async fn settle(
    state: &State,
    rule: &Rule,
    j: Judgement,
    started: DateTime<Utc>,
) -> Result<&'static str, WorkerError> {
    let user = UserId(rule.user_id);
    match &j.decision {
        Decision::Skip { reason, detail } => {
            let reason = match detail {
                Some(d) => format!("{}:{d}", reason.as_str()),
                None => reason.as_str().to_owned(),
            };
            let mut e = entry(rule, &j, "skipped");
            e.skip_reason = Some(&reason);
            state
                .db
                .tenant(user, async |t| optimization_logs::record(t, &e).await)
                .await?;
            Ok("skipped")
        }
        Decision::Act { change } if rule.dry_run => {
            let mut e = entry(rule, &j, "dry_run");
            e.after_values = Some(json!(change));
            state
                .db
                .tenant(user, async |t| optimization_logs::record(t, &e).await)
                .await?;
            Ok("dry_run")
        }
        Decision::Act { change } => apply(state, rule, &j, change, started).await,
    }
}

/// The claimed action's log row and where it goes on Meta.
struct Claimed {
    log: Uuid,
    on: OnMeta,
}

/// Where the campaign (and the creative, for AD rules) lives on Meta.
pub async fn on_meta(
    t: &impl shared::db::Tx,
    locked: optimizer_facts::Locked,
    campaign: Uuid,
    asset: Option<Uuid>,
) -> Result<OnMeta, AppError> {
    let meta_ad_id = match asset {
        Some(asset) => optimizer_facts::meta_ad_of(t, campaign, asset).await?,
        None => None,
    };
    Ok(OnMeta {
        currency: Currency::parse(&locked.currency).unwrap_or(Currency::INR),
        ad_account_id: locked.ad_account_id,
        meta_campaign_id: locked.meta_campaign_id,
        meta_adset_id: locked.meta_adset_id,
        meta_ad_id,
    })
}

async fn claim(
    state: &State,
    rule: &Rule,
    j: &Judgement,
    change: &Change,
    started: DateTime<Utc>,
) -> Result<Result<Claimed, &'static str>, WorkerError> {
    let user = UserId(rule.user_id);
    state
        .db
        .tenant(user, async |t| {
            let locked = optimizer_facts::lock(t, j.campaign_id).await?;
            let edited = optimizer_facts::last_owner_edit(t, j.campaign_id).await?;
            if edited.is_some_and(|at| at > started) {
                let mut e = entry(rule, j, "skipped");
                e.skip_reason = Some("user_edited");
                optimization_logs::record(t, &e).await?;
                return Ok(Err("skipped"));
            }
            let mut e = entry(rule, j, "applied");
            e.before_values = Some(json!({
                "daily_budget": locked.daily_budget, "status": locked.status,
                "learning_stage": locked.meta_learning_stage, "target_audience": locked.target_audience,
            }));
            e.after_values = Some(json!(change));
            let Some(log) = optimization_logs::record(t, &e).await? else {
                return Ok(Err("already_applied"));
            };
            Ok(Ok(Claimed {
                log,
                on: on_meta(t, locked, j.campaign_id, j.asset_id).await?,
            }))
        })
        .await
        .map_err(WorkerError::from)
}

fn describe(rule: &Rule, j: &Judgement, change: &Change, currency: Currency) -> (String, String) {
    let why = format!("rule \"{}\" ({})", rule.name, rule.trigger_condition);
    match change {
        Change::Budget { from, to } => (
            format!("Budget changed for {}", j.campaign_name),
            format!(
                "Daily budget {} {from} → {} {to}, by {why}. Its effect is measured in {FOLLOW_UP_DAYS} days.",
                currency.code(),
                currency.code()
            ),
        ),
        Change::Pause => (
            format!("Paused: {}", j.campaign_name),
            format!("Paused by {why}."),
        ),
        Change::Unpause => (
            format!("Resumed: {}", j.campaign_name),
            format!("Resumed by {why}."),
        ),
        Change::CreativeRefresh { .. } => (
            format!("Creative refreshed in {}", j.campaign_name),
            format!(
                "A creative whose results were falling was paused and an unused creative from your library now runs in its place, by {why}. Its effect is measured in {FOLLOW_UP_DAYS} days."
            ),
        ),
        Change::AudienceExpansion { widened, .. } => (
            format!("Audience widened for {}", j.campaign_name),
            format!(
                "Widened within the bounds you set ({}), by {why}. Meta's learning restarts; its effect is measured in {FOLLOW_UP_DAYS} days.",
                widened.join(", ").replace('_', " ")
            ),
        ),
        _ => (
            format!("A rule matched {}", j.campaign_name),
            format!("{why} matched; nothing was changed."),
        ),
    }
}

async fn apply(
    state: &State,
    rule: &Rule,
    j: &Judgement,
    change: &Change,
    started: DateTime<Utc>,
) -> Result<&'static str, WorkerError> {
    let claimed = match claim(state, rule, j, change, started).await? {
        Ok(c) => c,
        Err(outcome) => return Ok(outcome),
    };
    let sent = match change {
        Change::CreativeRefresh {
            replacement: None,
            generate: true,
        } => return crate::refresh::generate(state, rule, j, claimed.log).await,
        Change::CreativeRefresh {
            replacement: Some(replacement),
            ..
        } => {
            crate::refresh::send(
                state,
                rule.user_id,
                j.campaign_id,
                &claimed.on,
                *replacement,
            )
            .await
        }
        _ => meta_change::send(&state.meta(), rule.user_id, &claimed.on, change).await,
    };
    let user = UserId(rule.user_id);
    let (title, body) = describe(rule, j, change, claimed.on.currency);
    let told = state
        .db
        .tenant(user, async |t| {
            if let Err(why) = &sent {
                optimization_logs::settle(t, claimed.log, Err(why), FOLLOW_UP_DAYS).await?;
                return Ok(None);
            }
            let written = match (change, j.asset_id) {
                (Change::Budget { to, .. }, _) => Some(Written::DailyBudget(*to)),
                (Change::CreativeRefresh { .. }, Some(asset)) => {
                    Some(Written::CreativeActive(asset, false))
                }
                (Change::Pause | Change::Unpause, Some(asset)) => {
                    Some(Written::CreativeActive(asset, *change == Change::Unpause))
                }
                (Change::AudienceExpansion { audience, .. }, _) => {
                    Some(Written::Audience(audience.clone()))
                }
                (Change::Pause, None) => Some(Written::CampaignStatus("paused")),
                (Change::Unpause, None) => Some(Written::CampaignStatus("active")),
                _ => None,
            };
            if let Some(w) = written {
                optimizer_facts::write_as_optimizer(t, j.campaign_id, w).await?;
            }
            optimization_logs::settle(t, claimed.log, Ok(&json!(change)), FOLLOW_UP_DAYS).await?;
            notify(t, user, claimed.log, j.campaign_id, (&title, &body))
                .await
                .map(Some)
        })
        .await?;
    relay(state, user, told).await;
    match sent {
        Ok(()) => {
            tracing::info!(user_id = %user, rule_id = %rule.id, campaign_id = %j.campaign_id, ?change, "optimization applied");
            Ok("applied")
        }
        Err(why) => {
            tracing::warn!(user_id = %user, rule_id = %rule.id, campaign_id = %j.campaign_id, why, "optimization failed on Meta");
            Ok("failed")
        }
    }
}

/// Tells the owner what the optimizer did, once per log row.
pub async fn notify(
    t: &impl shared::db::Tx,
    user: UserId,
    log: Uuid,
    campaign: Uuid,
    (title, body): (&str, &str),
) -> Result<notifications::Told, AppError> {
    let notice = Notice {
        category: Category::Optimization,
        event_key: format!("optimization:{log}"),
        title: title.to_owned(),
        body: body.to_owned(),
        link: Some(format!("/campaigns/{campaign}/optimizations")),
    };
    notifications::notify(t, user.0, &notice).await
}

/// Sends a new notice's email at once (the relay sweeps up what this misses).
pub async fn relay(state: &State, user: UserId, told: Option<notifications::Told>) {
    if let Some(notifications::Told::New {
        outbox: Some(id), ..
    }) = told
    {
        state.relay.send_now(&state.db, user, &[id]).await;
    }
}
