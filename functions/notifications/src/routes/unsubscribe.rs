//! `GET/POST /v1/notifications/unsubscribe?token=…`: the link in every email turns that
//! category's email off without a login (POST is the one-click form mail apps use, RFC
//! 8058). The token is the user's word for this one change and nothing else.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::domain::notification::Category;
use shared::domain::{Fields, Invalid, UserId};
use shared::error::AppError;
use shared::http::docs::InvalidInput;
use shared::http::{Query, json};
use shared::repo::notifications;
use utoipa::ToSchema;

use crate::State;

#[derive(Serialize, ToSchema)]
pub struct Unsubscribed {
    pub category: Category,
    /// False for payment emails, which cannot be switched off.
    pub unsubscribed: bool,
    pub message: String,
}

#[utoipa::path(get, path = "/v1/notifications/unsubscribe", tag = "notifications",
    params(("token" = String, Query, description = "The token from the email's unsubscribe link")),
    responses(
        (status = 200, description = "That category's email is off", body = Unsubscribed),
        InvalidInput,
    ))]
pub async fn unsubscribe(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let q = Query::of(req);
    let mut f = Fields::default();
    q.reject_unknown(&mut f, &["token"]);
    let token = q.one(&mut f, "token");
    let named = f.required("token", token).and_then(|t| {
        f.check(
            "token",
            state
                .signer
                .verify(t)
                .ok_or_else(|| Invalid::new("invalid_token", "this unsubscribe link is not valid")),
        )
    });
    f.finish()?;
    let (user, category) = named.expect("checked");
    let done = state
        .ctx
        .db
        .tenant(UserId(user), async |t| {
            notifications::unsubscribe(t, category).await
        })
        .await?;
    tracing::info!(user_id = %user, category = category.as_str(), done, "unsubscribe link used");
    let message = if done {
        format!(
            "You will no longer get {} emails from Adpilot.",
            category.label()
        )
    } else {
        "Payment emails cannot be switched off: they tell you when your ads may stop.".to_owned()
    };
    json(
        StatusCode::OK,
        &Unsubscribed {
            category,
            unsubscribed: done,
            message,
        },
    )
}

#[utoipa::path(post, path = "/v1/notifications/unsubscribe", tag = "notifications",
    params(("token" = String, Query, description = "The token from the email's unsubscribe link")),
    responses(
        (status = 200, description = "That category's email is off (one-click, RFC 8058)", body = Unsubscribed),
        InvalidInput,
    ))]
pub async fn unsubscribe_one_click(
    state: &State,
    req: &Request,
) -> Result<Response<Body>, AppError> {
    unsubscribe(state, req).await
}
