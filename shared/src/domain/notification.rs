//! What an owner is told about, by category: each category can be switched off per
//! channel, except that payment problems always reach the owner by email.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
/// What a notification is about; an owner can switch emails off per category.
pub enum Category {
    /// An ad rejected by Meta's review.
    AdReview,
    /// The Meta connection is expiring or expired.
    MetaConnection,
    /// A payment failed; the subscription is past due or halted.
    Payment,
    /// The trial ends soon, or ended.
    Trial,
    /// 80 % or all of the month's credits used.
    Credits,
    /// A generation finished, or failed and was refunded.
    Generation,
    /// The optimizer acted, or a rule disabled itself.
    Optimization,
    /// The weekly report is ready.
    Report,
}

impl Category {
    /// Every category, in the order the settings list them.
    pub const ALL: [Category; 8] = [
        Category::AdReview,
        Category::MetaConnection,
        Category::Payment,
        Category::Trial,
        Category::Credits,
        Category::Generation,
        Category::Optimization,
        Category::Report,
    ];

    /// The category as stored and sent (`ad_review`).
    pub fn as_str(self) -> &'static str {
        match self {
            Category::AdReview => "ad_review",
            Category::MetaConnection => "meta_connection",
            Category::Payment => "payment",
            Category::Trial => "trial",
            Category::Credits => "credits",
            Category::Generation => "generation",
            Category::Optimization => "optimization",
            Category::Report => "report",
        }
    }

    /// The category named `raw`, if there is one.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == raw)
    }

    /// Transactional: its email cannot be switched off.
    pub fn email_required(self) -> bool {
        self == Category::Payment
    }

    /// How the category reads in an email footer.
    pub fn label(self) -> &'static str {
        match self {
            Category::AdReview => "ad review",
            Category::MetaConnection => "Meta connection",
            Category::Payment => "payment",
            Category::Trial => "trial",
            Category::Credits => "credit usage",
            Category::Generation => "generation",
            Category::Optimization => "optimisation",
            Category::Report => "weekly report",
        }
    }
}

/// One thing to tell an owner. `event_key` names the event it comes from, so the same
/// event told twice is one notification.
#[derive(Clone, Debug)]
pub struct Notice {
    /// What it is about.
    pub category: Category,
    /// The event it comes from (`generation:<job>:done`), unique per owner.
    pub event_key: String,
    /// The headline.
    pub title: String,
    /// The text.
    pub body: String,
    /// Where in the app to act on it (a path such as `/assets/…`).
    pub link: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_round_trip_and_only_payment_email_is_required() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        let required: Vec<_> = Category::ALL
            .into_iter()
            .filter(|c| c.email_required())
            .collect();
        assert_eq!(required, [Category::Payment]);
    }
}
