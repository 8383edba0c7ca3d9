//! `GET /v1/campaigns/{id}/performance`: a campaign's time series, with an optional
//! breakdown.

use chrono::NaiveDate;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::api::analytics::{Metrics, Point};
use shared::auth::authenticate;
use shared::domain::metrics::{Breakdown, Granularity};
use shared::domain::{CampaignId, Fields, Invalid};
use shared::error::AppError;
use shared::http::docs::{InvalidInput, NotAuthenticated, NotFound};
use shared::http::{Query, json, parse_id};
use shared::repo::analytics;
use shared::repo::campaigns;
use utoipa::ToSchema;

use super::params::{choice, date_range};
use crate::State;

#[derive(Serialize, ToSchema)]
pub struct Performance {
    pub campaign_id: uuid::Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub granularity: Granularity,
    pub breakdown: Breakdown,
    /// Always INR.
    pub currency: String,
    /// One point per day (or hour), and per breakdown value when broken down.
    pub series: Vec<Point>,
    /// The whole range, from the daily totals.
    pub totals: Metrics,
}

#[utoipa::path(get, path = "/v1/campaigns/{id}/performance", tag = "analytics", security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Campaign id"),
        ("from" = Option<NaiveDate>, Query, description = "First day (default: 29 days before `to`)"),
        ("to" = Option<NaiveDate>, Query, description = "Last day, inclusive (default: today)"),
        ("granularity" = Option<Granularity>, Query, description = "day (default) or hour"),
        ("breakdown" = Option<Breakdown>, Query, description = "none (default), platform, placement, age, gender or location; daily only"),
    ),
    responses(
        (status = 200, description = "The campaign's performance", body = Performance),
        NotAuthenticated,
        NotFound,
        InvalidInput,
    ))]
pub async fn performance(
    state: &State,
    req: &Request,
    id: &str,
) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let id = CampaignId(parse_id(id)?);
    let q = Query::of(req);
    let mut f = Fields::default();
    q.reject_unknown(&mut f, &["from", "to", "granularity", "breakdown"]);
    let (from, to) = date_range(&q, &mut f);
    let granularity = choice(&q, &mut f, "granularity", Granularity::Day, "day, hour");
    let breakdown = choice(
        &q,
        &mut f,
        "breakdown",
        Breakdown::None,
        "none, platform, placement, age, gender, location",
    );
    if granularity == Granularity::Hour && breakdown != Breakdown::None {
        f.check::<()>(
            "breakdown",
            Err(Invalid::new(
                "unsupported",
                "hourly series have no breakdowns; use granularity=day",
            )),
        );
    }
    f.finish()?;
    let body = state
        .db
        .tenant(user, async |t| {
            campaigns::get(t, id, false)
                .await?
                .ok_or(AppError::NotFound)?;
            let series = analytics::series(t, id, from, to, granularity, breakdown).await?;
            let totals = analytics::totals(t, id, from, to).await?;
            Ok(Performance {
                campaign_id: id.0,
                from,
                to,
                granularity,
                breakdown,
                currency: "INR".into(),
                series: series.into_iter().map(Point::from).collect(),
                totals: totals.into(),
            })
        })
        .await?;
    json(StatusCode::OK, &body)
}
