//! Each provider's checkout: a Razorpay subscription to pay through Razorpay Checkout,
//! or a Stripe Checkout Session (priced in the currency's smallest unit) for the user's
//! one Stripe customer.

use shared::billing::stripe::NewCheckout;
use shared::domain::UserId;
use shared::domain::billing::{BillingCycle, Minor, Provider};
use shared::error::AppError;
use shared::repo::{customers, users};
use uuid::Uuid;

use super::CheckoutInfo;
use super::order::Order;
use crate::State;

/// Cycles a Razorpay subscription runs before it completes: ten years either way.
fn total_count(cycle: BillingCycle) -> u32 {
    match cycle {
        BillingCycle::Annual => 10,
        BillingCycle::Monthly => 120,
    }
}

fn description(order: &Order) -> String {
    format!(
        "{} plan, billed {}",
        order.plan.name, order.price.billing_cycle
    )
}

pub(super) async fn razorpay_checkout(
    state: &State,
    user: UserId,
    order: &Order,
) -> Result<CheckoutInfo, AppError> {
    let plan_id = order.price.razorpay_plan_id.as_deref().ok_or_else(|| {
        AppError::Internal(format!("{} has no Razorpay plan id", order.plan.tier))
    })?;
    let remote = state
        .gateways
        .razorpay
        .create_subscription(
            plan_id,
            total_count(order.price.billing_cycle),
            &user.0.to_string(),
        )
        .await?;
    Ok(CheckoutInfo {
        provider: Provider::Razorpay,
        url: remote.short_url,
        key_id: Some(state.gateways.razorpay.key_id.clone()),
        subscription_id: Some(remote.id),
        session_id: None,
        name: "Adpilot",
        description: description(order),
    })
}

/// The user's Stripe customer, made once: a retried or simultaneous first checkout gets
/// the same customer from Stripe (the idempotency key is the user id) and keeps one row.
async fn stripe_customer(state: &State, user: UserId) -> Result<String, AppError> {
    let (known, email) = state
        .ctx
        .db
        .tenant(user, async |t| {
            let email = users::find(t).await?.map(|u| u.email).unwrap_or_default();
            Ok((customers::find(t, Provider::Stripe).await?, email))
        })
        .await?;
    if let Some(id) = known {
        return Ok(id);
    }
    let made = state
        .gateways
        .stripe
        .create_customer(user.0, &email)
        .await?;
    state
        .ctx
        .db
        .tenant(user, async |t| {
            customers::keep(t, Provider::Stripe, &made).await
        })
        .await
}

pub(super) async fn stripe_checkout(
    state: &State,
    user: UserId,
    row: Uuid,
    order: &Order,
) -> Result<CheckoutInfo, AppError> {
    let unit_amount = Minor::of(&order.price.currency)
        .ok()
        .and_then(|m| m.to_minor(order.price.amount))
        .ok_or_else(|| {
            AppError::Internal(format!("price {} is not payable", order.price.amount))
        })?;
    let customer = stripe_customer(state, user).await?;
    let description = description(order);
    let session = state
        .gateways
        .stripe
        .create_checkout(&NewCheckout {
            customer: &customer,
            subscription_row: row,
            user_id: user.0,
            tier: order.plan.tier,
            billing_cycle: order.price.billing_cycle,
            product_name: &format!("Adpilot {}", order.plan.name),
            currency: &order.price.currency.to_ascii_lowercase(),
            unit_amount,
            success_url: &format!("{}?checkout=success", state.return_url),
            cancel_url: &format!("{}?checkout=cancelled", state.return_url),
        })
        .await?;
    Ok(CheckoutInfo {
        provider: Provider::Stripe,
        url: session.url,
        key_id: None,
        subscription_id: None,
        session_id: Some(session.id),
        name: "Adpilot",
        description,
    })
}
