//! Queue messages: one struct and one topic per queue, used by the function that sends
//! it (through the outbox) and the one that consumes it, so a renamed field fails to
//! compile on both sides instead of failing at run time. `template.yaml` names each
//! queue's URL `QUEUE_URL_<TOPIC>` (upper case, `-` as `_`).

use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// A message that travels on one queue.
pub trait Message: Serialize + DeserializeOwned {
    /// The outbox topic, which the relay maps to the queue.
    const TOPIC: &'static str;
}

/// Make one image or video (generations → generation-worker).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Generation {
    /// The background job that tracks this work (progress, retries, result).
    pub job_id: Uuid,
    /// The owner the work is for.
    pub user_id: Uuid,
    /// The asset row the result goes into.
    pub asset_id: Uuid,
}

impl Message for Generation {
    const TOPIC: &'static str = "generation";
}

/// Pull an ad account's insights (scheduled-sync and campaign launch → sync-worker).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct MetaSync {
    /// The background job that tracks this work (progress, retries, result).
    pub job_id: Uuid,
    /// The owner the work is for.
    pub user_id: Uuid,
    /// The owner's Meta connection whose token reads the account.
    pub connection_id: Uuid,
    /// Meta's ad account id (`act_…`).
    pub ad_account_id: String,
}

impl Message for MetaSync {
    const TOPIC: &'static str = "meta-sync";
}

/// Apply one stored Meta webhook change (meta-webhook → sync-worker).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct MetaEvent {
    /// The stored webhook change (`meta_webhook_events`).
    pub webhook_event_id: Uuid,
}

impl Message for MetaEvent {
    const TOPIC: &'static str = "meta-events";
}

/// Analyse a website into a brand kit (profiles → brand-analyzer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct BrandAnalysis {
    /// The background job that tracks this work (progress, retries, result).
    pub job_id: Uuid,
    /// The owner the work is for.
    pub user_id: Uuid,
    /// The site to analyse, checked when it was asked for.
    pub website_url: String,
    /// Replace the kit fields the user set by hand too.
    #[serde(default)]
    pub replace: bool,
}

impl Message for BrandAnalysis {
    const TOPIC: &'static str = "brand-analysis";
}

/// Email one notification (wherever it was told → notifications).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct NotificationEmail {
    /// The notification to send.
    pub notification_id: Uuid,
    /// The owner the work is for.
    pub user_id: Uuid,
}

impl Message for NotificationEmail {
    const TOPIC: &'static str = "notifications";
}

/// Write one report (reports API and the weekly schedule → report-worker).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ReportRequest {
    /// The report row to fill.
    pub report_id: Uuid,
    /// The background job that tracks this work (progress, retries, result).
    pub job_id: Uuid,
    /// The owner the work is for.
    pub user_id: Uuid,
}

impl Message for ReportRequest {
    const TOPIC: &'static str = "reports";
}

/// Run an owner's optimization rules on one ad account's campaigns (the hourly schedule
/// and each completed sync → optimizer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Optimize {
    /// The background job that tracks this work (progress, retries, result).
    pub job_id: Uuid,
    /// The owner the work is for.
    pub user_id: Uuid,
    /// Meta's ad account id (`act_…`).
    pub ad_account_id: String,
    /// `hourly` (HOURLY rules, and DAILY ones at 06:00 account time) or `sync`
    /// (AFTER_SYNC rules).
    pub trigger: String,
}

impl Message for Optimize {
    const TOPIC: &'static str = "optimize";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_message_keeps_its_wire_names() {
        let id = Uuid::nil();
        let sync = MetaSync {
            job_id: id,
            user_id: id,
            connection_id: id,
            ad_account_id: "act_1".into(),
        };
        let wire = serde_json::to_value(&sync).unwrap();
        assert_eq!(
            wire,
            serde_json::json!({"job_id": id, "user_id": id, "connection_id": id, "ad_account_id": "act_1"})
        );
        assert_eq!(serde_json::from_value::<MetaSync>(wire).unwrap(), sync);
        assert_eq!(
            [
                Generation::TOPIC,
                MetaSync::TOPIC,
                MetaEvent::TOPIC,
                BrandAnalysis::TOPIC,
                NotificationEmail::TOPIC,
                ReportRequest::TOPIC,
                Optimize::TOPIC
            ],
            [
                "generation",
                "meta-sync",
                "meta-events",
                "brand-analysis",
                "notifications",
                "reports",
                "optimize"
            ]
        );
    }
}
