//! AI generation over HTTP. For now: `GET /v1/jobs/{id}`, the status of a user's own
//! background job (brand analysis today; image and video generation next).

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use shared::auth::authenticate;
use shared::domain::JobId;
use shared::error::{AppError, Problem};
use shared::http::docs::NotAuthenticated;
use shared::http::{at, json, parse_id};
use shared::repo::jobs::{self, Job};

/// The pool and token verifier, built once per cold start.
pub type State = shared::http::Context;

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    shared::http::serve(req, async |req| route(state, req).await).await
}

async fn route(state: &State, req: Request) -> Result<Response<Body>, AppError> {
    let path = req.uri().path().to_owned();
    if let Some([id]) = at("/v1/jobs/{}", &path) {
        return match *req.method() {
            Method::GET => get_job(state, &req, id).await,
            _ => Err(AppError::MethodNotAllowed),
        };
    }
    Err(AppError::NotFound)
}

#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The job id")),
    responses(
        (status = 200, description = "The job's status, progress, result or error", body = Job),
        NotAuthenticated,
        (status = 404, description = "No such job of yours", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_job(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let id = JobId(parse_id(id)?);
    let job = state
        .db
        .tenant(user, async |t| jobs::get(t, id).await)
        .await?;
    json(StatusCode::OK, &job.ok_or(AppError::NotFound)?)
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(get_job))]
pub struct Api;
