//! The in-app feed: `GET /v1/notifications` (paged, newest first, `unread=true` for the
//! unread only, with the unread count), `POST /v1/notifications/{id}/read` and
//! `POST /v1/notifications/read-all`.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::api::notifications::Notification;
use shared::auth::authenticate;
use shared::domain::{Fields, Invalid};
use shared::error::AppError;
use shared::http::PageParams;
use shared::http::docs::{InvalidInput, NotAuthenticated, NotFound};
use shared::http::{Page, PageRequest, Query, json, no_content, parse_id};
use shared::repo::notifications;
use utoipa::ToSchema;

use crate::State;

#[derive(Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
    pub unread_count: i64,
}

#[derive(Serialize, ToSchema)]
pub struct MarkedRead {
    /// How many were unread.
    pub marked: u64,
}

#[utoipa::path(get, path = "/v1/notifications", tag = "notifications", security(("bearer" = [])),
    params(
        ("unread" = Option<bool>, Query, description = "true: only the unread"),
        PageParams,
    ),
    responses(
        (status = 200, description = "Your notifications, newest first, and how many are unread", body = NotificationPage),
        NotAuthenticated,
        InvalidInput,
    ))]
pub async fn list(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let q = Query::of(req);
    let mut f = Fields::default();
    q.reject_unknown(&mut f, &["unread", "limit", "cursor"]);
    let page = PageRequest::from_query(&q, &mut f);
    let unread = q.one(&mut f, "unread").and_then(|v| {
        f.check(
            "unread",
            match v {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(Invalid::new("invalid", "true or false")),
            },
        )
    });
    f.finish()?;
    let (rows, unread_count) = state
        .ctx
        .db
        .tenant(user, async |t| {
            Ok((
                notifications::list(t, unread.unwrap_or(false), &page).await?,
                notifications::unread_count(t).await?,
            ))
        })
        .await?;
    let page = Page::from_rows(rows, &page, notifications::Notification::cursor)
        .map_into::<Notification>();
    json(
        StatusCode::OK,
        &NotificationPage {
            items: page.items,
            next_cursor: page.next_cursor,
            unread_count,
        },
    )
}

#[utoipa::path(post, path = "/v1/notifications/{id}/read", tag = "notifications", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "The notification")),
    responses(
        (status = 204, description = "Read (again, harmlessly)"),
        NotAuthenticated,
        NotFound,
    ))]
pub async fn read(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let id = parse_id(id)?;
    let found = state
        .ctx
        .db
        .tenant(user, async |t| notifications::mark_read(t, id).await)
        .await?;
    if !found {
        return Err(AppError::NotFound);
    }
    Ok(no_content())
}

#[utoipa::path(post, path = "/v1/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every notification read", body = MarkedRead),
        NotAuthenticated,
    ))]
pub async fn read_all(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let marked = state
        .ctx
        .db
        .tenant(user, async |t| notifications::mark_all_read(t).await)
        .await?;
    json(StatusCode::OK, &MarkedRead { marked })
}
