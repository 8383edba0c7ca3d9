//! Jobs a user can follow and stop: `GET /v1/jobs` (paged, by type and status),
//! `GET /v1/jobs/{id}` and `POST /v1/jobs/{id}/cancel`. Cancelling a generation fails
//! its asset and refunds its credits in the same transaction, once; the worker that
//! picks its message up later (or finishes meanwhile) delivers nothing.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::api::jobs::Job;
use shared::auth::authenticate;
use shared::domain::{Fields, Invalid, JobId};
use shared::error::{AppError, Problem};
use shared::http::PageParams;
use shared::http::docs::{InvalidInput, NotAuthenticated, NotFound};
use shared::http::{Page, PageRequest, Query, json, parse_id};
use shared::repo::generations;
use shared::repo::jobs::{self, Cancel, JobFilter, STATUSES};
use utoipa::ToSchema;

use crate::State;

/// One page of jobs, newest first.
#[derive(Serialize, ToSchema)]
pub struct JobPage {
    pub items: Vec<Job>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/v1/jobs", tag = "jobs", security(("bearer" = [])),
    params(
        ("type" = Option<String>, Query, description = "Only jobs of this type (image_generation, video_generation, meta_sync, brand_analysis, …)"),
        ("status" = Option<String>, Query, description = "pending, running, completed, failed or cancelled"),
        PageParams,
    ),
    responses(
        (status = 200, description = "Your jobs, newest first", body = JobPage),
        NotAuthenticated,
        InvalidInput,
    ))]
pub async fn list_jobs(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let q = Query::of(req);
    let mut f = Fields::default();
    q.reject_unknown(&mut f, &["type", "status", "limit", "cursor"]);
    let page = PageRequest::from_query(&q, &mut f);
    let job_type = q.one(&mut f, "type").and_then(|t| {
        f.check(
            "type",
            if !t.is_empty()
                && t.len() <= 50
                && t.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            {
                Ok(t.to_owned())
            } else {
                Err(Invalid::new(
                    "invalid",
                    "a job type such as image_generation",
                ))
            },
        )
    });
    let status = q.one(&mut f, "status").and_then(|s| {
        f.check(
            "status",
            if STATUSES.contains(&s) {
                Ok(s.to_owned())
            } else {
                Err(Invalid::new(
                    "invalid",
                    format!("one of {}", STATUSES.join(", ")),
                ))
            },
        )
    });
    f.finish()?;
    let filter = JobFilter { job_type, status };
    let rows = state
        .ctx
        .db
        .tenant(user, async |t| jobs::list(t, &filter, &page).await)
        .await?;
    let page = Page::from_rows(rows, &page, jobs::Job::cursor).map_into::<Job>();
    json(
        StatusCode::OK,
        &JobPage {
            items: page.items,
            next_cursor: page.next_cursor,
        },
    )
}

#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The job id")),
    responses(
        (status = 200, description = "The job's status, progress, result or error", body = Job),
        NotAuthenticated,
        NotFound,
    ))]
pub async fn get_job(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let id = JobId(parse_id(id)?);
    let job = state
        .ctx
        .db
        .tenant(user, async |t| jobs::get(t, id).await)
        .await?;
    json(StatusCode::OK, &Job::from(job.ok_or(AppError::NotFound)?))
}

/// A job as cancelling left it, and the credits it gave back.
#[derive(Serialize, ToSchema)]
pub struct Cancelled {
    pub job: Job,
    /// Credits returned to this month by this request (0 when none were due, or when an
    /// earlier request already returned them).
    pub credits_refunded: i32,
}

#[utoipa::path(post, path = "/v1/jobs/{id}/cancel", tag = "jobs", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The job id")),
    responses(
        (status = 200, description = "Cancelled now, or cancelled before (asking again changes nothing); a cancelled generation's credits are refunded once", body = Cancelled),
        NotAuthenticated,
        NotFound,
        (status = 409, description = "The job has already completed or failed (`job_finished`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn cancel_job(
    state: &State,
    req: &Request,
    id: &str,
) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let id = JobId(parse_id(id)?);
    let outcome = state
        .ctx
        .db
        .tenant(user, async |t| match jobs::cancel(t, id).await? {
            None => Err(AppError::NotFound),
            Some(Cancel::Cancelled(job)) => {
                let refunded = generations::undo(t, user.0, &job, "cancelled by the user").await?;
                Ok(Cancelled {
                    job: job.into(),
                    credits_refunded: refunded,
                })
            }
            Some(Cancel::AlreadyOver(job)) if job.status == "cancelled" => Ok(Cancelled {
                job: job.into(),
                credits_refunded: 0,
            }),
            Some(Cancel::AlreadyOver(job)) => Err(AppError::Conflict {
                code: "job_finished",
                detail: format!(
                    "The job has already {}; there is nothing to cancel.",
                    job.status
                ),
            }),
        })
        .await?;
    tracing::info!(user_id = %user, job_id = %outcome.job.id, job_type = outcome.job.job_type,
                   refunded = outcome.credits_refunded, "job cancel");
    json(StatusCode::OK, &outcome)
}
