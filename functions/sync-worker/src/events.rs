//! Applying a stored Meta webhook event: campaign status changes (`in_process_ad_objects`
//! / `with_issues_ad_objects` at CAMPAIGN level) move our campaign along its lifecycle,
//! only when newer than its last status change (a late event never undoes a newer one,
//! and nothing revives a stopped campaign); an ad account whose
//! `account_status` is no longer 1 stops syncing; everything else (ad and ad set status,
//! `creative_fatigue`, unknown fields) is recorded with what it said.

use shared::WorkerError;
use shared::error::AppError;
use shared::repo::insights::{self, Followed};
use shared::repo::{meta_accounts, meta_events};
use uuid::Uuid;

use crate::{Outcome, State};

pub async fn apply(state: &State, id: Uuid) -> Result<Outcome, WorkerError> {
    state
        .db
        .run("meta-event", async |w| {
            let Some(e) = meta_events::claim(w, id).await? else {
                return Ok(Outcome::Done("already applied".into()));
            };
            let (status, outcome) = decide(w, &e).await?;
            meta_events::finish(w, e.id, status, &outcome).await?;
            Ok(Outcome::Done(outcome))
        })
        .await
        .map_err(WorkerError::from)
}

async fn decide(
    w: &shared::db::Worker<'_>,
    e: &meta_events::Stored,
) -> Result<(&'static str, String), AppError> {
    let (object, entry, field, value) = (
        e.object.as_str(),
        e.entry_id.as_str(),
        e.field.as_str(),
        &e.value,
    );
    let level = value["level"].as_str().unwrap_or("");
    let meta_status = value["status_name"]
        .as_str()
        .or_else(|| value["status"].as_str())
        .unwrap_or("");
    if matches!(field, "in_process_ad_objects" | "with_issues_ad_objects") && level == "CAMPAIGN" {
        let id = value["id"].as_str().unwrap_or_default();
        return Ok(
            match insights::follow_meta_status(w, id, meta_status, e.event_time).await? {
                Followed::Moved { campaign, status } => (
                    "applied",
                    format!(
                        "campaign {campaign} is now {} (Meta: {meta_status})",
                        status.as_str()
                    ),
                ),
                Followed::Kept { campaign, status } => (
                    "recorded",
                    format!(
                        "campaign {campaign} stays {} (Meta: {meta_status})",
                        status.as_str()
                    ),
                ),
                Followed::Stale { campaign } => (
                    "recorded",
                    format!(
                        "campaign {campaign}: {meta_status} is older than its last status change; ignored"
                    ),
                ),
                Followed::Unknown => (
                    "recorded",
                    format!("campaign {id} is {meta_status} on Meta; not one of ours"),
                ),
            },
        );
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
