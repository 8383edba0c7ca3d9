//! `POST /v1/generations`: checks the daily limit and spends credits, creates the asset
//! (processing), the job and the queue message in one transaction
//! (`shared::repo::generations::start`), then relays the message at once (the
//! maintenance relay is the safety net).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use shared::auth::authenticate;
use shared::domain::asset::{AssetType, Format};
use shared::domain::{Fields, Invalid, text};
use shared::error::{AppError, Problem};
use shared::http::docs::{InvalidInput, NotAuthenticated, NotJson};
use shared::http::{json, json_body};
use shared::repo::generations::{self, NewGeneration};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::State;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerationInput {
    /// image or video.
    #[serde(rename = "type")]
    #[schema(example = "image")]
    pub kind: Option<String>,
    /// What to make, up to 2,000 characters.
    #[schema(example = "A steaming bowl of biryani on a brass plate, top view, warm light")]
    pub prompt: Option<String>,
    /// 1:1, 4:5, 9:16 or 16:9 (video: 16:9 or 9:16).
    #[schema(example = "1:1")]
    pub format: Option<String>,
    /// A style hint, e.g. "photorealistic" or "flat illustration".
    pub style: Option<String>,
    /// Use the brand profile's palette, voice and guidelines (default false).
    #[serde(default)]
    pub use_brand: bool,
}

/// A generation, validated.
struct Request_ {
    kind: AssetType,
    prompt: String,
    format: Format,
    style: Option<String>,
    use_brand: bool,
}

fn kind(raw: &str) -> Result<AssetType, Invalid> {
    match raw {
        "image" => Ok(AssetType::Image),
        "video" => Ok(AssetType::Video),
        _ => Err(Invalid::new("invalid", "must be image or video")),
    }
}

fn validate(input: GenerationInput) -> Result<Request_, AppError> {
    let mut f = Fields::default();
    let kind = f
        .required("type", input.kind)
        .and_then(|k| f.check("type", kind(&k)));
    let prompt = f
        .required("prompt", input.prompt)
        .and_then(|p| f.check("prompt", text(&p, 2000)));
    let format = f
        .required("format", input.format)
        .and_then(|x| f.check("format", Format::parse(&x)));
    let style = input.style.and_then(|s| f.check("style", text(&s, 100)));
    if let (Some(AssetType::Video), Some(format @ (Format::Square | Format::Portrait))) =
        (kind, format)
    {
        f.check::<()>(
            "format",
            Err(Invalid::new(
                "unsupported_for_video",
                format!(
                    "videos are made in 16:9 or 9:16 only, not {}",
                    format.as_str()
                ),
            )),
        );
    }
    f.finish()?;
    Ok(Request_ {
        kind: kind.expect("checked"),
        prompt: prompt.expect("checked"),
        format: format.expect("checked"),
        style,
        use_brand: input.use_brand,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GenerationAccepted {
    /// The asset being made; `processing` until the job finishes.
    pub asset_id: Uuid,
    /// Follow it at `/v1/jobs/{job_id}`.
    pub job_id: Uuid,
    pub credits_spent: i32,
    pub credits_remaining: i32,
}

#[utoipa::path(post, path = "/v1/generations", tag = "generations", security(("bearer" = [])),
    request_body = GenerationInput,
    responses(
        (status = 202, description = "Credits spent; the asset is being generated", body = GenerationAccepted),
        NotAuthenticated,
        NotJson,
        InvalidInput,
        (status = 402, description = "Not enough credits (credits_remaining says how many are left)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Daily limit for this model reached (retry_at says when it lifts)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn generate(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let input = validate(json_body(req)?)?;
    let started = state
        .ctx
        .db
        .tenant(user, async |t| {
            generations::start(
                t,
                &NewGeneration {
                    kind: input.kind,
                    format: input.format,
                    prompt: &input.prompt,
                    style: input.style.as_deref(),
                    use_brand: input.use_brand,
                },
            )
            .await
        })
        .await?;
    let (accepted, message) = (
        GenerationAccepted {
            asset_id: started.asset_id,
            job_id: started.job_id,
            credits_spent: started.credits_spent,
            credits_remaining: started.credits_remaining,
        },
        started.outbox_id,
    );
    tracing::info!(user_id = %user, job_id = %accepted.job_id, asset_id = %accepted.asset_id,
        kind = input.kind.as_str(), "generation queued");
    state.relay.send_now(&state.ctx.db, user, &[message]).await;
    let mut res = json(StatusCode::ACCEPTED, &accepted)?;
    if let Ok(v) = format!("/v1/jobs/{}", accepted.job_id).parse() {
        res.headers_mut().insert("location", v);
    }
    Ok(res)
}
