//! The caller's own account: read it, change names and phone, delete it (softly:
//! the row stays, every session ends, logins fail from then on).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use shared::api::users::User;
use shared::auth::authenticate;
use shared::domain::{Fields, PersonName, Phone};
use shared::error::AppError;
use shared::http::docs::{InvalidInput, NotAuthenticated, NotJson};
use shared::http::{Patch, json, json_body, no_content};
use shared::repo::users::ProfileChange;
use shared::repo::{refresh_tokens, users};
use utoipa::ToSchema;

use crate::State;

/// An access token for an account that has since been deleted finds nothing.
const GONE: AppError = shared::db::ACCOUNT_INACTIVE;

#[utoipa::path(get, path = "/v1/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "Your account", body = User),
        NotAuthenticated,
    ))]
pub async fn me(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let found = state
        .db
        .tenant(user, async |t| users::find(t).await)
        .await?;
    json(StatusCode::OK, &User::from(found.ok_or(GONE)?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeBody {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    first_name: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    last_name: Patch<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    phone: Patch<String>,
}

fn parse_change(body: MeBody) -> Result<ProfileChange, AppError> {
    let mut f = Fields::default();
    let name = |v: String| PersonName::parse(&v).map(PersonName::into_inner);
    let change = ProfileChange {
        first_name: f
            .check("first_name", body.first_name.try_map(name))
            .unwrap_or_default(),
        last_name: f
            .check("last_name", body.last_name.try_map(name))
            .unwrap_or_default(),
        phone: f
            .check(
                "phone",
                body.phone
                    .try_map(|v| Phone::parse(&v).map(Phone::into_inner)),
            )
            .unwrap_or_default(),
    };
    f.finish()?;
    Ok(change)
}

#[utoipa::path(patch, path = "/v1/me", tag = "auth", security(("bearer" = [])), request_body = MeBody,
    responses(
        (status = 200, description = "Your updated account", body = User),
        NotJson,
        NotAuthenticated,
        InvalidInput,
    ))]
/// `PATCH /v1/me` {first_name?, last_name?, phone?}: absent fields stay, `null` clears.
pub async fn update_me(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let change = parse_change(json_body(req)?)?;
    let updated = state
        .db
        .tenant(user, async |t| users::update_profile(t, change).await)
        .await?;
    json(StatusCode::OK, &User::from(updated.ok_or(GONE)?))
}

#[utoipa::path(delete, path = "/v1/me", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "Account deleted; every session ended"),
        NotAuthenticated,
    ))]
/// `DELETE /v1/me` → 204.
pub async fn delete_me(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let deleted = state
        .db
        .tenant(user, async |t| {
            let deleted = users::soft_delete(t).await?;
            refresh_tokens::revoke_all(t).await?;
            Ok(deleted)
        })
        .await?;
    if !deleted {
        return Err(GONE);
    }
    tracing::info!(user_id = %user, "account deleted");
    Ok(no_content())
}
