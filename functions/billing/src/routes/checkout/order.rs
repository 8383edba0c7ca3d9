//! What a checkout is for: the input checked, the provider and currency defaulted from
//! the business's country, the plan's price in that currency, and the rule that a paid
//! plan is bought again only through the other provider.

use shared::db::Tenant;
use shared::domain::billing::{BillingCycle, Minor, Provider, Tier, default_currency};
use shared::domain::{Fields, Invalid};
use shared::error::AppError;
use shared::repo::profiles;
use shared::repo::subscriptions::Subscription;
use shared::repo::system_config::{self, Plan, Price};

use super::SubscribeInput;

/// What the checkout is for, with its price.
pub(super) struct Order {
    pub plan: Plan,
    pub price: Price,
    pub provider: Provider,
}

/// The checked input: every wrong field named at once.
pub(super) struct Wanted {
    pub tier: Tier,
    pub cycle: BillingCycle,
    pub provider: Option<Provider>,
    pub currency: Option<String>,
}

fn one_of<T: Copy>(all: &[T], name: impl Fn(T) -> String, raw: &str) -> Result<T, Invalid> {
    all.iter()
        .copied()
        .find(|v| name(*v) == raw)
        .ok_or_else(|| {
            let names: Vec<String> = all.iter().map(|v| name(*v)).collect();
            Invalid::new("invalid", format!("must be one of {}", names.join(", ")))
        })
}

pub(super) fn parse_input(input: &SubscribeInput) -> Result<Wanted, AppError> {
    let mut f = Fields::default();
    let tier = f.check("tier", one_of(&Tier::ALL, Tier::as_str, &input.tier));
    let cycle = f.check(
        "billing_cycle",
        one_of(
            &BillingCycle::ALL,
            BillingCycle::as_str,
            &input.billing_cycle,
        ),
    );
    let provider = input
        .provider
        .as_deref()
        .and_then(|p| f.check("provider", one_of(&Provider::ALL, Provider::as_str, p)));
    let currency = input
        .currency
        .as_deref()
        .and_then(|c| f.check("currency", Minor::of(c).map(|_| c.to_ascii_uppercase())));
    f.finish()?;
    Ok(Wanted {
        tier: tier.expect("checked"),
        cycle: cycle.expect("checked"),
        provider,
        currency,
    })
}

/// The plan and price wanted, with defaults from where the business is.
pub(super) async fn order(t: &Tenant<'_>, wanted: &Wanted) -> Result<Order, AppError> {
    let country = profiles::business_country(t).await?;
    let provider = wanted
        .provider
        .unwrap_or_else(|| Provider::default_for(country.as_deref()));
    let currency = wanted
        .currency
        .clone()
        .unwrap_or_else(|| default_currency(provider, country.as_deref()).to_owned());
    let plan = system_config::plans(t)
        .await?
        .into_iter()
        .find(|p| p.tier == wanted.tier)
        .ok_or_else(|| AppError::field("tier", "not_offered", "this plan is not on offer"))?;
    let Some(price) = plan.price(wanted.cycle, &currency, provider).cloned() else {
        let offered: Vec<String> = plan
            .prices
            .iter()
            .filter(|p| p.billing_cycle == wanted.cycle && p.provider == provider)
            .map(|p| p.currency.clone())
            .collect();
        return Err(if offered.is_empty() {
            AppError::field(
                "tier",
                "not_offered",
                format!(
                    "{} does not offer this plan billed {}",
                    provider.name(),
                    wanted.cycle
                ),
            )
        } else {
            AppError::field(
                "currency",
                "not_offered",
                format!(
                    "{} charges this plan in {}, not {currency}",
                    provider.name(),
                    offered.join(", ")
                ),
            )
        });
    };
    Ok(Order {
        plan,
        price,
        provider,
    })
}

/// A paid subscription at the same provider must be cancelled before another is
/// bought; at the other provider, the new one replaces it once paid (switching).
pub(super) fn refuse_a_second_paid_plan(
    current: &Subscription,
    provider: Provider,
) -> Result<(), AppError> {
    if current.status.is_paid() && current.payment_method == Some(provider) {
        return Err(AppError::Conflict {
            code: "already_subscribed",
            detail: format!(
                "You are on the {} plan ({}) through {}. Cancel it before choosing another.",
                current.tier,
                current.status,
                provider.name()
            ),
        });
    }
    Ok(())
}
