//! `POST /v1/brand-profile/analyze`: queues a brand analysis (a job and its queue
//! message in one transaction). The job stays `pending` until the analyzer runs.

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
use shared::repo::{jobs, outbox};
use utoipa::ToSchema;

use crate::State;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeRequest {
    /// The website to learn the brand from.
    #[schema(example = "https://example.com")]
    website_url: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct JobAccepted {
    pub job_id: uuid::Uuid,
    /// Always `pending` when accepted; follow it at `GET /v1/jobs/{job_id}`.
    pub status: String,
}

#[utoipa::path(post, path = "/v1/brand-profile/analyze", tag = "profiles", security(("bearer" = [])),
    request_body = AnalyzeRequest,
    responses(
        (status = 202, description = "Analysis queued", body = JobAccepted),
        NotJson,
        NotAuthenticated,
        (status = 422, description = "Invalid website_url", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn analyze(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let body: AnalyzeRequest = json_body(req)?;
    let mut f = Fields::default();
    let url = f
        .required("website_url", body.website_url)
        .and_then(|u| f.check("website_url", web_url(&u)));
    f.finish()?;
    let url = url.expect("checked");
    let job = state
        .db
        .tenant(user, async |t| {
            let job = jobs::create(t, "brand_analysis", &json!({ "website_url": url })).await?;
            outbox::enqueue(
                t,
                &BrandAnalysis {
                    job_id: job.id,
                    user_id: user.0,
                    website_url: url.clone(),
                },
            )
            .await?;
            Ok(job)
        })
        .await?;
    tracing::info!(user_id = %user, job_id = %job.id, "brand analysis queued");
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
