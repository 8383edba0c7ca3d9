//! Billing over HTTP: the plans and their prices per currency (from `system_config`),
//! the current subscription, a checkout at Razorpay or Stripe to subscribe, Stripe's
//! billing portal, cancelling, and credit usage. Subscriptions become paid through the
//! providers' webhooks (the billing-webhook function), never here.

mod routes;

pub use shared::billing;

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use shared::billing::Gateways;
use shared::config::{ConfigError, or_default};
use shared::error::AppError;

pub use routes::checkout::{CheckoutInfo, SubscribeInput, Subscribed};
pub use routes::plans::Plans;

pub struct State {
    pub ctx: shared::http::Context,
    pub gateways: Gateways,
    /// `BILLING_RETURN_URL`: the web app's billing page, where Stripe's checkout and
    /// portal send the customer back.
    pub return_url: String,
}

impl State {
    pub async fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            ctx: shared::http::Context::from_env().await?,
            gateways: Gateways::from_env()?,
            return_url: or_default("BILLING_RETURN_URL", "http://localhost:3000/billing"),
        })
    }
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    shared::http::serve(req, async |req| route(state, req).await).await
}

async fn route(state: &State, req: Request) -> Result<Response<Body>, AppError> {
    use routes::{checkout, plans, subscription, usage};
    match (req.uri().path().trim_end_matches('/'), req.method().clone()) {
        ("/v1/usage", Method::GET) => usage::get_usage(&state.ctx, &req).await,
        ("/v1/plans", Method::GET) => plans::list_plans(state, &req).await,
        ("/v1/subscription", Method::GET) => subscription::get_subscription(state, &req).await,
        ("/v1/subscription", Method::POST) => checkout::subscribe(state, &req).await,
        ("/v1/subscription/cancel", Method::POST) => subscription::cancel(state, &req).await,
        ("/v1/subscription/portal", Method::POST) => subscription::portal(state, &req).await,
        (
            "/v1/usage"
            | "/v1/plans"
            | "/v1/subscription"
            | "/v1/subscription/cancel"
            | "/v1/subscription/portal",
            _,
        ) => Err(AppError::MethodNotAllowed),
        _ => Err(AppError::NotFound),
    }
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    routes::usage::get_usage,
    routes::plans::list_plans,
    routes::subscription::get_subscription,
    routes::checkout::subscribe,
    routes::subscription::cancel,
    routes::subscription::portal
))]
pub struct Api;
