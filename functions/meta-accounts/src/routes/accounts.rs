//! The user's Meta connections and each one's ad accounts.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::api::meta_accounts::{AdAccount, Connection};
use shared::auth::authenticate;
use shared::error::AppError;
use shared::http::docs::{NotAuthenticated, NotFound};
use shared::http::{json, parse_id};
use shared::repo::meta_accounts;
use utoipa::ToSchema;

use crate::State;

#[derive(Serialize, ToSchema)]
pub struct Connections {
    pub items: Vec<Connection>,
}

#[utoipa::path(get, path = "/v1/meta-accounts", operation_id = "list_meta_accounts", tag = "meta", security(("bearer" = [])),
    responses((status = 200, description = "Your Meta connections (never their tokens)", body = Connections), NotAuthenticated))]
pub async fn list(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let items = state
        .ctx
        .db
        .tenant(user, async |t| meta_accounts::list(t).await)
        .await?;
    let items = items.into_iter().map(Connection::from).collect();
    json(StatusCode::OK, &Connections { items })
}

#[derive(Serialize, ToSchema)]
pub struct AdAccounts {
    pub items: Vec<AdAccount>,
}

#[utoipa::path(get, path = "/v1/meta-accounts/{id}/ad-accounts", operation_id = "list_meta_ad_accounts", tag = "meta", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The connection id")),
    responses(
        (status = 200, description = "The ad accounts this connection may use", body = AdAccounts),
        NotAuthenticated,
        NotFound,
    ))]
pub async fn ad_accounts(
    state: &State,
    req: &Request,
    id: &str,
) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let id = parse_id(id)?;
    let items = state
        .ctx
        .db
        .tenant(user, async |t| {
            meta_accounts::get(t, id).await?.ok_or(AppError::NotFound)?;
            meta_accounts::ad_accounts(t, id).await
        })
        .await?;
    let items = items.into_iter().map(AdAccount::from).collect();
    json(StatusCode::OK, &AdAccounts { items })
}
