//! Analytics over HTTP: `GET /v1/campaigns/{id}/performance` (a time series with optional
//! breakdown) and `GET /v1/analytics/summary` (per-campaign and total figures).

use chrono::{Duration, NaiveDate, Utc};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::auth::authenticate;
use shared::domain::{CampaignId, Fields, Invalid};
use shared::error::{AppError, Problem};
use shared::http::docs::{InvalidInput, NotAuthenticated};
use shared::http::{Query, at, json, parse_id};
use shared::repo::analytics::{self, Breakdown, CampaignSummary, Granularity, Metrics, Point};
use shared::repo::campaigns;
use utoipa::ToSchema;

/// The pool and token verifier, built once per cold start.
pub type State = shared::http::Context;

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    shared::http::serve(req, async |req| route(state, req).await).await
}

async fn route(state: &State, req: Request) -> Result<Response<Body>, AppError> {
    let path = req.uri().path().to_owned();
    let get = *req.method() == Method::GET;
    if let Some([id]) = at("/v1/campaigns/{}/performance", &path) {
        return if get {
            performance(state, &req, id).await
        } else {
            Err(AppError::MethodNotAllowed)
        };
    }
    if at::<0>("/v1/analytics/summary", &path).is_some() {
        return if get {
            summary(state, &req).await
        } else {
            Err(AppError::MethodNotAllowed)
        };
    }
    Err(AppError::NotFound)
}

/// The longest range one request may cover.
pub const MAX_RANGE_DAYS: i64 = 400;
/// The default range: the last 30 days, today included.
const DEFAULT_DAYS: i64 = 30;

/// `from`/`to` (inclusive dates), defaulting to the last 30 days, at most 400 days apart.
fn date_range(q: &Query, f: &mut Fields) -> (NaiveDate, NaiveDate) {
    let today = Utc::now().date_naive();
    let to = q
        .parse::<NaiveDate>(f, "to", "a date like 2026-11-30")
        .unwrap_or(today);
    let from = q
        .parse::<NaiveDate>(f, "from", "a date like 2026-11-01")
        .unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
    if to < from {
        f.check::<()>(
            "to",
            Err(Invalid::new("out_of_range", "must not be before from")),
        );
    } else if (to - from).num_days() >= MAX_RANGE_DAYS {
        f.check::<()>(
            "to",
            Err(Invalid::new(
                "range_too_long",
                format!("ranges cover at most {MAX_RANGE_DAYS} days"),
            )),
        );
    }
    (from, to)
}

fn choice<T: serde::de::DeserializeOwned>(
    q: &Query,
    f: &mut Fields,
    key: &str,
    default: T,
    allowed: &str,
) -> T {
    let Some(raw) = q.one(f, key).map(str::to_owned) else {
        return default;
    };
    f.check(
        key,
        serde_json::from_value(serde_json::Value::String(raw))
            .map_err(|_| Invalid::new("invalid", format!("must be one of {allowed}"))),
    )
    .unwrap_or(default)
}

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
        (status = 404, description = "No such campaign of yours", body = Problem, content_type = "application/problem+json"),
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
                series,
                totals,
            })
        })
        .await?;
    json(StatusCode::OK, &body)
}

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
            campaigns,
            totals,
        },
    )
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(performance, summary))]
pub struct Api;
