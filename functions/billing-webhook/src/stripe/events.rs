//! Stripe events and what each does to a subscription.
//!
//! | Stripe event | our status |
//! |---|---|
//! | checkout.session.completed (paid) | active; links the Stripe subscription |
//! | customer.subscription.created, .updated | from its status (below); cancel at period end |
//! | customer.subscription.deleted | cancelled |
//! | invoice.paid | active; its line's period resets the month's credits once |
//! | invoice.payment_failed | past_due (a renewal failed; the first payment failing changes nothing) |
//!
//! | Stripe subscription status | ours |
//! |---|---|
//! | active, trialing | active |
//! | past_due, unpaid | past_due |
//! | paused | paused |
//! | canceled | cancelled |
//! | incomplete_expired | expired |
//! | incomplete | (stays `created`: nothing paid yet) |
//!
//! Objects are read in the shapes of API versions before and after 2025-03-31 (the
//! period on the subscription or on its items; an invoice's subscription at the top or
//! under `parent.subscription_details`). Amounts arrive in the currency's smallest unit,
//! timestamps as Unix seconds.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;
use shared::domain::billing::Minor;
use shared::domain::billing::SubscriptionStatus;
use shared::repo::subscriptions::Change;
use uuid::Uuid;

#[derive(Clone, Debug, Deserialize)]
pub struct Event {
    pub id: String,
    pub object: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created: i64,
    pub data: EventData,
}

#[derive(Clone, Debug, Deserialize)]
pub struct EventData {
    pub object: Value,
}

/// An id, or the object it names when Stripe expanded it.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum IdOr {
    Id(String),
    Object { id: String },
}

impl IdOr {
    pub fn id(&self) -> &str {
        match self {
            IdOr::Id(id) | IdOr::Object { id } => id,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct CheckoutSession {
    pub id: String,
    pub mode: Option<String>,
    /// paid, unpaid or no_payment_required.
    pub payment_status: Option<String>,
    pub subscription: Option<IdOr>,
    pub customer: Option<IdOr>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub status: String,
    pub customer: IdOr,
    #[serde(default)]
    pub cancel_at_period_end: bool,
    pub current_period_start: Option<i64>,
    pub current_period_end: Option<i64>,
    #[serde(default)]
    pub items: List<Item>,
    pub default_payment_method: Option<IdOr>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct List<T> {
    pub data: Vec<T>,
}

impl<T> Default for List<T> {
    fn default() -> Self {
        Self { data: Vec::new() }
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct Item {
    pub current_period_start: Option<i64>,
    pub current_period_end: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Invoice {
    pub id: String,
    pub customer: Option<IdOr>,
    /// Before 2025-03-31.
    pub subscription: Option<IdOr>,
    pub subscription_details: Option<SubscriptionDetails>,
    /// From 2025-03-31.
    pub parent: Option<Parent>,
    #[serde(default)]
    pub amount_paid: i64,
    #[serde(default)]
    pub amount_due: i64,
    pub currency: String,
    /// subscription_create, subscription_cycle, subscription_update, …
    pub billing_reason: Option<String>,
    #[serde(default)]
    pub attempt_count: i64,
    #[serde(default)]
    pub lines: List<Line>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Parent {
    pub subscription_details: Option<SubscriptionDetails>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct SubscriptionDetails {
    pub subscription: Option<IdOr>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Line {
    pub period: Option<Period>,
}

#[derive(Clone, Copy, Debug, Deserialize)]
pub struct Period {
    pub start: i64,
    pub end: i64,
}

/// The object an event carries, by event type.
#[derive(Clone, Debug)]
pub enum Object {
    Session(CheckoutSession),
    Subscription(Subscription),
    Invoice(Invoice),
    Other,
}

pub fn at(unix: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(unix, 0).single().unwrap_or_default()
}

fn period(start: Option<i64>, end: Option<i64>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    match (start, end) {
        (Some(s), Some(e)) if e > s => Some((at(s), at(e))),
        _ => None,
    }
}

impl Event {
    pub fn created_at(&self) -> DateTime<Utc> {
        at(self.created)
    }

    /// The typed object, or an error naming what did not parse.
    pub fn object(&self) -> Result<Object, serde_json::Error> {
        let o = self.data.object.clone();
        Ok(match self.kind.as_str() {
            "checkout.session.completed" => Object::Session(serde_json::from_value(o)?),
            k if k.starts_with("customer.subscription.") => {
                Object::Subscription(serde_json::from_value(o)?)
            }
            "invoice.paid" | "invoice.payment_failed" => {
                Object::Invoice(serde_json::from_value(o)?)
            }
            _ => Object::Other,
        })
    }
}

impl Subscription {
    /// Our row's id, as the checkout wrote it into the subscription's metadata.
    pub fn row(&self) -> Option<Uuid> {
        self.metadata.get("adpilot_subscription_id")?.parse().ok()
    }

    /// The paid period: on the subscription (older API versions) or its first item.
    pub fn period(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        period(self.current_period_start, self.current_period_end).or_else(|| {
            let item = self.items.data.first()?;
            period(item.current_period_start, item.current_period_end)
        })
    }
}

impl Invoice {
    fn details(&self) -> Option<&SubscriptionDetails> {
        self.parent
            .as_ref()
            .and_then(|p| p.subscription_details.as_ref())
            .or(self.subscription_details.as_ref())
    }

    /// The Stripe subscription the invoice is for.
    pub fn subscription_id(&self) -> Option<&str> {
        self.subscription
            .as_ref()
            .or_else(|| self.details()?.subscription.as_ref())
            .map(IdOr::id)
    }

    /// Our row's id from the subscription's metadata, as the invoice snapshots it.
    pub fn row(&self) -> Option<Uuid> {
        self.details()?
            .metadata
            .get("adpilot_subscription_id")?
            .parse()
            .ok()
    }

    /// The service period the invoice pays for (its subscription line's).
    pub fn period(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let p = self.lines.data.iter().find_map(|l| l.period)?;
        period(Some(p.start), Some(p.end))
    }

    /// `minor` of the invoice's currency as a decimal amount.
    pub fn amount(&self, minor: i64) -> Decimal {
        Minor::of(&self.currency)
            .map(|m| m.from_minor(minor))
            .unwrap_or_else(|_| Decimal::new(minor, 2))
    }
}

/// Our status for a Stripe subscription status; None while nothing is paid.
pub fn status_of(stripe: &str) -> Option<SubscriptionStatus> {
    Some(match stripe {
        "active" | "trialing" => SubscriptionStatus::Active,
        "past_due" | "unpaid" => SubscriptionStatus::PastDue,
        "paused" => SubscriptionStatus::Paused,
        "canceled" => SubscriptionStatus::Cancelled,
        "incomplete_expired" => SubscriptionStatus::Expired,
        _ => return None, // incomplete
    })
}

/// What an event does to our subscription, or None when it changes nothing.
pub fn transition(kind: &str, object: &Object) -> Option<Change> {
    match object {
        Object::Session(s) => {
            let paid = s.mode.as_deref() == Some("subscription")
                && matches!(
                    s.payment_status.as_deref(),
                    Some("paid" | "no_payment_required")
                );
            paid.then(|| Change {
                paid: true,
                status: Some(SubscriptionStatus::Active),
                ..Change::default()
            })
        }
        Object::Subscription(sub) => {
            let status = if kind == "customer.subscription.deleted" {
                Some(SubscriptionStatus::Cancelled)
            } else {
                status_of(&sub.status)
            };
            Some(Change {
                paid: status.is_some_and(SubscriptionStatus::is_paid),
                status,
                provider_status: Some(sub.status.clone()),
                period: sub
                    .period()
                    .filter(|_| status == Some(SubscriptionStatus::Active)),
                cancel_at_period_end: Some(
                    sub.cancel_at_period_end && status != Some(SubscriptionStatus::Cancelled),
                ),
                ..Change::default()
            })
        }
        Object::Invoice(inv) if kind == "invoice.paid" => Some(Change {
            paid: true,
            status: Some(SubscriptionStatus::Active),
            period: inv.period(),
            ..Change::default()
        }),
        // The first payment failing leaves the checkout unpaid; a renewal failing is past due.
        Object::Invoice(inv) if inv.billing_reason.as_deref() != Some("subscription_create") => {
            Some(Change {
                paid: true,
                status: Some(SubscriptionStatus::PastDue),
                ..Change::default()
            })
        }
        Object::Invoice(_) | Object::Other => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(kind: &str, object: Value) -> Event {
        serde_json::from_value(json!({
            "id": "evt_1", "object": "event", "type": kind, "created": 1_764_060_000,
            "data": {"object": object}
        }))
        .unwrap()
    }

    fn subscription(status: &str) -> Value {
        json!({"id": "sub_1", "object": "subscription", "status": status, "customer": "cus_1",
               "cancel_at_period_end": false,
               "items": {"object": "list", "data": [{"id": "si_1", "current_period_start": 1_764_060_000,
                                                      "current_period_end": 1_766_652_000}]},
               "metadata": {"adpilot_subscription_id": "00000000-0000-0000-0000-000000000001"}})
    }

    #[test]
    fn every_stripe_subscription_status_maps_to_ours() {
        for (stripe, ours) in [
            ("active", Some(SubscriptionStatus::Active)),
            ("trialing", Some(SubscriptionStatus::Active)),
            ("past_due", Some(SubscriptionStatus::PastDue)),
            ("unpaid", Some(SubscriptionStatus::PastDue)),
            ("paused", Some(SubscriptionStatus::Paused)),
            ("canceled", Some(SubscriptionStatus::Cancelled)),
            ("incomplete_expired", Some(SubscriptionStatus::Expired)),
            ("incomplete", None),
        ] {
            let e = event("customer.subscription.updated", subscription(stripe));
            let change = transition(&e.kind, &e.object().unwrap()).unwrap();
            assert_eq!(change.status, ours, "{stripe}");
            assert_eq!(
                change.paid,
                ours.is_some_and(SubscriptionStatus::is_paid),
                "{stripe}"
            );
        }
        let deleted = event("customer.subscription.deleted", subscription("canceled"));
        let change = transition(&deleted.kind, &deleted.object().unwrap()).unwrap();
        assert_eq!(
            (change.status, change.cancel_at_period_end),
            (Some(SubscriptionStatus::Cancelled), Some(false))
        );
    }

    #[test]
    fn the_period_is_read_from_the_subscription_or_its_items() {
        let mut old = subscription("active");
        old["current_period_start"] = json!(1_700_000_000);
        old["current_period_end"] = json!(1_702_592_000);
        old["items"] = json!({"data": []});
        let Object::Subscription(s) = event("customer.subscription.updated", old)
            .object()
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(s.period(), Some((at(1_700_000_000), at(1_702_592_000))));
        let Object::Subscription(s) =
            event("customer.subscription.updated", subscription("active"))
                .object()
                .unwrap()
        else {
            panic!()
        };
        assert_eq!(s.period(), Some((at(1_764_060_000), at(1_766_652_000))));
        assert!(s.row().is_some());
    }

    #[test]
    fn an_invoice_names_its_subscription_in_either_api_shape_and_converts_its_amount() {
        let new = event(
            "invoice.paid",
            json!({"id": "in_1", "object": "invoice", "currency": "jpy", "amount_paid": 4900,
                   "parent": {"type": "subscription_details", "subscription_details": {
                       "subscription": "sub_new", "metadata": {"adpilot_subscription_id": "00000000-0000-0000-0000-000000000002"}}},
                   "lines": {"data": [{"period": {"start": 1, "end": 2}}]}}),
        );
        let Object::Invoice(inv) = new.object().unwrap() else {
            panic!()
        };
        assert_eq!(inv.subscription_id(), Some("sub_new"));
        assert!(inv.row().is_some());
        assert_eq!(inv.amount(inv.amount_paid).to_string(), "4900");
        let old = event(
            "invoice.payment_failed",
            json!({"id": "in_2", "object": "invoice", "currency": "usd", "amount_due": 4900,
                   "subscription": "sub_old", "billing_reason": "subscription_cycle"}),
        );
        let Object::Invoice(inv) = old.object().unwrap() else {
            panic!()
        };
        assert_eq!(inv.subscription_id(), Some("sub_old"));
        assert_eq!(inv.amount(inv.amount_due).to_string(), "49.00");
        let change = transition(&old.kind, &Object::Invoice(inv.clone())).unwrap();
        assert_eq!(change.status, Some(SubscriptionStatus::PastDue));
        let first = Invoice {
            billing_reason: Some("subscription_create".into()),
            ..inv
        };
        assert_eq!(transition(&old.kind, &Object::Invoice(first)), None);
    }
}
