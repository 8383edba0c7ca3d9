//! Connecting Meta: `GET /v1/meta/connect` gives the Facebook Login dialog URL with a
//! signed, expiring `state`; the web app posts `{code, state}` back to
//! `POST /v1/meta/callback` with the user's bearer token. The state must be the caller's
//! own and unused; the code is exchanged for a long-lived token, the permissions checked,
//! the ad accounts read and the connection stored with its token sealed.

use chrono::{DateTime, Duration, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use shared::api::meta_accounts as api;
use shared::auth::authenticate;
use shared::domain::{Fields, Invalid, UserId};
use shared::error::{AppError, Problem};
use shared::http::docs::NotJson;
use shared::http::docs::{NotAuthenticated, UpstreamError};
use shared::http::{json, json_body};
use shared::meta::graph::SCOPES;
use shared::meta::{GraphError, oauth_state};
use shared::repo::meta_accounts::{self, AdAccount, Connected, Connection};
use utoipa::ToSchema;

use crate::State;

#[derive(Serialize, ToSchema)]
pub struct ConnectLink {
    /// Send the user here; Facebook returns them to the callback.
    pub authorization_url: String,
    /// The permissions asked for.
    pub scopes: Vec<&'static str>,
    /// The link stops working after this.
    pub expires_at: DateTime<Utc>,
}

#[utoipa::path(get, path = "/v1/meta/connect", operation_id = "connect_meta", tag = "meta", security(("bearer" = [])),
    responses(
        (status = 200, description = "The Facebook Login dialog URL, with a signed state bound to you", body = ConnectLink),
        NotAuthenticated,
    ))]
pub fn connect(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let (st, expires_at) = oauth_state::issue(&state.state_secret, user, Utc::now());
    json(
        StatusCode::OK,
        &ConnectLink {
            authorization_url: state.graph.dialog_url(&state.redirect_uri, &st),
            scopes: SCOPES.to_vec(),
            expires_at,
        },
    )
}

#[derive(Serialize, ToSchema)]
pub struct Connected_ {
    pub connection: api::Connection,
    pub ad_accounts: Vec<api::AdAccount>,
}

pub(crate) fn meta_refused(e: GraphError) -> AppError {
    tracing::warn!(
        code = e.code,
        status = e.status,
        message = e.message,
        "Meta refused the login"
    );
    AppError::Upstream {
        service: "Meta",
        detail: e.message,
    }
}

/// `POST /v1/meta/callback`: what Facebook put on the redirect, posted by the signed-in
/// user who started the login.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallbackInput {
    /// From Facebook, when the user agreed.
    pub code: Option<String>,
    /// The state from `/v1/meta/connect`, as Facebook returned it.
    pub state: Option<String>,
    /// From Facebook, when the user declined.
    pub error: Option<String>,
    /// Why, from Facebook.
    pub error_description: Option<String>,
}

#[utoipa::path(post, path = "/v1/meta/callback", operation_id = "meta_login_callback", tag = "meta",
    security(("bearer" = [])),
    request_body = CallbackInput,
    responses(
        (status = 200, description = "Connected: the connection and its ad accounts", body = Connected_),
        NotJson,
        NotAuthenticated,
        (status = 422, description = "Login declined; missing, invalid, expired, already used or another user's state; missing code; or a permission not granted", body = Problem, content_type = "application/problem+json"),
        UpstreamError,
    ))]
pub async fn callback(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let caller = authenticate(req, &state.ctx.tokens)?;
    let input: CallbackInput = json_body(req)?;
    if let Some(error) = &input.error {
        return Err(AppError::Unprocessable {
            code: "meta_login_declined",
            field: "error",
            detail: format!(
                "Facebook Login did not finish ({error}): {}. Connect again and choose Continue.",
                input
                    .error_description
                    .as_deref()
                    .unwrap_or("the request was declined")
            ),
        });
    }
    let (st, code) = required_fields(&input)?;
    let verified = verified_state(state, st)?;
    if verified.user != caller {
        tracing::warn!(user_id = %caller, "a connect link of another user was completed; nothing linked");
        return Err(AppError::field(
            "state",
            "not_yours",
            "this connect link was started from another Adpilot account; start connecting from your own",
        ));
    }
    let hash = oauth_state::state_hash(st);
    let fresh = state
        .ctx
        .db
        .tenant(caller, async |t| {
            meta_accounts::consume_state(t, &hash, verified.expires).await
        })
        .await?;
    if !fresh {
        return Err(AppError::field(
            "state",
            "used",
            "this connect link was already used; connect again",
        ));
    }
    let (connection, ad_accounts) = link(state, caller, code).await?;
    tracing::info!(user_id = %caller, connection = %connection.id, ad_accounts = ad_accounts.len(), "meta connected");
    json(
        StatusCode::OK,
        &Connected_ {
            connection: connection.into(),
            ad_accounts: ad_accounts.into_iter().map(api::AdAccount::from).collect(),
        },
    )
}

fn required_fields(input: &CallbackInput) -> Result<(&str, &str), AppError> {
    let mut f = Fields::default();
    let st = f.required("state", input.state.as_deref().filter(|s| !s.is_empty()));
    let code = f.required("code", input.code.as_deref().filter(|c| !c.is_empty()));
    f.finish()?;
    Ok((st.expect("checked"), code.expect("checked")))
}

/// Exchanges the code and stores the connection of `user` with its ad accounts.
async fn link(
    state: &State,
    user: UserId,
    code: &str,
) -> Result<(Connection, Vec<AdAccount>), AppError> {
    let short = state
        .graph
        .exchange_code(code, &state.redirect_uri)
        .await
        .map_err(meta_refused)?;
    let long = state
        .graph
        .long_lived(&short.access_token)
        .await
        .map_err(meta_refused)?;
    let token = long.access_token;
    let me = state
        .graph
        .get("me", &token, &[("fields", "id,name".into())])
        .await
        .map_err(meta_refused)?;
    let granted = granted_permissions(state, &token).await?;
    let missing: Vec<&str> = SCOPES
        .iter()
        .copied()
        .filter(|s| !granted.iter().any(|g| g == s))
        .collect();
    if !missing.is_empty() {
        return Err(AppError::Unprocessable {
            code: "permissions_missing",
            field: "permissions",
            detail: format!(
                "Adpilot needs {} to run your ads. Connect again and allow {}.",
                SCOPES.join(", "),
                missing.join(", ")
            ),
        });
    }
    let accounts = ad_accounts_of(state, &token).await?;
    let expires = long.expires_in.map(|s| Utc::now() + Duration::seconds(s));
    let meta_user_id = me.body["id"].as_str().unwrap_or_default().to_owned();
    let sealed = state
        .cipher
        .seal(&token, &meta_accounts::token_binding(user.0, &meta_user_id));
    state
        .ctx
        .db
        .tenant(user, async |t| {
            let id = meta_accounts::connect(
                t,
                &Connected {
                    meta_user_id: &meta_user_id,
                    meta_user_name: me.body["name"].as_str(),
                    sealed_token: &sealed,
                    token_expires_at: expires,
                    granted: &granted,
                    ad_accounts: &accounts,
                },
            )
            .await?;
            let connection = meta_accounts::get(t, id).await?.ok_or(AppError::NotFound)?;
            Ok((connection, meta_accounts::ad_accounts(t, id).await?))
        })
        .await
}

fn verified_state(state: &State, st: &str) -> Result<oauth_state::Verified, AppError> {
    oauth_state::verify(&state.state_secret, st, Utc::now()).map_err(|e| {
        let why = match e {
            oauth_state::StateError::Expired => {
                Invalid::new("expired", "the login took too long; connect again")
            }
            oauth_state::StateError::Invalid => {
                Invalid::new("invalid", "not a state this API issued")
            }
        };
        AppError::field("state", why.code, why.message)
    })
}

async fn granted_permissions(state: &State, token: &str) -> Result<Vec<String>, AppError> {
    let perms = state
        .graph
        .get("me/permissions", token, &[])
        .await
        .map_err(meta_refused)?;
    Ok(perms.body["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|p| p["status"] == "granted")
                .filter_map(|p| p["permission"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// Every page of `/me/adaccounts`.
async fn ad_accounts_of(state: &State, token: &str) -> Result<Vec<AdAccount>, AppError> {
    let mut out = Vec::new();
    let mut next = Some("me/adaccounts".to_owned());
    let mut params = vec![
        (
            "fields",
            "account_id,name,account_status,currency,timezone_name,timezone_offset_hours_utc"
                .to_owned(),
        ),
        ("limit", "100".to_owned()),
    ];
    while let Some(path) = next.take() {
        let page = state
            .graph
            .get(&path, token, &params)
            .await
            .map_err(meta_refused)?;
        for a in page.body["data"].as_array().into_iter().flatten() {
            let id = a["id"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| a["account_id"].as_str().map(|n| format!("act_{n}")));
            let Some(ad_account_id) = id else { continue };
            out.push(AdAccount {
                ad_account_id,
                name: a["name"].as_str().map(str::to_owned),
                account_status: a["account_status"].as_i64().unwrap_or(0) as i32,
                currency: a["currency"].as_str().unwrap_or("INR").to_owned(),
                timezone_name: a["timezone_name"].as_str().map(str::to_owned),
                timezone_offset_hours: a["timezone_offset_hours_utc"]
                    .as_f64()
                    .and_then(rust_decimal::Decimal::from_f64_retain)
                    .map(|d| d.round_dp(2)),
                sync_enabled: true,
                last_sync_at: None,
                optimizer_budget_cap: None,
            });
        }
        next = page.body["paging"]["next"].as_str().map(str::to_owned);
        params.clear(); // the next URL carries the query
    }
    Ok(out)
}
