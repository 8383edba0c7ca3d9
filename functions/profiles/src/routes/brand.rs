//! `GET/PUT /v1/brand-profile`: the brand kit as typed JSON; a 404 until it has been PUT
//! or analysed. A `website_url` must pass the fetcher's rules (no private addresses).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::api::profiles::BrandProfile;
use shared::auth::authenticate;
use shared::domain::profile::BrandProfileInput;
use shared::error::AppError;
use shared::http::docs::{InvalidInput, NotAuthenticated, NotFound, NotJson};
use shared::http::{json, json_body};
use shared::repo::profiles;
use shared::webfetch::{AllowHosts, website};

use crate::State;

#[utoipa::path(get, path = "/v1/brand-profile", tag = "profiles", security(("bearer" = [])),
    responses(
        (status = 200, description = "The brand profile", body = BrandProfile),
        NotAuthenticated,
        NotFound,
    ))]
pub async fn get_brand(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let found = state
        .ctx
        .db
        .tenant(user, async |t| profiles::brand(t).await)
        .await?;
    json(
        StatusCode::OK,
        &BrandProfile::from(found.ok_or(AppError::NotFound)?),
    )
}

#[utoipa::path(put, path = "/v1/brand-profile", tag = "profiles", security(("bearer" = [])),
    request_body = BrandProfileInput,
    responses(
        (status = 200, description = "The saved brand profile", body = BrandProfile),
        NotJson,
        NotAuthenticated,
        InvalidInput,
    ))]
pub async fn put_brand(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let input = json_body::<BrandProfileInput>(req)?.validate()?;
    if let Some(url) = &input.website_url {
        website::check("website_url", url, &AllowHosts::from_env()).await?;
    }
    let saved = state
        .ctx
        .db
        .tenant(user, async |t| profiles::put_brand(t, &input).await)
        .await?;
    json(StatusCode::OK, &BrandProfile::from(saved))
}
