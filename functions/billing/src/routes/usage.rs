//! `GET /v1/usage`: credits used per feature between two days, and what is left in the
//! current period.

use chrono::{DateTime, NaiveDate, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::api::usage::{Allowance, FeatureUsage};
use shared::auth::authenticate;
use shared::domain::{Fields, Invalid};
use shared::error::AppError;
use shared::http::docs::{InvalidInput, NotAuthenticated};
use shared::http::{Context, Query, json};
use shared::repo::usage;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Usage {
    /// First day counted (inclusive).
    pub from: NaiveDate,
    /// Last day counted (inclusive).
    pub to: NaiveDate,
    /// The current subscription period's allowance.
    pub current_period: Allowance,
    /// Net credits per feature between `from` and `to`.
    pub by_feature: Vec<FeatureUsage>,
}

const MAX_RANGE_DAYS: i64 = 400;

fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc()
}

#[utoipa::path(get, path = "/v1/usage", tag = "billing", security(("bearer" = [])),
    params(
        ("from" = Option<NaiveDate>, Query, description = "First day (default: the current period's start)"),
        ("to" = Option<NaiveDate>, Query, description = "Last day, inclusive (default: today)"),
    ),
    responses(
        (status = 200, description = "Credits used and left", body = Usage),
        NotAuthenticated,
        InvalidInput,
    ))]
pub async fn get_usage(ctx: &Context, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &ctx.tokens)?;
    let q = Query::of(req);
    let mut f = Fields::default();
    q.reject_unknown(&mut f, &["from", "to"]);
    let from = q.parse::<NaiveDate>(&mut f, "from", "a date like 2026-11-01");
    let to = q.parse::<NaiveDate>(&mut f, "to", "a date like 2026-11-30");
    f.finish()?;
    let usage = ctx
        .db
        .tenant(user, async |t| {
            let allowance = usage::current_allowance(t)
                .await?
                .ok_or_else(|| AppError::Internal("account has no current subscription".into()))?;
            let from = from.unwrap_or_else(|| allowance.period_start.date_naive());
            let to = to.unwrap_or_else(|| Utc::now().date_naive());
            let mut f = Fields::default();
            if to < from {
                f.check::<()>(
                    "to",
                    Err(Invalid::new("out_of_range", "must not be before from")),
                );
            } else if (to - from).num_days() > MAX_RANGE_DAYS {
                f.check::<()>(
                    "to",
                    Err(Invalid::new(
                        "range_too_long",
                        format!("ranges are at most {MAX_RANGE_DAYS} days"),
                    )),
                );
            }
            f.finish()?;
            let end = day_start(to) + chrono::Duration::days(1);
            let by_feature = usage::by_feature(t, day_start(from), end).await?;
            Ok(Usage {
                from,
                to,
                current_period: allowance.into(),
                by_feature: by_feature.into_iter().map(FeatureUsage::from).collect(),
            })
        })
        .await?;
    json(StatusCode::OK, &usage)
}
