//! HTTP plumbing shared by the API functions: reading JSON bodies into typed requests
//! (naming the offending field when they don't fit), writing JSON and problem+json
//! responses, and the per-request span carrying the request id.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::AppError;

mod context;
pub mod docs;
mod page;
mod query;
mod route;

pub use crate::domain::patch::Patch;
pub use crate::paging::{Cursor, Page, PageRequest};
pub use context::Context;
pub use page::PageParams;
pub use query::Query;
pub use route::{at, parse_id};

/// The id that ties a response to its log lines: Lambda's request id when running
/// under the Runtime API, otherwise a fresh one.
pub fn request_id(req: &Request) -> String {
    req.lambda_context_ref()
        .map(|c| c.request_id.clone())
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The largest JSON request body an endpoint reads (64 KiB); more is a 413.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// Parses a JSON object body straight into `T` (never into a generic value first), after
/// refusing one over `MAX_JSON_BODY`. Syntax errors are a 400; unknown fields and wrong
/// types are validation errors naming the field.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, AppError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_JSON_BODY {
        return Err(AppError::PayloadTooLarge {
            limit: MAX_JSON_BODY,
        });
    }
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}" as &[u8]
    } else {
        bytes
    };
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(AppError::MalformedBody("expected a JSON object".into()));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        if !e.inner().is_data() {
            return AppError::MalformedBody(e.inner().to_string());
        }
        let inner = e.inner().to_string();
        let path = e.path().to_string();
        // For an unknown top-level field the path is "."; name the field itself.
        let field = match unknown_field(&inner) {
            Some(f) if path == "." => f.to_owned(),
            _ => path,
        };
        AppError::field(field, "invalid", inner)
    })?;
    de.end()
        .map_err(|e| AppError::MalformedBody(e.to_string()))?;
    Ok(parsed)
}

fn unknown_field(message: &str) -> Option<&str> {
    message.strip_prefix("unknown field `")?.split('`').next()
}

/// A JSON response with the given status.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Response<Body>, AppError> {
    let body = serde_json::to_string(value).map_err(AppError::internal)?;
    Ok(with_content_type(
        status,
        Body::Text(body),
        "application/json",
    ))
}

/// An empty 204.
pub fn no_content() -> Response<Body> {
    let mut res = Response::new(Body::Empty);
    *res.status_mut() = StatusCode::NO_CONTENT;
    res
}

/// The problem+json response for an error; internal causes are logged, not sent.
pub fn problem(err: &AppError, request_id: &str) -> Response<Body> {
    if err.status().is_server_error() {
        tracing::error!(request_id, error = %err, "request failed");
    } else {
        tracing::info!(
            request_id,
            code = err.code(),
            status = err.status().as_u16(),
            "request refused"
        );
    }
    let body = serde_json::to_string(&err.problem(request_id)).unwrap_or_else(|_| "{}".into());
    let mut res = with_content_type(err.status(), Body::Text(body), "application/problem+json");
    if let AppError::Unauthenticated { .. } = err {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    let retry_after = match err {
        AppError::RateLimited { retry_at, .. } => {
            Some((*retry_at - chrono::Utc::now()).num_seconds().max(1))
        }
        AppError::Unavailable {
            retry_after_seconds,
            ..
        } => Some(i64::from(*retry_after_seconds)),
        _ => None,
    };
    if let Some(seconds) = retry_after {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    res
}

fn with_content_type(status: StatusCode, body: Body, content_type: &'static str) -> Response<Body> {
    let mut res = Response::new(body);
    *res.status_mut() = status;
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

/// Runs a routed handler and turns its error into problem+json, logging each request
/// once with its id, method, path, status and duration.
pub async fn serve<F>(req: Request, route: F) -> Response<Body>
where
    F: AsyncFnOnce(Request) -> Result<Response<Body>, AppError>,
{
    let request_id = request_id(&req);
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let started = std::time::Instant::now();
    let res = match route(req).await {
        Ok(res) => res,
        Err(err) => problem(&err, &request_id),
    };
    tracing::info!(
        request_id,
        method,
        path,
        status = res.status().as_u16(),
        duration_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    res
}
