//! `POST /v1/subscription`: a checkout at Razorpay or Stripe. One open checkout per
//! user, whichever provider: an earlier unpaid one is closed at its provider first, and
//! of two made at once only one is kept (the other is closed again). The provider and
//! currency default from where the business is (`order`); each provider's checkout is
//! made in `providers`.

mod order;
mod providers;

use chrono::{Duration, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use shared::api::subscriptions::Subscription;
use shared::auth::authenticate;
use shared::domain::billing::Provider;
use shared::error::{AppError, Problem};
use shared::http::docs::{InvalidInput, NotAuthenticated, NotJson, UpstreamError};
use shared::http::{json, json_body};
use shared::repo::subscriptions::{self, Checkout};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::State;
use order::{order, parse_input, refuse_a_second_paid_plan};
use providers::{razorpay_checkout, stripe_checkout};

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
    let wanted = parse_input(&input)?;
    let (current, order, open) = state
        .ctx
        .db
        .tenant(user, async |t| {
            let order = order(t, &wanted).await?;
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
        Provider::Razorpay => razorpay_checkout(state, user, &order).await?,
        Provider::Stripe => stripe_checkout(state, user, row, &order).await?,
    };
    let remote_id = checkout
        .subscription_id
        .clone()
        .or_else(|| checkout.session_id.clone())
        .unwrap_or_default();
    let now = Utc::now();
    let sub = state
        .ctx
        .db
        .tenant(user, async |t| {
            subscriptions::create_checkout(
                t,
                &Checkout {
                    id: row,
                    provider: order.provider,
                    tier: order.plan.tier,
                    billing_cycle: order.price.billing_cycle,
                    price: order.price.amount,
                    currency: &order.price.currency,
                    credits: order.plan.ai_credits,
                    remote_id: &remote_id,
                    period_start: now,
                    period_end: now + Duration::days(order.price.billing_cycle.days()),
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
    tracing::info!(user = %user.0, provider = order.provider.as_str(), remote_id, tier = %order.plan.tier,
                   currency = order.price.currency, "checkout created");
    json(
        StatusCode::CREATED,
        &Subscribed {
            subscription: sub.into(),
            checkout,
        },
    )
}
