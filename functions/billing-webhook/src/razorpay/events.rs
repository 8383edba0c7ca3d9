//! Razorpay webhook events and what each does to a subscription.
//!
//! | Razorpay event | our status |
//! |---|---|
//! | subscription.authenticated | (stays `created`: mandate given, nothing paid yet) |
//! | subscription.activated, .resumed | active |
//! | subscription.charged | active; a new period resets the month's credits once |
//! | subscription.pending, .halted | past_due |
//! | subscription.paused | paused |
//! | subscription.cancelled | cancelled |
//! | subscription.completed | expired |
//! | subscription.updated | from the entity's status; the tier from its plan |
//!
//! Amounts arrive in the currency's smallest unit (paise) and timestamps as Unix
//! seconds; both are converted here. A charge's payment names the instrument (method,
//! token or card id, the card's network and last four).

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;
use shared::domain::billing::Minor;
use shared::domain::billing::SubscriptionStatus;
use shared::repo::subscriptions::{Change, Instrument};

#[derive(Clone, Debug, Deserialize)]
pub struct Event {
    pub entity: String,
    pub event: String,
    pub created_at: i64,
    #[serde(default)]
    pub payload: Payload,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Payload {
    pub subscription: Option<Wrapped<SubscriptionEntity>>,
    pub payment: Option<Wrapped<PaymentEntity>>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Wrapped<T> {
    pub entity: T,
}

#[derive(Clone, Debug, Deserialize)]
pub struct SubscriptionEntity {
    pub id: String,
    pub plan_id: Option<String>,
    pub status: String,
    pub current_start: Option<i64>,
    pub current_end: Option<i64>,
    #[serde(default)]
    pub notes: Value,
}

#[derive(Clone, Debug, Deserialize)]
pub struct PaymentEntity {
    pub id: String,
    /// In paise.
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub error_description: Option<String>,
    #[serde(default)]
    pub notes: Value,
    /// card, upi, emandate, netbanking, …
    pub method: Option<String>,
    /// The recurring mandate's token, when the payment set one up.
    pub token_id: Option<String>,
    pub card_id: Option<String>,
    pub card: Option<CardEntity>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct CardEntity {
    pub last4: Option<String>,
    /// Visa, MasterCard, RuPay, …
    pub network: Option<String>,
}

pub fn at(unix: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(unix, 0).single().unwrap_or_default()
}

impl Event {
    pub fn created_at(&self) -> DateTime<Utc> {
        at(self.created_at)
    }

    pub fn subscription(&self) -> Option<&SubscriptionEntity> {
        self.payload.subscription.as_ref().map(|w| &w.entity)
    }

    pub fn payment(&self) -> Option<&PaymentEntity> {
        self.payload.payment.as_ref().map(|w| &w.entity)
    }
}

impl PaymentEntity {
    /// The amount in its currency, by the currency's exponent (paise to rupees).
    pub fn amount(&self) -> Decimal {
        Minor::of(&self.currency)
            .map(|m| m.from_minor(self.amount))
            .unwrap_or_else(|_| Decimal::new(self.amount, 2))
    }

    /// What was charged: the mandate's token (or the card), its method, the card's
    /// network and last four. None when the payment names nothing.
    pub fn instrument(&self) -> Option<Instrument> {
        let card = self.card.as_ref();
        let i = Instrument {
            id: self.token_id.clone().or_else(|| self.card_id.clone()),
            kind: self.method.clone(),
            card_brand: card.and_then(|c| c.network.clone()),
            card_last4: card.and_then(|c| c.last4.clone()),
        };
        (i != Instrument::default()).then_some(i)
    }

    /// Our payment status for Razorpay's (created/authorized/captured/refunded/failed).
    pub fn status(&self) -> &'static str {
        match self.status.as_str() {
            "captured" => "captured",
            "refunded" => "refunded",
            "failed" => "failed",
            _ => "authorized",
        }
    }
}

/// Our status for a Razorpay subscription status (used by `subscription.updated`).
pub fn status_of(razorpay: &str) -> Option<SubscriptionStatus> {
    Some(match razorpay {
        "active" => SubscriptionStatus::Active,
        "pending" | "halted" => SubscriptionStatus::PastDue,
        "paused" => SubscriptionStatus::Paused,
        "cancelled" => SubscriptionStatus::Cancelled,
        "completed" | "expired" => SubscriptionStatus::Expired,
        _ => return None, // created, authenticated: not paid yet
    })
}

/// What `event` does to a subscription, or None when it changes nothing.
pub fn transition(event: &str, s: &SubscriptionEntity) -> Option<Change> {
    let status = match event {
        "subscription.authenticated" => None,
        "subscription.activated" | "subscription.charged" | "subscription.resumed" => {
            Some(SubscriptionStatus::Active)
        }
        "subscription.pending" | "subscription.halted" => Some(SubscriptionStatus::PastDue),
        "subscription.paused" => Some(SubscriptionStatus::Paused),
        "subscription.cancelled" => Some(SubscriptionStatus::Cancelled),
        "subscription.completed" => Some(SubscriptionStatus::Expired),
        "subscription.updated" => status_of(&s.status),
        _ => return None,
    };
    let period = match (s.current_start, s.current_end) {
        (Some(start), Some(end)) if end > start => Some((at(start), at(end))),
        _ => None,
    };
    Some(Change {
        paid: status.is_some_and(SubscriptionStatus::is_paid),
        status,
        provider_status: Some(s.status.clone()),
        period: period.filter(|_| status == Some(SubscriptionStatus::Active)),
        cancel_at_period_end: (event == "subscription.cancelled").then_some(false),
        ..Change::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(status: &str) -> SubscriptionEntity {
        SubscriptionEntity {
            id: "sub_1".into(),
            plan_id: Some("plan_1".into()),
            status: status.into(),
            current_start: Some(1_764_060_000),
            current_end: Some(1_766_652_000),
            notes: Value::Null,
        }
    }

    #[test]
    fn every_subscription_event_maps_to_a_status() {
        let cases = [
            ("subscription.authenticated", "authenticated", None),
            (
                "subscription.activated",
                "active",
                Some(SubscriptionStatus::Active),
            ),
            (
                "subscription.charged",
                "active",
                Some(SubscriptionStatus::Active),
            ),
            (
                "subscription.pending",
                "pending",
                Some(SubscriptionStatus::PastDue),
            ),
            (
                "subscription.halted",
                "halted",
                Some(SubscriptionStatus::PastDue),
            ),
            (
                "subscription.paused",
                "paused",
                Some(SubscriptionStatus::Paused),
            ),
            (
                "subscription.resumed",
                "active",
                Some(SubscriptionStatus::Active),
            ),
            (
                "subscription.cancelled",
                "cancelled",
                Some(SubscriptionStatus::Cancelled),
            ),
            (
                "subscription.completed",
                "completed",
                Some(SubscriptionStatus::Expired),
            ),
            (
                "subscription.updated",
                "active",
                Some(SubscriptionStatus::Active),
            ),
        ];
        for (event, razorpay, ours) in cases {
            let change = transition(event, &entity(razorpay)).expect(event);
            assert_eq!(change.status, ours, "{event}");
            assert_eq!(change.provider_status.as_deref(), Some(razorpay));
        }
        assert_eq!(transition("order.paid", &entity("active")), None);
    }

    #[test]
    fn only_an_active_subscription_takes_the_period() {
        let charged = transition("subscription.charged", &entity("active")).unwrap();
        assert_eq!(charged.period, Some((at(1_764_060_000), at(1_766_652_000))));
        let halted = transition("subscription.halted", &entity("halted")).unwrap();
        assert_eq!(halted.period, None);
    }

    #[test]
    fn paise_become_rupees_exactly() {
        let p = PaymentEntity {
            id: "pay_1".into(),
            amount: 399_900,
            currency: "INR".into(),
            status: "captured".into(),
            error_description: None,
            notes: Value::Null,
            method: Some("card".into()),
            token_id: Some("token_1".into()),
            card_id: Some("card_1".into()),
            card: Some(CardEntity {
                last4: Some("1111".into()),
                network: Some("Visa".into()),
            }),
        };
        assert_eq!(p.amount().to_string(), "3999.00");
        let i = p.instrument().unwrap();
        assert_eq!(
            (i.id.as_deref(), i.kind.as_deref(), i.card_last4.as_deref()),
            (Some("token_1"), Some("card"), Some("1111"))
        );
    }
}
