//! The `system_config` table: limits, plans, prices per currency, credit costs and
//! model ids as editable data, not constants in code. Readable by tenants and workers
//! alike.

use rust_decimal::Decimal;
use serde_json::Value;

use crate::db::Tx;
use crate::domain::asset::AssetType;
use crate::domain::billing::{BillingCycle, Minor, Provider, Tier};
use crate::error::AppError;

pub async fn get(t: &impl Tx, key: &str) -> Result<Option<Value>, AppError> {
    let row = t
        .tx()
        .query_opt("SELECT value FROM system_config WHERE key = $1", &[&key])
        .await?;
    Ok(row.map(|r| r.get(0)))
}

async fn required(t: &impl Tx, key: &str) -> Result<Value, AppError> {
    get(t, key)
        .await?
        .ok_or_else(|| AppError::Internal(format!("system_config has no {key}")))
}

fn missing(key: &str, what: &str) -> AppError {
    AppError::Internal(format!("system_config.{key} has no valid {what}"))
}

fn int_at(value: &Value, path: &[&str]) -> Option<i32> {
    let mut v = value;
    for p in path {
        v = v.get(p)?;
    }
    v.as_i64().and_then(|n| i32::try_from(n).ok())
}

/// Monthly AI credits of a tier, from `subscription_features`.
pub async fn tier_credits(t: &impl Tx, tier: Tier) -> Result<i32, AppError> {
    let features = required(t, "subscription_features").await?;
    let tier = tier.as_str();
    int_at(&features, &[&tier, "ai_credits"])
        .ok_or_else(|| missing("subscription_features", &format!("{tier}.ai_credits")))
}

/// Credits one generation of `kind` costs (`ai_credit_costs`).
pub async fn credit_cost(t: &impl Tx, kind: AssetType) -> Result<i32, AppError> {
    let costs = required(t, "ai_credit_costs").await?;
    int_at(&costs, &[kind.as_str()])
        .filter(|n| *n > 0)
        .ok_or_else(|| missing("ai_credit_costs", kind.as_str()))
}

/// Generations of `kind` one user may start per day (`ai_service_limits`: imagen, veo).
pub async fn daily_limit(t: &impl Tx, kind: AssetType) -> Result<i32, AppError> {
    let key = match kind {
        AssetType::Image => "imagen",
        AssetType::Video => "veo",
    };
    let limits = required(t, "ai_service_limits").await?;
    int_at(&limits, &[key]).ok_or_else(|| missing("ai_service_limits", key))
}

/// The model id that generates `kind` (`ai_models`).
pub async fn ai_model(t: &impl Tx, kind: AssetType) -> Result<String, AppError> {
    let models = required(t, "ai_models").await?;
    models
        .get(kind.as_str())
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| missing("ai_models", kind.as_str()))
}

/// Calls per hour one Meta ad account may receive (`meta_api_rate_limits.calls_per_hour`).
pub async fn meta_calls_per_hour(t: &impl Tx) -> Result<i32, AppError> {
    let limits = required(t, "meta_api_rate_limits").await?;
    int_at(&limits, &["calls_per_hour"])
        .ok_or_else(|| missing("meta_api_rate_limits", "calls_per_hour"))
}

/// One tier's price for one billing cycle in one currency, and who charges it.
#[derive(Clone, Debug)]
pub struct Price {
    pub billing_cycle: BillingCycle,
    pub amount: Decimal,
    /// ISO 4217.
    pub currency: String,
    pub provider: Provider,
    pub razorpay_plan_id: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub tier: Tier,
    pub name: String,
    /// AI credits per month.
    pub ai_credits: i32,
    pub prices: Vec<Price>,
}

impl Plan {
    /// This plan's price for `cycle` in `currency` through `provider`, if offered.
    pub fn price(&self, cycle: BillingCycle, currency: &str, provider: Provider) -> Option<&Price> {
        self.prices
            .iter()
            .find(|p| p.billing_cycle == cycle && p.currency == currency && p.provider == provider)
    }
}

/// Razorpay's INR price and plan id for one tier and cycle (`subscription_plans`).
fn razorpay_price(entry: &Value, cycle: BillingCycle) -> Option<Price> {
    let p = entry.get(cycle.as_str())?;
    Some(Price {
        billing_cycle: cycle,
        amount: p.get("price_inr")?.as_str()?.parse().ok()?,
        currency: "INR".into(),
        provider: Provider::Razorpay,
        razorpay_plan_id: Some(p.get("razorpay_plan_id")?.as_str()?.to_owned()),
    })
}

/// Stripe's prices for one tier and cycle, one per currency (`stripe_prices`). An amount
/// finer than its currency allows is left out, not rounded.
fn stripe_prices(entry: Option<&Value>, cycle: BillingCycle) -> Vec<Price> {
    let Some(by_currency) = entry
        .and_then(|e| e.get(cycle.as_str()))
        .and_then(Value::as_object)
    else {
        return Vec::new();
    };
    let mut prices: Vec<Price> = by_currency
        .iter()
        .filter_map(|(currency, amount)| {
            let amount: Decimal = amount.as_str()?.parse().ok()?;
            Minor::of(currency).ok()?.to_minor(amount)?;
            Some(Price {
                billing_cycle: cycle,
                amount,
                currency: currency.to_ascii_uppercase(),
                provider: Provider::Stripe,
                razorpay_plan_id: None,
            })
        })
        .collect();
    prices.sort_by(|a, b| a.currency.cmp(&b.currency));
    prices
}

/// Every plan, from `subscription_plans` (names, Razorpay's INR prices and plan ids),
/// `stripe_prices` (Stripe's prices per currency) and `subscription_features` (credits).
pub async fn plans(t: &impl Tx) -> Result<Vec<Plan>, AppError> {
    let priced = required(t, "subscription_plans").await?;
    let stripe = get(t, "stripe_prices").await?.unwrap_or(Value::Null);
    let mut plans = Vec::new();
    for tier in Tier::ALL {
        let key = tier.as_str();
        let Some(entry) = priced.get(&key) else {
            continue;
        };
        let prices = BillingCycle::ALL
            .into_iter()
            .flat_map(|cycle| {
                razorpay_price(entry, cycle)
                    .into_iter()
                    .chain(stripe_prices(stripe.get(&key), cycle))
            })
            .collect();
        plans.push(Plan {
            tier,
            name: entry
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(&key)
                .to_owned(),
            ai_credits: tier_credits(t, tier).await?,
            prices,
        });
    }
    Ok(plans)
}

/// The tier whose Razorpay plan id this is, with its price.
pub async fn tier_of_plan(t: &impl Tx, plan_id: &str) -> Result<Option<(Plan, Price)>, AppError> {
    Ok(plans(t).await?.into_iter().find_map(|p| {
        let price = p
            .prices
            .iter()
            .find(|x| x.razorpay_plan_id.as_deref() == Some(plan_id))?
            .clone();
        Some((p, price))
    }))
}
