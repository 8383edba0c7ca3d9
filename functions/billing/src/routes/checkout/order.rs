//! What a checkout is for: the input checked, the provider and currency defaulted from
//! the business's country, the plan's price in that currency, and the rule that a paid
//! plan is bought again only through the other provider.

use shared::db::Tenant;
use shared::domain::billing::{Minor, Provider, default_currency};
use shared::domain::{Fields, Invalid};
use shared::error::AppError;
use shared::repo::profiles;
use shared::repo::subscriptions::{PAID, Subscription};
use shared::repo::system_config::{self, BILLING_CYCLES, Plan, Price, TIERS};

use super::SubscribeInput;

pub(super) struct Order {
    pub plan: Plan,
    pub price: Price,
    pub provider: Provider,
}

/// Cycles a Razorpay subscription runs before it completes: ten years either way.
pub(super) fn parse_input(
    input: &SubscribeInput,
) -> Result<(Option<Provider>, Option<String>), AppError> {
    let mut f = Fields::default();
    f.check(
        "tier",
        if TIERS.contains(&input.tier.as_str()) {
            Ok(())
        } else {
            Err(Invalid::new(
                "invalid",
                format!("must be one of {}", TIERS.join(", ")),
            ))
        },
    );
    f.check(
        "billing_cycle",
        if BILLING_CYCLES.contains(&input.billing_cycle.as_str()) {
            Ok(())
        } else {
            Err(Invalid::new("invalid", "must be monthly or annual"))
        },
    );
    let provider = input.provider.as_deref().and_then(|p| {
        f.check(
            "provider",
            Provider::parse(p).ok_or_else(|| Invalid::new("invalid", "must be razorpay or stripe")),
        )
    });
    let currency = input
        .currency
        .as_deref()
        .and_then(|c| f.check("currency", Minor::of(c).map(|_| c.to_ascii_uppercase())));
    f.finish()?;
    Ok((provider, currency))
}

/// The plan and price for the input, with defaults from where the business is.
pub(super) async fn order(
    t: &Tenant<'_>,
    input: &SubscribeInput,
    provider: Option<Provider>,
    currency: Option<String>,
) -> Result<Order, AppError> {
    let country = profiles::business_country(t).await?;
    let provider = provider.unwrap_or_else(|| Provider::default_for(country.as_deref()));
    let currency =
        currency.unwrap_or_else(|| default_currency(provider, country.as_deref()).to_owned());
    let plan = system_config::plans(t)
        .await?
        .into_iter()
        .find(|p| p.tier == input.tier)
        .ok_or_else(|| AppError::field("tier", "not_offered", "this plan is not on offer"))?;
    let Some(price) = plan
        .price(&input.billing_cycle, &currency, provider)
        .cloned()
    else {
        let offered: Vec<String> = plan
            .prices
            .iter()
            .filter(|p| p.billing_cycle == input.billing_cycle && p.provider == provider)
            .map(|p| p.currency.clone())
            .collect();
        return Err(AppError::field(
            if offered.is_empty() {
                "tier"
            } else {
                "currency"
            },
            "not_offered",
            if offered.is_empty() {
                format!(
                    "{} does not offer this plan billed {}",
                    provider.name(),
                    input.billing_cycle
                )
            } else {
                format!(
                    "{} charges this plan in {}, not {currency}",
                    provider.name(),
                    offered.join(", ")
                )
            },
        ));
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
    if PAID.contains(&current.status.as_str()) && current.payment_method == Some(provider) {
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
