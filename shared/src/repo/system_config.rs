//! The `system_config` table: limits, plans, credit costs and model ids as editable
//! data, not constants in code. Readable by tenants and workers alike.

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::db::Tx;
use crate::domain::asset::AssetType;
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
pub async fn tier_credits(t: &impl Tx, tier: &str) -> Result<i32, AppError> {
    let features = required(t, "subscription_features").await?;
    int_at(&features, &[tier, "ai_credits"])
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

/// One tier's price for one billing cycle.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Price {
    /// monthly or annual.
    pub billing_cycle: String,
    #[schema(value_type = String, example = "3999.00")]
    pub amount: Decimal,
    pub currency: &'static str,
    #[serde(skip)]
    pub razorpay_plan_id: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Plan {
    /// starter, professional or business.
    pub tier: String,
    pub name: String,
    /// AI credits per month.
    pub ai_credits: i32,
    pub prices: Vec<Price>,
}

pub const TIERS: [&str; 3] = ["starter", "professional", "business"];
pub const BILLING_CYCLES: [&str; 2] = ["monthly", "annual"];

/// Every plan, from `subscription_plans` (prices, Razorpay plan ids) and
/// `subscription_features` (credits).
pub async fn plans(t: &impl Tx) -> Result<Vec<Plan>, AppError> {
    let priced = required(t, "subscription_plans").await?;
    let mut plans = Vec::new();
    for tier in TIERS {
        let Some(entry) = priced.get(tier) else {
            continue;
        };
        let prices = BILLING_CYCLES
            .iter()
            .filter_map(|cycle| {
                let p = entry.get(cycle)?;
                Some(Price {
                    billing_cycle: (*cycle).to_owned(),
                    amount: p.get("price_inr")?.as_str()?.parse().ok()?,
                    currency: "INR",
                    razorpay_plan_id: p.get("razorpay_plan_id")?.as_str()?.to_owned(),
                })
            })
            .collect();
        plans.push(Plan {
            tier: tier.to_owned(),
            name: entry
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(tier)
                .to_owned(),
            ai_credits: tier_credits(t, tier).await?,
            prices,
        });
    }
    Ok(plans)
}

/// The plan and price for `tier` and `cycle`, if offered.
pub async fn price(
    t: &impl Tx,
    tier: &str,
    cycle: &str,
) -> Result<Option<(Plan, Price)>, AppError> {
    let plan = plans(t).await?.into_iter().find(|p| p.tier == tier);
    Ok(plan.and_then(|p| {
        let price = p.prices.iter().find(|x| x.billing_cycle == cycle)?.clone();
        Some((p, price))
    }))
}

/// The tier whose Razorpay plan id this is, with its billing cycle.
pub async fn tier_of_plan(t: &impl Tx, plan_id: &str) -> Result<Option<(Plan, Price)>, AppError> {
    Ok(plans(t).await?.into_iter().find_map(|p| {
        let price = p
            .prices
            .iter()
            .find(|x| x.razorpay_plan_id == plan_id)?
            .clone();
        Some((p, price))
    }))
}
