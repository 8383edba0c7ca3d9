//! `GET /v1/plans[?currency=]`: the tiers, their monthly credits and their prices, each
//! with its currency and the provider that charges it.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::api::system_config::Plan;
use shared::auth::authenticate;
use shared::domain::Fields;
use shared::domain::billing::Minor;
use shared::error::AppError;
use shared::http::docs::{InvalidInput, NotAuthenticated};
use shared::http::{Query, json};
use shared::repo::system_config;
use utoipa::ToSchema;

use crate::State;

#[derive(Serialize, ToSchema)]
pub struct Plans {
    pub data: Vec<Plan>,
}

#[utoipa::path(get, path = "/v1/plans", tag = "billing", security(("bearer" = [])),
    params(
        ("currency" = Option<String>, Query, description = "Only prices in this ISO 4217 currency (INR through Razorpay; USD, EUR through Stripe)"),
    ),
    responses(
        (status = 200, description = "The plans on offer: tier, monthly AI credits, prices per billing cycle and currency with their provider", body = Plans),
        NotAuthenticated,
        InvalidInput,
    ))]
pub async fn list_plans(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let q = Query::of(req);
    let mut f = Fields::default();
    q.reject_unknown(&mut f, &["currency"]);
    let currency = q
        .one(&mut f, "currency")
        .and_then(|c| f.check("currency", Minor::of(c).map(|_| c.to_ascii_uppercase())));
    f.finish()?;
    let mut data = state
        .ctx
        .db
        .tenant(user, async |t| system_config::plans(t).await)
        .await?;
    if let Some(currency) = currency {
        let offered = offered_currencies(&data);
        if !offered.contains(&currency) {
            return Err(AppError::field(
                "currency",
                "not_offered",
                format!("plans are priced in {}", offered.join(", ")),
            ));
        }
        for plan in &mut data {
            plan.prices.retain(|p| p.currency == currency);
        }
    }
    let data = data.into_iter().map(Plan::from).collect();
    json(StatusCode::OK, &Plans { data })
}

/// Every currency some plan is priced in, sorted.
pub fn offered_currencies(plans: &[system_config::Plan]) -> Vec<String> {
    let mut all: Vec<String> = plans
        .iter()
        .flat_map(|p| p.prices.iter().map(|x| x.currency.clone()))
        .collect();
    all.sort();
    all.dedup();
    all
}
