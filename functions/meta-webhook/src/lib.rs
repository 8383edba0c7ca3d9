//! `GET /webhooks/meta` answers Meta's subscription check (`hub.challenge`, only with the
//! right `hub.verify_token`); `POST /webhooks/meta` checks `X-Hub-Signature-256`
//! (HMAC-SHA256 of the raw body under the app secret, constant time), stores each
//! change once (keyed by a hash of object, entry, time, field and value), queues the new
//! ones for the sync worker and answers 200 at once.

use chrono::{TimeZone, Utc};
use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::aws::relay::Relay;
use shared::config::{ConfigError, DbConfig, required};
use shared::db::WorkerDb;
use shared::error::{AppError, Problem};
use shared::http::Query;
use shared::repo::meta_events::{self, NewEvent};
use shared::repo::outbox;
use shared::signature::{constant_time_eq, sha256_hex, verify_hmac_sha256_hex};
use utoipa::ToSchema;

use shared::messages::MetaEvent;

pub struct State {
    pub db: WorkerDb,
    pub app_secret: String,
    pub verify_token: String,
    pub relay: Relay,
}

impl State {
    /// `DATABASE_WORKER_URL`, `META_APP_SECRET`, `META_VERIFY_TOKEN`, `QUEUE_URL_META_EVENTS`.
    pub async fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            db: WorkerDb::connect(&DbConfig::worker_from_env()?)?,
            app_secret: required("META_APP_SECRET")?,
            verify_token: required("META_VERIFY_TOKEN")?,
            relay: Relay::from_env(),
        })
    }
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    shared::http::serve(req, async |req| route(state, req).await).await
}

async fn route(state: &State, req: Request) -> Result<Response<Body>, AppError> {
    match (req.uri().path().trim_end_matches('/'), req.method().clone()) {
        ("/webhooks/meta", Method::GET) => challenge(state, &req),
        ("/webhooks/meta", Method::POST) => receive(state, &req).await,
        ("/webhooks/meta", _) => Err(AppError::MethodNotAllowed),
        _ => Err(AppError::NotFound),
    }
}

const WRONG_VERIFY_TOKEN: AppError = AppError::Unauthenticated {
    code: "verify_token_mismatch",
    detail: "hub.verify_token does not match this app's verify token.",
};

#[utoipa::path(get, path = "/webhooks/meta", operation_id = "meta_webhook_challenge", tag = "webhooks",
    params(
        ("hub.mode" = String, Query, description = "subscribe"),
        ("hub.verify_token" = String, Query, description = "The verify token set on the Meta app"),
        ("hub.challenge" = String, Query, description = "Echoed back when the token matches"),
    ),
    responses(
        (status = 200, description = "The challenge, as text", content_type = "text/plain", body = String),
        (status = 401, description = "Wrong verify token", body = Problem, content_type = "application/problem+json"),
    ))]
pub fn challenge(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let q = Query::of(req);
    let (mode, token, challenge) = (
        q.first("hub.mode"),
        q.first("hub.verify_token"),
        q.first("hub.challenge"),
    );
    let matches =
        token.is_some_and(|t| constant_time_eq(t.as_bytes(), state.verify_token.as_bytes()));
    if mode != Some("subscribe") || !matches {
        return Err(WRONG_VERIFY_TOKEN);
    }
    let mut res = Response::new(Body::Text(challenge.unwrap_or_default().to_owned()));
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(res)
}

const BAD_SIGNATURE: AppError = AppError::Unauthenticated {
    code: "invalid_signature",
    detail: "X-Hub-Signature-256 is missing or does not match the body.",
};

#[derive(Debug, Deserialize)]
struct Delivery {
    object: String,
    entry: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    id: String,
    time: i64,
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Debug, Deserialize)]
struct Change {
    field: String,
    #[serde(default)]
    value: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Received {
    /// Changes in the delivery.
    pub received: usize,
    /// Changes not seen before, now queued.
    pub new: usize,
}

#[utoipa::path(post, path = "/webhooks/meta", operation_id = "receive_meta_webhook", tag = "webhooks",
    request_body(content = Object, description = "A Meta webhook delivery: {object, entry: [{id, time, changes: [{field, value}]}]}"),
    params(("x-hub-signature-256" = String, Header, description = "sha256=<hex HMAC-SHA256 of the raw body under the app secret>")),
    responses(
        (status = 200, description = "Stored (once) and queued", body = Received),
        (status = 400, description = "Signed, but not a webhook delivery", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Signature missing or wrong; nothing stored", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn receive(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let body: &[u8] = req.body().as_ref();
    let signature = req
        .headers()
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("sha256="))
        .ok_or(BAD_SIGNATURE)?;
    if !verify_hmac_sha256_hex(state.app_secret.as_bytes(), body, signature) {
        return Err(BAD_SIGNATURE);
    }
    let delivery: Delivery = serde_json::from_slice(body)
        .map_err(|e| AppError::MalformedBody(format!("not a Meta webhook delivery: {e}")))?;
    let changes: Vec<(&Entry, &Change)> = delivery
        .entry
        .iter()
        .flat_map(|e| e.changes.iter().map(move |c| (e, c)))
        .collect();
    let queued = state
        .db
        .run("meta-webhook", async |w| {
            let mut queued = Vec::new();
            for (entry, change) in &changes {
                let key = sha256_hex(
                    format!(
                        "{}|{}|{}|{}|{}",
                        delivery.object, entry.id, entry.time, change.field, change.value
                    )
                    .as_bytes(),
                );
                let stored = meta_events::store(
                    w,
                    &NewEvent {
                        dedupe_key: &key,
                        object: &delivery.object,
                        entry_id: &entry.id,
                        field: &change.field,
                        value: &change.value,
                        event_time: Utc
                            .timestamp_opt(entry.time, 0)
                            .single()
                            .unwrap_or_else(Utc::now),
                    },
                )
                .await?;
                if let Some(id) = stored {
                    queued.push(
                        outbox::enqueue_system(
                            w,
                            &MetaEvent {
                                webhook_event_id: id,
                            },
                        )
                        .await?,
                    );
                }
            }
            Ok(queued)
        })
        .await?;
    state.relay.send_now_system(&state.db, &queued).await;
    tracing::info!(
        object = delivery.object,
        received = changes.len(),
        new = queued.len(),
        "meta webhook"
    );
    shared::http::json(
        StatusCode::OK,
        &Received {
            received: changes.len(),
            new: queued.len(),
        },
    )
}

/// This function's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(challenge, receive))]
pub struct Api;
