//! The API's OpenAPI 3.1 document, assembled from the annotations on every function's
//! route handlers, and served at `GET /v1/openapi.json`. The function serves
//! `openapi.json`, embedded at build time; a test keeps that file equal to `document()`
//! (`UPDATE_OPENAPI=1 cargo test -p openapi --test document` rewrites it).

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use shared::error::{AppError, FieldError, Problem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Adpilot API",
        license(name = "Proprietary"),
        version = "1.0.0",
        description = "AI marketing automation for small businesses. Errors are application/problem+json \
                       (RFC 9457) with a stable `code`; lists are cursor-paged; money is a decimal string beside its ISO 4217 currency."
    ),
    paths(openapi_document),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth)
)]
struct Root;

/// The document as generated when this binary was built (see `document`).
pub const DOCUMENT: &str = include_str!("../openapi.json");

/// The whole document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Root::openapi();
    for part in [
        auth::Api::openapi(),
        profiles::Api::openapi(),
        assets::Api::openapi(),
        campaigns::Api::openapi(),
        analytics::Api::openapi(),
        generations::Api::openapi(),
        billing::Api::openapi(),
        billing_webhook::Api::openapi(),
        meta_accounts::Api::openapi(),
        meta_webhook::Api::openapi(),
        notifications::Api::openapi(),
        reports::Api::openapi(),
        rules::Api::openapi(),
    ] {
        doc.merge(part);
    }
    doc
}

#[utoipa::path(get, path = "/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "This document", content_type = "application/json", body = Object)))]
pub async fn openapi_document() {}

pub async fn handle(doc: &str, req: Request) -> Response<Body> {
    shared::http::serve(req, async |req| {
        match (req.uri().path(), req.method().clone()) {
            ("/v1/openapi.json", Method::GET) => {
                let mut res = Response::new(Body::Text(doc.to_owned()));
                *res.status_mut() = StatusCode::OK;
                res.headers_mut().insert(
                    "content-type",
                    "application/json".parse().map_err(AppError::internal)?,
                );
                res.headers_mut().insert(
                    "cache-control",
                    "public, max-age=300".parse().map_err(AppError::internal)?,
                );
                Ok(res)
            }
            ("/v1/openapi.json", _) => Err(AppError::MethodNotAllowed),
            _ => Err(AppError::NotFound),
        }
    })
    .await
}
