//! The current subscription: reading it, cancelling it at the provider that charges it,
//! and Stripe's billing portal. Subscribing is `checkout`.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use shared::api::subscriptions::Subscription;
use shared::auth::authenticate;
use shared::domain::billing::Provider;
use shared::error::{AppError, Problem};
use shared::http::docs::{InvalidInput, NotAuthenticated, NotJson, UpstreamError};
use shared::http::{json, json_body};
use shared::repo::customers;
use shared::repo::subscriptions;
use utoipa::ToSchema;

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
    json(StatusCode::OK, &Subscription::from(sub))
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
        (Some(p), Some(id)) if current.status.is_paid() => (*p, id.clone()),
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
    json(StatusCode::OK, &Subscription::from(sub))
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
