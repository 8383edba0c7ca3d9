//! `GET /v1/analytics/summary`: per-campaign and total figures over a date range.

use chrono::NaiveDate;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::api::analytics::{CampaignSummary, Metrics};
use shared::auth::authenticate;
use shared::domain::Fields;
use shared::error::AppError;
use shared::http::docs::{InvalidInput, NotAuthenticated};
use shared::http::{Query, json};
use shared::repo::analytics;
use utoipa::ToSchema;

use super::params::date_range;
use crate::State;

#[derive(Serialize, ToSchema)]
pub struct Summary {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub currency: String,
    pub campaigns: Vec<CampaignSummary>,
    pub totals: Metrics,
}

#[utoipa::path(get, path = "/v1/analytics/summary", tag = "analytics", security(("bearer" = [])),
    params(
        ("from" = Option<NaiveDate>, Query, description = "First day (default: 29 days before `to`)"),
        ("to" = Option<NaiveDate>, Query, description = "Last day, inclusive (default: today)"),
    ),
    responses(
        (status = 200, description = "Figures per campaign and in total", body = Summary),
        NotAuthenticated,
        InvalidInput,
    ))]
pub async fn summary(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let q = Query::of(req);
    let mut f = Fields::default();
    q.reject_unknown(&mut f, &["from", "to"]);
    let (from, to) = date_range(&q, &mut f);
    f.finish()?;
    let (campaigns, totals) = state
        .db
        .tenant(user, async |t| analytics::summary(t, from, to).await)
        .await?;
    json(
        StatusCode::OK,
        &Summary {
            from,
            to,
            currency: "INR".into(),
            campaigns: campaigns.into_iter().map(CampaignSummary::from).collect(),
            totals: totals.into(),
        },
    )
}
