//! The current subscription: reading it, a checkout to subscribe at Razorpay or Stripe
//! (one open checkout per user, whichever provider), Stripe's billing portal, and
//! cancelling at the provider that charges it.

use chrono::{Duration, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use shared::auth::authenticate;
use shared::billing::stripe::NewCheckout;
use shared::db::Tenant;
use shared::domain::billing::{Minor, Provider, default_currency};
use shared::domain::{Fields, Invalid, UserId};
use shared::error::{AppError, Problem};
use shared::http::docs::{InvalidInput, NotAuthenticated, NotJson, UpstreamError};
use shared::http::{json, json_body};
use shared::repo::subscriptions::{self, Checkout, PAID, Subscription};
use shared::repo::system_config::{self, BILLING_CYCLES, Plan, Price, TIERS};
use shared::repo::{customers, profiles, users};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::State;

#[utoipa::path(get, path = "/v1/subscription", tag = "billing", security(("bearer" = [])),
    responses(
        (status = 200, description = "The current subscription: tier, status, period, credits, the provider that charges it and the card's brand and last four", body = Subscription),
        NotAuthenticated,
    ))]
pub async fn get_subscription(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let sub = state
        .ctx
        .db
        .tenant(user, async |t| subscriptions::current(t).await)
        .await?;
    json(StatusCode::OK, &sub)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscribeInput {
    /// starter, professional or business.
    pub tier: String,
    /// monthly or annual.
    #[serde(default = "monthly")]
    pub billing_cycle: String,
    /// razorpay or stripe (default: Razorpay for a business in India or of unknown
    /// country, Stripe elsewhere).
    pub provider: Option<String>,
    /// ISO 4217 (default: INR through Razorpay; EUR for the euro area, USD elsewhere
    /// through Stripe).
    pub currency: Option<String>,
}

fn monthly() -> String {
    "monthly".into()
}

/// How the client pays: the provider's hosted page, and what Razorpay's Checkout needs.
#[derive(Serialize, ToSchema)]
pub struct CheckoutInfo {
    pub provider: Provider,
    /// The hosted payment page (Razorpay's short URL, Stripe Checkout's page).
    pub url: Option<String>,
    /// Razorpay Checkout's `key`.
    pub key_id: Option<String>,
    /// Razorpay's subscription id, for Razorpay Checkout.
    pub subscription_id: Option<String>,
    /// Stripe's Checkout Session id.
    pub session_id: Option<String>,
    pub name: &'static str,
    pub description: String,
}

#[derive(Serialize, ToSchema)]
pub struct Subscribed {
    /// The new subscription, `created` until its provider reports it paid.
    pub subscription: Subscription,
    pub checkout: CheckoutInfo,
}

/// What a checkout is for, after validation.
struct Order {
    plan: Plan,
    price: Price,
    provider: Provider,
}

/// Cycles a Razorpay subscription runs before it completes: ten years either way.
fn total_count(cycle: &str) -> u32 {
    if cycle == "annual" { 10 } else { 120 }
}

fn parse_input(input: &SubscribeInput) -> Result<(Option<Provider>, Option<String>), AppError> {
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
async fn order(
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
fn refuse_a_second_paid_plan(current: &Subscription, provider: Provider) -> Result<(), AppError> {
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

#[utoipa::path(post, path = "/v1/subscription", tag = "billing", security(("bearer" = [])),
    request_body = SubscribeInput,
    responses(
        (status = 201, description = "A checkout to pay at Razorpay or Stripe (an earlier unpaid checkout is closed at its provider: one open checkout per user). Paying for a plan through the other provider than the current paid one switches: the old one is cancelled at its provider once the new one is paid", body = Subscribed),
        NotAuthenticated,
        NotJson,
        InvalidInput,
        (status = 409, description = "Already on a paid plan at that provider (cancel it first), or another checkout started at the same time (`checkout_in_progress`)", body = Problem, content_type = "application/problem+json"),
        UpstreamError,
    ))]
pub async fn subscribe(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let input: SubscribeInput = json_body(req)?;
    let (provider, currency) = parse_input(&input)?;
    let (current, order, open) = state
        .ctx
        .db
        .tenant(user, async |t| {
            let order = order(t, &input, provider, currency).await?;
            Ok((
                subscriptions::current(t).await?,
                order,
                subscriptions::open_checkouts(t).await?,
            ))
        })
        .await?;
    refuse_a_second_paid_plan(&current, order.provider)?;
    for earlier in open {
        state
            .gateways
            .close_checkout(earlier.provider, &earlier.remote_id)
            .await?;
        state
            .ctx
            .db
            .tenant(user, async |t| {
                subscriptions::close_checkout(t, earlier.id).await
            })
            .await?;
        tracing::info!(user = %user.0, provider = earlier.provider.as_str(), remote_id = earlier.remote_id,
                       "earlier open checkout closed");
    }
    let row = Uuid::new_v4();
    let checkout = match order.provider {
        Provider::Razorpay => razorpay_checkout(state, user, &order, &input).await?,
        Provider::Stripe => stripe_checkout(state, user, row, &order, &input).await?,
    };
    let remote_id = checkout
        .subscription_id
        .clone()
        .or_else(|| checkout.session_id.clone())
        .unwrap_or_default();
    let now = Utc::now();
    let days = if input.billing_cycle == "annual" {
        365
    } else {
        30
    };
    let sub = state
        .ctx
        .db
        .tenant(user, async |t| {
            subscriptions::create_checkout(
                t,
                &Checkout {
                    id: row,
                    provider: order.provider,
                    tier: &order.plan.tier,
                    billing_cycle: &input.billing_cycle,
                    price: order.price.amount,
                    currency: &order.price.currency,
                    credits: order.plan.ai_credits,
                    remote_id: &remote_id,
                    period_start: now,
                    period_end: now + Duration::days(days),
                },
            )
            .await
        })
        .await?;
    let Some(sub) = sub else {
        // Another checkout of this user was kept meanwhile: this one must not be payable.
        state
            .gateways
            .close_checkout(order.provider, &remote_id)
            .await?;
        return Err(AppError::Conflict {
            code: "checkout_in_progress",
            detail: "Another checkout was started at the same time; use that one.".into(),
        });
    };
    tracing::info!(user = %user.0, provider = order.provider.as_str(), remote_id, tier = order.plan.tier,
                   currency = order.price.currency, "checkout created");
    json(
        StatusCode::CREATED,
        &Subscribed {
            subscription: sub,
            checkout,
        },
    )
}

fn description(order: &Order, cycle: &str) -> String {
    format!("{} plan, billed {cycle}", order.plan.name)
}

async fn razorpay_checkout(
    state: &State,
    user: UserId,
    order: &Order,
    input: &SubscribeInput,
) -> Result<CheckoutInfo, AppError> {
    let plan_id = order.price.razorpay_plan_id.as_deref().ok_or_else(|| {
        AppError::Internal(format!("{} has no Razorpay plan id", order.plan.tier))
    })?;
    let remote = state
        .gateways
        .razorpay
        .create_subscription(
            plan_id,
            total_count(&input.billing_cycle),
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
        description: description(order, &input.billing_cycle),
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

async fn stripe_checkout(
    state: &State,
    user: UserId,
    row: Uuid,
    order: &Order,
    input: &SubscribeInput,
) -> Result<CheckoutInfo, AppError> {
    let unit_amount = Minor::of(&order.price.currency)
        .ok()
        .and_then(|m| m.to_minor(order.price.amount))
        .ok_or_else(|| {
            AppError::Internal(format!("price {} is not payable", order.price.amount))
        })?;
    let customer = stripe_customer(state, user).await?;
    let description = description(order, &input.billing_cycle);
    let session = state
        .gateways
        .stripe
        .create_checkout(&NewCheckout {
            customer: &customer,
            subscription_row: row,
            user_id: user.0,
            tier: &order.plan.tier,
            billing_cycle: &input.billing_cycle,
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelInput {
    /// Keep the plan until the paid period ends (default) or end it now.
    #[serde(default = "yes")]
    pub at_period_end: bool,
}

fn yes() -> bool {
    true
}

#[utoipa::path(post, path = "/v1/subscription/cancel", tag = "billing", security(("bearer" = [])),
    request_body = CancelInput,
    responses(
        (status = 200, description = "Cancelled at the provider that charges it; the subscription as it now stands", body = Subscription),
        NotAuthenticated,
        NotJson,
        InvalidInput,
        (status = 409, description = "No paid subscription to cancel", body = Problem, content_type = "application/problem+json"),
        UpstreamError,
    ))]
pub async fn cancel(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let input: CancelInput = json_body(req)?;
    let current = state
        .ctx
        .db
        .tenant(user, async |t| subscriptions::current(t).await)
        .await?;
    let (provider, remote_id) = match (&current.payment_method, &current.remote_id) {
        (Some(p), Some(id)) if PAID.contains(&current.status.as_str()) => (*p, id.clone()),
        _ => {
            return Err(AppError::Conflict {
                code: "nothing_to_cancel",
                detail: format!(
                    "Your {} subscription is {}; there is no paid plan to cancel.",
                    current.tier, current.status
                ),
            });
        }
    };
    let ended = state
        .gateways
        .cancel(provider, &remote_id, input.at_period_end)
        .await?;
    let sub = state
        .ctx
        .db
        .tenant(user, async |t| {
            if input.at_period_end {
                subscriptions::set_cancel_at_period_end(t, current.id).await?;
            } else if ended {
                subscriptions::set_cancelled(t, current.id).await?;
            }
            subscriptions::current(t).await
        })
        .await?;
    json(StatusCode::OK, &sub)
}

/// Where the customer manages their Stripe billing.
#[derive(Serialize, ToSchema)]
pub struct Portal {
    /// Stripe's billing portal, valid for a short while; it returns to the billing page.
    pub url: String,
}

#[utoipa::path(post, path = "/v1/subscription/portal", tag = "billing", security(("bearer" = [])),
    responses(
        (status = 200, description = "A Stripe billing portal session: change the card, see invoices, cancel", body = Portal),
        NotAuthenticated,
        (status = 409, description = "Never paid through Stripe (`no_stripe_customer`); Razorpay subscriptions are managed in the app", body = Problem, content_type = "application/problem+json"),
        UpstreamError,
    ))]
pub async fn portal(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let customer = state
        .ctx
        .db
        .tenant(user, async |t| customers::find(t, Provider::Stripe).await)
        .await?
        .ok_or_else(|| AppError::Conflict {
            code: "no_stripe_customer",
            detail: "You have not subscribed through Stripe; there is no Stripe billing to manage."
                .into(),
        })?;
    let url = state
        .gateways
        .stripe
        .portal(&customer, &state.return_url)
        .await?;
    json(StatusCode::OK, &Portal { url })
}
