//! Applying a stored Meta webhook event: campaign status changes (`in_process_ad_objects`
//! / `with_issues_ad_objects` at CAMPAIGN level) move our campaign; an ad account whose
//! `account_status` is no longer 1 stops syncing; everything else (ad and ad set status,
//! `creative_fatigue`, unknown fields) is recorded with what it said.

use serde_json::Value;
use shared::error::AppError;
use shared::repo::{insights, meta_accounts, meta_events};
use uuid::Uuid;

use crate::{Outcome, State};

/// Our campaign status for a Meta effective status.
pub fn campaign_status(meta: &str) -> Option<&'static str> {
    Some(match meta {
        "ACTIVE" => "active",
        "PAUSED" | "CAMPAIGN_PAUSED" => "paused",
        "DELETED" | "ARCHIVED" => "cancelled",
        _ => return None,
    })
}

pub async fn apply(state: &State, id: Uuid) -> Result<Outcome, AppError> {
    state
        .db
        .run("meta-event", async |w| {
            let Some(e) = meta_events::claim(w, id).await? else {
                return Ok(Outcome::Done("already applied".into()));
            };
            let (status, outcome) = decide(w, &e.object, &e.entry_id, &e.field, &e.value).await?;
            meta_events::finish(w, e.id, status, &outcome).await?;
            Ok(Outcome::Done(outcome))
        })
        .await
}

async fn decide(
    w: &shared::db::Worker<'_>,
    object: &str,
    entry: &str,
    field: &str,
    value: &Value,
) -> Result<(&'static str, String), AppError> {
    let level = value["level"].as_str().unwrap_or("");
    let meta_status = value["status_name"]
        .as_str()
        .or_else(|| value["status"].as_str())
        .unwrap_or("");
    if matches!(field, "in_process_ad_objects" | "with_issues_ad_objects") && level == "CAMPAIGN" {
        let id = value["id"].as_str().unwrap_or_default();
        if let Some(ours) = campaign_status(meta_status)
            && let Some(campaign) = insights::set_status_by_meta_id(w, id, ours).await?
        {
            return Ok((
                "applied",
                format!("campaign {campaign} is now {ours} (Meta: {meta_status})"),
            ));
        }
        return Ok((
            "recorded",
            format!(
                "campaign {id} is {meta_status} on Meta; not one of ours or no status to follow"
            ),
        ));
    }
    if let Some(account_status) = value["account_status"].as_i64() {
        let act = if entry.starts_with("act_") {
            entry.to_owned()
        } else {
            format!("act_{entry}")
        };
        let n = meta_accounts::disable_ad_account(w, &act, account_status as i32).await?;
        return Ok((
            "applied",
            format!("{act} has account_status {account_status} ({n} connection(s) updated)"),
        ));
    }
    Ok((
        "recorded",
        format!(
            "{object}.{field}: {level} {} {meta_status}",
            value["id"].as_str().unwrap_or("")
        ),
    ))
}
