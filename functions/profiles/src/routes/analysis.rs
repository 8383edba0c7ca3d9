//! `POST /v1/brand-profile/analyze`: queues a brand analysis (a job and its queue message
//! in one transaction) for the brand-analyzer. The website is the request's, else the
//! brand profile's, else the business profile's; it must pass the fetcher's rules (no
//! private addresses, ports 80/443) here already. One analysis per user per
//! `BRAND_ANALYSIS_EVERY_SECONDS` (10 minutes by default): each one fetches up to
//! thirty URLs from the open web on the user's word.

use chrono::{Duration, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use shared::auth::authenticate;
use shared::domain::{Fields, web_url};
use shared::error::{AppError, Problem};
use shared::http::docs::{NotAuthenticated, NotJson};
use shared::http::{json, json_body};
use shared::messages::BrandAnalysis;
use shared::repo::{jobs, outbox, profiles};
use shared::webfetch::{AllowHosts, website};
use utoipa::ToSchema;

use crate::State;

const JOB_TYPE: &str = "brand_analysis";

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeRequest {
    /// The website to learn the brand from; defaults to the brand profile's, then the
    /// business profile's.
    #[schema(example = "https://example.com")]
    website_url: Option<String>,
    /// Also replace the kit fields set by hand through `PUT /v1/brand-profile`
    /// (default false: they are kept).
    #[serde(default)]
    replace: bool,
}

#[derive(Serialize, ToSchema)]
pub struct JobAccepted {
    pub job_id: uuid::Uuid,
    /// Always `pending` when accepted; follow it at `GET /v1/jobs/{job_id}`.
    pub status: String,
}

fn every() -> Duration {
    Duration::seconds(
        shared::config::parsed_or("BRAND_ANALYSIS_EVERY_SECONDS", 600i64).unwrap_or(600),
    )
}

#[utoipa::path(post, path = "/v1/brand-profile/analyze", tag = "profiles", security(("bearer" = [])),
    request_body = AnalyzeRequest,
    responses(
        (status = 202, description = "Analysis queued", body = JobAccepted),
        NotJson,
        NotAuthenticated,
        (status = 422, description = "No website, or one that cannot be fetched (private address, other port)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "An analysis was asked for less than 10 minutes ago", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn analyze(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let body: AnalyzeRequest = json_body(req)?;
    let given = match body.website_url {
        Some(u) => Some(u),
        None => {
            state
                .ctx
                .db
                .tenant(user, async |t| {
                    let brand = profiles::brand(t).await?.and_then(|b| b.website_url);
                    Ok(match brand {
                        Some(u) => Some(u),
                        None => profiles::business(t).await?.and_then(|b| b.website_url),
                    })
                })
                .await?
        }
    };
    let mut f = Fields::default();
    let url = f
        .required("website_url", given)
        .and_then(|u| f.check("website_url", web_url(&u)));
    f.finish()?;
    let url = url.expect("checked");
    website::check("website_url", &url, &AllowHosts::from_env()).await?;
    let (job, message) = state
        .ctx
        .db
        .tenant(user, async |t| {
            if let Some(last) = jobs::last_requested(t, JOB_TYPE).await? {
                let retry_at = last + every();
                if retry_at > Utc::now() {
                    return Err(AppError::RateLimited {
                        code: "analysis_rate_limited",
                        detail: "A brand analysis was asked for recently; one can be asked for every 10 minutes.".into(),
                        retry_at,
                    });
                }
            }
            let job = jobs::create(t, JOB_TYPE, &json!({ "website_url": url, "replace": body.replace })).await?;
            let message = outbox::enqueue(
                t,
                &BrandAnalysis {
                    job_id: job.id,
                    user_id: user.0,
                    website_url: url.clone(),
                    replace: body.replace,
                },
            )
            .await?;
            Ok((job, message))
        })
        .await?;
    tracing::info!(user_id = %user, job_id = %job.id, "brand analysis queued");
    state.relay.send_now(&state.ctx.db, user, &[message]).await;
    let mut res = json(
        StatusCode::ACCEPTED,
        &JobAccepted {
            job_id: job.id,
            status: job.status,
        },
    )?;
    res.headers_mut().insert(
        "location",
        format!("/v1/jobs/{}", job.id)
            .parse()
            .map_err(AppError::internal)?,
    );
    Ok(res)
}
