//! Reach before spending: Meta's delivery estimate for the campaign's targeting and
//! optimisation goal on an ad account — the audience's lower and upper bound, and what
//! the daily budget buys a day (reach, impressions, results) read off Meta's outcomes
//! curve — stored in `audience_size_estimate`. `GET /v1/campaigns/{id}/estimate`
//! refreshes it; a draft's targeting or budget change and every launch refresh it too.

use chrono::{DateTime, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use rust_decimal::Decimal;
use serde::Serialize;
use shared::auth::authenticate;
use shared::domain::money::Currency;
use shared::domain::{CampaignId, Fields, UserId};
use shared::error::{AppError, Problem};
use shared::http::docs::{NotAuthenticated, NotFound, UpstreamError};
use shared::http::{Query, json, parse_id};
use shared::meta::ads::AdAccount;
use shared::repo::campaigns::{self, Campaign};
use shared::repo::meta_accounts;
use utoipa::ToSchema;

use super::meta_error;
use super::spec::{optimization_goal, promoted_object, targeting};
use crate::State;

/// What Meta expects a day at the campaign's daily budget.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DailyEstimate {
    /// The daily budget the figures are for, in the campaign's currency.
    #[schema(value_type = String, example = "1500.00")]
    pub budget: Decimal,
    pub reach: i64,
    pub impressions: i64,
    /// Results for the campaign's optimisation goal (clicks, reach, …).
    pub results: f64,
}

/// The stored estimate (`audience_size_estimate`).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AudienceEstimate {
    pub ad_account_id: String,
    pub optimization_goal: &'static str,
    /// People Meta can reach with this targeting (monthly active), lower and upper bound.
    pub audience_lower_bound: i64,
    pub audience_upper_bound: i64,
    /// False while Meta is not confident yet (its curve is then all zeros).
    pub estimate_ready: bool,
    /// At the daily budget (for a total budget: spread over its days); null without a
    /// curve.
    pub daily: Option<DailyEstimate>,
    pub estimated_at: DateTime<Utc>,
}

/// The ad account to estimate on: the one asked for, else the campaign's own, else the
/// user's first active ad account billing in the campaign's currency.
async fn account_for(
    state: &State,
    user: UserId,
    c: &Campaign,
    asked: Option<String>,
) -> Result<Option<(String, meta_accounts::Access)>, AppError> {
    let id = CampaignId(c.id);
    let currency = c.currency.clone();
    state
        .db
        .tenant(user, async |t| {
            let act = match asked {
                Some(a) => Some(a),
                None => match campaigns::meta_link(t, id).await?.ad_account_id {
                    Some(a) => Some(a),
                    None => meta_accounts::default_ad_account(t, &currency).await?,
                },
            };
            let Some(act) = act else { return Ok(None) };
            Ok(meta_accounts::access_for(t, user.0, &act)
                .await?
                .map(|a| (act, a)))
        })
        .await
}

/// Asks Meta and stores the estimate; None when there is no ad account to ask on.
pub async fn refresh(
    state: &State,
    user: UserId,
    c: &Campaign,
    asked: Option<String>,
) -> Result<Option<AudienceEstimate>, AppError> {
    let Some((act, access)) = account_for(state, user, c, asked).await? else {
        return Ok(None);
    };
    let (access, token) = super::token_of(state, Some(access))?;
    let account = AdAccount {
        graph: &state.graph,
        token: &token,
        act: &act,
    };
    refresh_on(state, user, c, &account, access.pixel_id.as_deref())
        .await
        .map(Some)
}

/// Asks Meta on an ad account already opened (its pixel, if chosen) and stores the
/// estimate.
pub async fn refresh_on(
    state: &State,
    user: UserId,
    c: &Campaign,
    account: &AdAccount<'_>,
    pixel: Option<&str>,
) -> Result<AudienceEstimate, AppError> {
    let goal = optimization_goal(c.objective);
    let promoted = promoted_object(c, pixel);
    let e = account
        .delivery_estimate(&targeting(c), goal, promoted.as_ref())
        .await
        .map_err(meta_error)?;
    let currency = Currency::parse(&c.currency).unwrap_or(Currency::INR);
    let per_day = c.daily_budget.or_else(|| {
        let days = match (c.start_date, c.end_date) {
            (Some(s), Some(e)) => (e - s).num_days() + 1,
            _ => 30,
        };
        c.total_budget.map(|t| t / Decimal::from(days.max(1)))
    });
    let daily = per_day.and_then(|b| {
        e.at(currency.to_minor(b)).map(|p| DailyEstimate {
            budget: b.round_dp(currency.decimals()),
            reach: p.reach,
            impressions: p.impressions,
            results: (p.actions * 10.0).round() / 10.0,
        })
    });
    let estimate = AudienceEstimate {
        ad_account_id: account.act.to_owned(),
        optimization_goal: goal,
        audience_lower_bound: e.audience_lower,
        audience_upper_bound: e.audience_upper,
        estimate_ready: e.ready,
        daily,
        estimated_at: Utc::now(),
    };
    let stored = serde_json::to_value(&estimate).map_err(AppError::internal)?;
    let id = CampaignId(c.id);
    state
        .db
        .tenant(user, async |t| {
            campaigns::set_estimate(t, id, &stored).await
        })
        .await?;
    Ok(estimate)
}

/// A refresh that must not stop what triggered it (an edit, a launch): a failure is
/// logged and the previous estimate stays.
pub fn logged<T>(c: &Campaign, refreshed: Result<T, AppError>) {
    if let Err(e) = refreshed {
        tracing::warn!(campaign_id = %c.id, error = %e, "delivery estimate not refreshed");
    }
}

/// `refresh` after an edit, on the campaign's (or the user's default) ad account.
pub async fn refresh_quietly(state: &State, user: UserId, c: &Campaign) {
    logged(c, refresh(state, user, c, None).await);
}

#[utoipa::path(get, path = "/v1/campaigns/{id}/estimate", operation_id = "estimate_campaign", tag = "campaigns",
    security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Campaign id"),
        ("ad_account_id" = Option<String>, Query, description = "The ad account to estimate on (default: the campaign's, else your first active one in its currency)"),
    ),
    responses(
        (status = 200, description = "Meta's fresh estimate, also stored as the campaign's audience_size_estimate", body = AudienceEstimate),
        NotAuthenticated,
        NotFound,
        (status = 422, description = "No connected ad account to estimate on, or not one of yours", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Meta asked us to slow down", body = Problem, content_type = "application/problem+json"),
        UpstreamError,
    ))]
pub async fn estimate(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let id = CampaignId(parse_id(id)?);
    let q = Query::of(req);
    let mut f = Fields::default();
    q.reject_unknown(&mut f, &["ad_account_id"]);
    let asked = q.one(&mut f, "ad_account_id").map(str::to_owned);
    f.finish()?;
    let c = state
        .db
        .tenant(user, async |t| campaigns::get(t, id, false).await)
        .await?
        .ok_or(AppError::NotFound)?;
    let estimate = refresh(state, user, &c, asked)
        .await?
        .ok_or(AppError::Unprocessable {
            code: "no_ad_account",
            field: "ad_account_id",
            detail: "connect Meta (or name one of your active ad accounts) to estimate delivery"
                .into(),
        })?;
    json(StatusCode::OK, &estimate)
}
