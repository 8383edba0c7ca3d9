//! `GET/PUT /v1/notification-preferences`: each category's channels. A PUT names only
//! the categories it changes; payment emails cannot be switched off (422 naming the field).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use shared::api::notifications::Preference;
use shared::auth::authenticate;
use shared::domain::notification::Category;
use shared::domain::{Fields, Invalid};
use shared::error::AppError;
use shared::http::docs::{InvalidInput, NotAuthenticated, NotJson};
use shared::http::{json, json_body};
use shared::repo::notifications;
use utoipa::ToSchema;

use crate::State;

#[derive(Serialize, ToSchema)]
pub struct Preferences {
    pub preferences: Vec<Preference>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferenceChange {
    pub category: Category,
    /// Unchanged when absent.
    pub in_app: Option<bool>,
    /// Unchanged when absent; `payment` cannot be false.
    pub email: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesInput {
    #[schema(max_items = 8)]
    pub preferences: Vec<PreferenceChange>,
}

#[utoipa::path(get, path = "/v1/notification-preferences", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every category's channels", body = Preferences),
        NotAuthenticated,
    ))]
pub async fn get(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let preferences = state
        .ctx
        .db
        .tenant(user, async |t| notifications::preferences(t).await)
        .await?;
    let preferences = preferences.into_iter().map(Preference::from).collect();
    json(StatusCode::OK, &Preferences { preferences })
}

#[utoipa::path(put, path = "/v1/notification-preferences", tag = "notifications", security(("bearer" = [])),
    request_body = PreferencesInput,
    responses(
        (status = 200, description = "Every category's channels after the change", body = Preferences),
        NotJson,
        NotAuthenticated,
        InvalidInput,
    ))]
pub async fn put(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let input: PreferencesInput = json_body(req)?;
    let mut f = Fields::default();
    if input.preferences.len() > Category::ALL.len() {
        f.check::<()>(
            "preferences",
            Err(Invalid::new("too_many", "at most one entry per category")),
        );
    }
    for (i, p) in input.preferences.iter().enumerate() {
        if p.category.email_required() && p.email == Some(false) {
            f.check::<()>(
                &format!("preferences[{i}].email"),
                Err(Invalid::new(
                    "required_channel",
                    "payment problems are always emailed: they can stop your ads",
                )),
            );
        }
        if input.preferences[..i]
            .iter()
            .any(|q| q.category == p.category)
        {
            f.check::<()>(
                &format!("preferences[{i}].category"),
                Err(Invalid::new("duplicate", "each category at most once")),
            );
        }
    }
    f.finish()?;
    let preferences = state
        .ctx
        .db
        .tenant(user, async |t| {
            let now = notifications::preferences(t).await?;
            for p in &input.preferences {
                let was = now
                    .iter()
                    .find(|n| n.category == p.category)
                    .expect("every category");
                notifications::set_preference(
                    t,
                    user.0,
                    p.category,
                    p.in_app.unwrap_or(was.in_app),
                    p.email.unwrap_or(was.email),
                )
                .await?;
            }
            notifications::preferences(t).await
        })
        .await?;
    let preferences = preferences.into_iter().map(Preference::from).collect();
    json(StatusCode::OK, &Preferences { preferences })
}
