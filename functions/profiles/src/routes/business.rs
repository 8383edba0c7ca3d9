//! `GET/PUT /v1/business-profile`: the business, whole; a 404 until it has been PUT.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::api::profiles::BusinessProfile;
use shared::auth::authenticate;
use shared::domain::profile::BusinessProfileInput;
use shared::error::AppError;
use shared::http::docs::{InvalidInput, NotAuthenticated, NotFound, NotJson};
use shared::http::{json, json_body};
use shared::repo::profiles;

use crate::State;

const NO_BUSINESS_PROFILE: AppError = AppError::NotFound;

#[utoipa::path(get, path = "/v1/business-profile", tag = "profiles", security(("bearer" = [])),
    responses(
        (status = 200, description = "The business profile", body = BusinessProfile),
        NotAuthenticated,
        NotFound,
    ))]
pub async fn get_business(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let found = state
        .ctx
        .db
        .tenant(user, async |t| profiles::business(t).await)
        .await?;
    json(
        StatusCode::OK,
        &BusinessProfile::from(found.ok_or(NO_BUSINESS_PROFILE)?),
    )
}

#[utoipa::path(put, path = "/v1/business-profile", tag = "profiles", security(("bearer" = [])),
    request_body = BusinessProfileInput,
    responses(
        (status = 200, description = "The saved profile", body = BusinessProfile),
        NotJson,
        NotAuthenticated,
        InvalidInput,
    ))]
pub async fn put_business(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let input = json_body::<BusinessProfileInput>(req)?.validate()?;
    let saved = state
        .ctx
        .db
        .tenant(user, async |t| profiles::put_business(t, &input).await)
        .await?;
    json(StatusCode::OK, &BusinessProfile::from(saved))
}
