//! `PATCH /v1/meta-accounts/{id}/ad-accounts/{ad_account_id}`: the owner's ceiling on an
//! ad account's daily budgets together (`optimizer_budget_cap`), in the account's
//! currency, which no optimizer budget step crosses; `null` lifts it.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use shared::api::meta_accounts::AdAccount;
use shared::auth::authenticate;
use shared::domain::money::Currency;
use shared::domain::patch::Patch;
use shared::domain::{Fields, Invalid};
use shared::error::AppError;
use shared::http::docs::{InvalidInput, NotAuthenticated, NotFound, NotJson};
use shared::http::{json, json_body, parse_id};
use shared::repo::meta_accounts;
use utoipa::ToSchema;

use crate::State;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdAccountBody {
    /// The most the account's live campaigns may spend a day together once the
    /// optimizer has stepped a budget, like "5000.00"; `null` lifts the ceiling.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "5000.00")]
    optimizer_budget_cap: Patch<String>,
}

/// The cap the body sets, checked against the account's currency.
fn parse_cap(
    body: AdAccountBody,
    currency: &str,
) -> Result<Option<rust_decimal::Decimal>, AppError> {
    let mut f = Fields::default();
    let field = "optimizer_budget_cap";
    let cap = match body.optimizer_budget_cap {
        Patch::Absent => f
            .check::<()>(
                field,
                Err(Invalid::new(
                    "required",
                    "give an amount, or null to lift the ceiling",
                )),
            )
            .map(|_| None),
        Patch::Null => Some(None),
        Patch::Value(raw) => f
            .check(
                field,
                Currency::parse(currency)
                    .unwrap_or(Currency::INR)
                    .amount(&raw),
            )
            .map(Some),
    };
    f.finish()?;
    Ok(cap.flatten())
}

#[utoipa::path(patch, path = "/v1/meta-accounts/{id}/ad-accounts/{ad_account_id}", operation_id = "update_meta_ad_account",
    tag = "meta", security(("bearer" = [])), request_body = AdAccountBody,
    params(("id" = uuid::Uuid, Path, description = "The connection id"),
           ("ad_account_id" = String, Path, description = "The ad account, act_<digits>")),
    responses(
        (status = 200, description = "The ad account with its new ceiling", body = AdAccount),
        NotJson,
        NotAuthenticated,
        NotFound,
        InvalidInput,
    ))]
pub async fn update(
    state: &State,
    req: &Request,
    id: &str,
    ad_account_id: &str,
) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let id = parse_id(id)?;
    let body: AdAccountBody = json_body(req)?;
    let updated = state
        .ctx
        .db
        .tenant(user, async |t| {
            let account = meta_accounts::ad_account_for_update(t, id, ad_account_id)
                .await?
                .ok_or(AppError::NotFound)?;
            let cap = parse_cap(body, &account.currency)?;
            meta_accounts::set_budget_cap(t, id, ad_account_id, cap)
                .await?
                .ok_or(AppError::NotFound)
        })
        .await?;
    tracing::info!(user_id = %user, ad_account_id, cap = ?updated.optimizer_budget_cap, "optimizer budget cap set");
    json(StatusCode::OK, &AdAccount::from(updated))
}
