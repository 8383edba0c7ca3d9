//! Billing over HTTP: the plans (from `system_config`), the current subscription, a
//! Razorpay checkout to subscribe, cancelling, and credit usage. Subscriptions become
//! paid through the Razorpay webhook (the billing-webhook function), never here.

mod usage;

pub use shared::razorpay;

use chrono::{Duration, Utc};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use shared::auth::authenticate;
use shared::config::ConfigError;
use shared::error::{AppError, Problem};
use shared::http::docs::{InvalidInput, NotAuthenticated, NotJson};
use shared::http::{json, json_body};
use shared::repo::subscriptions::{self, Checkout, PAID, Subscription};
use shared::repo::system_config::{self, BILLING_CYCLES, Plan, TIERS};
use utoipa::ToSchema;

use razorpay::Razorpay;

pub struct State {
    pub ctx: shared::http::Context,
    pub razorpay: Razorpay,
}

impl State {
    pub async fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            ctx: shared::http::Context::from_env().await?,
            razorpay: Razorpay::from_env()?,
        })
    }
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    shared::http::serve(req, async |req| route(state, req).await).await
}

async fn route(state: &State, req: Request) -> Result<Response<Body>, AppError> {
    match (req.uri().path().trim_end_matches('/'), req.method().clone()) {
        ("/v1/usage", Method::GET) => usage::get_usage(&state.ctx, &req).await,
        ("/v1/plans", Method::GET) => list_plans(state, &req).await,
        ("/v1/subscription", Method::GET) => get_subscription(state, &req).await,
        ("/v1/subscription", Method::POST) => subscribe(state, &req).await,
        ("/v1/subscription/cancel", Method::POST) => cancel(state, &req).await,
        ("/v1/usage" | "/v1/plans" | "/v1/subscription" | "/v1/subscription/cancel", _) => {
            Err(AppError::MethodNotAllowed)
        }
        _ => Err(AppError::NotFound),
    }
}

#[derive(Serialize, ToSchema)]
pub struct Plans {
    pub data: Vec<Plan>,
}

#[utoipa::path(get, path = "/v1/plans", tag = "billing", security(("bearer" = [])),
    responses(
        (status = 200, description = "The plans on offer: tier, monthly AI credits, INR prices per billing cycle", body = Plans),
        NotAuthenticated,
    ))]
pub async fn list_plans(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let data = state
        .ctx
        .db
        .tenant(user, async |t| system_config::plans(t).await)
        .await?;
    json(StatusCode::OK, &Plans { data })
}

#[utoipa::path(get, path = "/v1/subscription", tag = "billing", security(("bearer" = [])),
    responses(
        (status = 200, description = "The current subscription: tier, status, period, credits", body = Subscription),
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
}

fn monthly() -> String {
    "monthly".into()
}

/// What the client passes to Razorpay Checkout (`subscription_id`, `key`), or the hosted page.
#[derive(Serialize, ToSchema)]
pub struct CheckoutInfo {
    pub key_id: String,
    pub subscription_id: String,
    /// Razorpay's hosted payment page for this subscription.
    pub short_url: Option<String>,
    pub name: &'static str,
    pub description: String,
}

#[derive(Serialize, ToSchema)]
pub struct Subscribed {
    /// The new subscription, `created` until Razorpay reports it paid.
    pub subscription: Subscription,
    pub checkout: CheckoutInfo,
}

/// Cycles a subscription runs before Razorpay completes it: ten years either way.
fn total_count(cycle: &str) -> u32 {
    if cycle == "annual" { 10 } else { 120 }
}

#[utoipa::path(post, path = "/v1/subscription", tag = "billing", security(("bearer" = [])),
    request_body = SubscribeInput,
    responses(
        (status = 201, description = "A Razorpay subscription to pay through Checkout (an earlier unpaid checkout is cancelled at Razorpay: one open checkout per user)", body = Subscribed),
        NotAuthenticated,
        NotJson,
        InvalidInput,
        (status = 409, description = "Already on a paid plan (cancel it first), or another checkout started at the same time (`checkout_in_progress`)", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Razorpay refused; its message is in detail", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn subscribe(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let input: SubscribeInput = json_body(req)?;
    if !TIERS.contains(&input.tier.as_str()) {
        return Err(AppError::field(
            "tier",
            "invalid",
            format!("must be one of {}", TIERS.join(", ")),
        ));
    }
    if !BILLING_CYCLES.contains(&input.billing_cycle.as_str()) {
        return Err(AppError::field(
            "billing_cycle",
            "invalid",
            "must be monthly or annual",
        ));
    }
    let (current, offer) = state
        .ctx
        .db
        .tenant(user, async |t| {
            Ok((
                subscriptions::current(t).await?,
                system_config::price(t, &input.tier, &input.billing_cycle).await?,
            ))
        })
        .await?;
    let Some((plan, price)) = offer else {
        return Err(AppError::field(
            "tier",
            "not_offered",
            "this plan is not on offer for that billing cycle",
        ));
    };
    if PAID.contains(&current.status.as_str()) && current.razorpay_subscription_id.is_some() {
        return Err(AppError::Conflict {
            code: "already_subscribed",
            detail: format!(
                "You are on the {} plan ({}). Cancel it before choosing another.",
                current.tier, current.status
            ),
        });
    }
    // One open checkout per user: an earlier unpaid one is cancelled at Razorpay first.
    let open = state
        .ctx
        .db
        .tenant(user, async |t| subscriptions::open_checkouts(t).await)
        .await?;
    for earlier in open {
        state.razorpay.cancel_subscription(&earlier, false).await?;
        state
            .ctx
            .db
            .tenant(user, async |t| {
                subscriptions::close_checkout(t, &earlier).await
            })
            .await?;
        tracing::info!(user = %user.0, subscription = earlier, "earlier open checkout cancelled");
    }
    let remote = state
        .razorpay
        .create_subscription(
            &price.razorpay_plan_id,
            total_count(&input.billing_cycle),
            &user.0.to_string(),
        )
        .await?;
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
                    tier: &plan.tier,
                    billing_cycle: &input.billing_cycle,
                    price: price.amount,
                    credits: plan.ai_credits,
                    razorpay_subscription_id: &remote.id,
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
            .razorpay
            .cancel_subscription(&remote.id, false)
            .await?;
        return Err(AppError::Conflict {
            code: "checkout_in_progress",
            detail: "Another checkout was started at the same time; use that one.".into(),
        });
    };
    tracing::info!(user = %user.0, subscription = remote.id, tier = plan.tier, "checkout created");
    json(
        StatusCode::CREATED,
        &Subscribed {
            subscription: sub,
            checkout: CheckoutInfo {
                key_id: state.razorpay.key_id.clone(),
                subscription_id: remote.id,
                short_url: remote.short_url,
                name: "Adpilot",
                description: format!("{} plan, billed {}", plan.name, input.billing_cycle),
            },
        },
    )
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
        (status = 200, description = "Cancelled through Razorpay; the subscription as it now stands", body = Subscription),
        NotAuthenticated,
        NotJson,
        InvalidInput,
        (status = 409, description = "No paid subscription to cancel", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Razorpay refused; its message is in detail", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn cancel(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let input: CancelInput = json_body(req)?;
    let current = state
        .ctx
        .db
        .tenant(user, async |t| subscriptions::current(t).await)
        .await?;
    let remote_id = match &current.razorpay_subscription_id {
        Some(id) if PAID.contains(&current.status.as_str()) => id.clone(),
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
    let remote = state
        .razorpay
        .cancel_subscription(&remote_id, input.at_period_end)
        .await?;
    let sub = state
        .ctx
        .db
        .tenant(user, async |t| {
            if input.at_period_end {
                subscriptions::set_cancel_at_period_end(t, current.id).await?;
            } else if remote.status == "cancelled" {
                subscriptions::set_cancelled(t, current.id).await?;
            }
            subscriptions::current(t).await
        })
        .await?;
    json(StatusCode::OK, &sub)
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(usage::get_usage, list_plans, get_subscription, subscribe, cancel))]
pub struct Api;
