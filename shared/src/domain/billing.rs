//! Subscriptions' words as types: the plan's `Tier` and `BillingCycle`, the
//! `SubscriptionStatus` machine's states, who charges it (`Provider`: Razorpay for
//! India, Stripe elsewhere) and in what money (`Minor`: a decimal amount to and from the
//! provider's smallest unit by the currency's own exponent — ISO 4217 with Stripe's
//! zero-decimal list — never a fixed ×100).

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Invalid;

/// A plan's tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// The entry plan.
    Starter,
    /// The middle plan.
    Professional,
    /// The largest plan.
    Business,
}

string_enum!(Tier);

impl Tier {
    /// Every tier, smallest first.
    pub const ALL: [Tier; 3] = [Tier::Starter, Tier::Professional, Tier::Business];
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.as_str())
    }
}

/// How often a plan is billed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BillingCycle {
    /// Billed every month.
    Monthly,
    /// Billed every year.
    Annual,
}

string_enum!(BillingCycle);

impl BillingCycle {
    /// Both cycles.
    pub const ALL: [BillingCycle; 2] = [BillingCycle::Monthly, BillingCycle::Annual];

    /// Days the checkout's estimated first period lasts (the provider's event sets the real one).
    pub fn days(self) -> i64 {
        match self {
            BillingCycle::Monthly => 30,
            BillingCycle::Annual => 365,
        }
    }
}

impl std::fmt::Display for BillingCycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.as_str())
    }
}

/// A subscription's state. `created`: a checkout not paid yet (never the current
/// subscription); `trial`: every account's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    /// A checkout started, not paid yet.
    Created,
    /// The free trial every account starts with.
    Trial,
    /// Paid and current.
    Active,
    /// A renewal payment failed; the provider is retrying.
    PastDue,
    /// Paused at the provider.
    Paused,
    /// Cancelled, by the owner or at the provider.
    Cancelled,
    /// Ran out (a trial, or a period that was not renewed).
    Expired,
}

string_enum!(SubscriptionStatus);

impl SubscriptionStatus {
    /// The states of a subscription that has been paid for.
    pub const PAID: [SubscriptionStatus; 3] = [
        SubscriptionStatus::Active,
        SubscriptionStatus::PastDue,
        SubscriptionStatus::Paused,
    ];

    /// Whether it has been paid for (active, past due or paused).
    pub fn is_paid(self) -> bool {
        Self::PAID.contains(&self)
    }
}

impl std::fmt::Display for SubscriptionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.as_str())
    }
}

/// A payment provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Razorpay (India, INR).
    Razorpay,
    /// Stripe (cards, elsewhere).
    Stripe,
}

string_enum!(Provider);

impl Provider {
    /// Both providers.
    pub const ALL: [Provider; 2] = [Provider::Razorpay, Provider::Stripe];

    /// The provider a business in `country` (ISO 3166 alpha-2) pays through by default:
    /// Razorpay in India and when the country is not known, Stripe elsewhere.
    pub fn default_for(country: Option<&str>) -> Self {
        match country {
            Some(c) if c != "IN" => Provider::Stripe,
            _ => Provider::Razorpay,
        }
    }

    /// The provider's name as people write it.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Razorpay => "Razorpay",
            Provider::Stripe => "Stripe",
        }
    }
}

/// Euro-area countries (ISO 3166 alpha-2): their Stripe default is EUR, others' USD.
const EURO_AREA: [&str; 20] = [
    "AT", "BE", "HR", "CY", "EE", "FI", "FR", "DE", "GR", "IE", "IT", "LV", "LT", "LU", "MT", "NL",
    "PT", "SK", "SI", "ES",
];

/// The currency a business in `country` is charged in by default through `provider`.
pub fn default_currency(provider: Provider, country: Option<&str>) -> &'static str {
    match provider {
        Provider::Razorpay => "INR",
        Provider::Stripe if country.is_some_and(|c| EURO_AREA.contains(&c)) => "EUR",
        Provider::Stripe => "USD",
    }
}

/// Stripe's zero-decimal currencies (charged in whole units).
const ZERO_DECIMAL: [&str; 16] = [
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];
/// Three-decimal currencies (thousandths).
const THREE_DECIMAL: [&str; 5] = ["BHD", "JOD", "KWD", "OMR", "TND"];

/// Converting amounts of one ISO 4217 currency to and from its smallest unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Minor {
    exponent: u32,
}

impl Minor {
    /// The conversion for an upper- or lower-case ISO code: three letters.
    pub fn of(currency: &str) -> Result<Self, Invalid> {
        let code = currency.to_ascii_uppercase();
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(Invalid::new(
                "invalid_currency",
                "must be an ISO 4217 code such as INR, USD or EUR",
            ));
        }
        let exponent = if ZERO_DECIMAL.contains(&code.as_str()) {
            0
        } else if THREE_DECIMAL.contains(&code.as_str()) {
            3
        } else {
            2
        };
        Ok(Self { exponent })
    }

    /// Decimal places of the currency.
    pub fn exponent(self) -> u32 {
        self.exponent
    }

    /// `amount` in the smallest unit; None when it has more decimals than the currency.
    pub fn to_minor(self, amount: Decimal) -> Option<i64> {
        if amount.normalize().scale() > self.exponent {
            return None;
        }
        (amount * Decimal::from(10i64.pow(self.exponent))).to_i64()
    }

    /// The smallest unit back as an amount with the currency's decimals.
    pub fn from_minor(self, minor: i64) -> Decimal {
        Decimal::new(minor, self.exponent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn each_currency_converts_by_its_own_exponent() {
        let usd = Minor::of("usd").unwrap();
        let jpy = Minor::of("JPY").unwrap();
        let kwd = Minor::of("KWD").unwrap();
        assert_eq!(usd.to_minor(dec("49.00")), Some(4_900));
        assert_eq!(jpy.to_minor(dec("4900")), Some(4_900));
        assert_eq!(kwd.to_minor(dec("15.250")), Some(15_250));
        assert_eq!(usd.from_minor(4_900).to_string(), "49.00");
        assert_eq!(jpy.from_minor(4_900).to_string(), "4900");
        assert_eq!(kwd.from_minor(15_250).to_string(), "15.250");
        assert_eq!(
            Minor::of("INR").unwrap().from_minor(399_900).to_string(),
            "3999.00"
        );
    }

    #[test]
    fn an_amount_finer_than_the_currency_is_refused_not_rounded() {
        assert_eq!(Minor::of("JPY").unwrap().to_minor(dec("4900.5")), None);
        assert_eq!(Minor::of("USD").unwrap().to_minor(dec("0.001")), None);
        assert!(Minor::of("US").is_err());
        assert!(Minor::of("U5D").is_err());
    }

    #[test]
    fn india_pays_through_razorpay_in_rupees_others_through_stripe() {
        assert_eq!(Provider::default_for(Some("IN")), Provider::Razorpay);
        assert_eq!(Provider::default_for(None), Provider::Razorpay);
        assert_eq!(Provider::default_for(Some("US")), Provider::Stripe);
        assert_eq!(default_currency(Provider::Razorpay, Some("IN")), "INR");
        assert_eq!(default_currency(Provider::Stripe, Some("DE")), "EUR");
        assert_eq!(default_currency(Provider::Stripe, Some("IN")), "USD");
        assert_eq!(Provider::parse("stripe"), Some(Provider::Stripe));
        assert_eq!(Provider::Razorpay.as_str(), "razorpay");
    }

    #[test]
    fn plan_words_keep_their_database_spelling() {
        assert_eq!(SubscriptionStatus::PastDue.as_str(), "past_due");
        assert_eq!(
            SubscriptionStatus::parse("past_due"),
            Some(SubscriptionStatus::PastDue)
        );
        assert!(SubscriptionStatus::Paused.is_paid() && !SubscriptionStatus::Trial.is_paid());
        assert_eq!(Tier::parse("professional"), Some(Tier::Professional));
        assert_eq!(BillingCycle::Annual.to_string(), "annual");
        assert_eq!(Tier::parse("gold"), None);
    }
}
