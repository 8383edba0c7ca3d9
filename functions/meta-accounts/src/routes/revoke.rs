//! `DELETE /v1/meta-accounts/{id}`: disconnecting Meta. Campaigns still running on the
//! connection's ad accounts would keep spending with nobody able to stop them from
//! Adpilot, so the request is refused while any is live, unless `?pause_campaigns=true`,
//! which pauses each on Meta first. Then the grant is revoked at Meta
//! (`DELETE /me/permissions`) and the token erased here.

use lambda_http::{Body, Request, Response};
use shared::auth::authenticate;
use shared::domain::campaign::{CampaignStatus, MetaStatus};
use shared::domain::{CampaignId, Fields, Invalid, UserId};
use shared::error::{AppError, Problem};
use shared::http::docs::{NotAuthenticated, NotFound, UpstreamError};
use shared::http::{Query, no_content, parse_id};
use shared::meta::{ErrorKind, ads};
use shared::repo::campaigns;
use shared::repo::meta_accounts::{self, LiveCampaign};

use crate::State;

fn pause_requested(req: &Request) -> Result<bool, AppError> {
    let q = Query::of(req);
    let mut f = Fields::default();
    q.reject_unknown(&mut f, &["pause_campaigns"]);
    let pause = q.one(&mut f, "pause_campaigns").map(str::to_owned);
    let pause = pause.map_or(Some(false), |p| {
        f.check(
            "pause_campaigns",
            match p.as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(Invalid::new("invalid", "true or false")),
            },
        )
    });
    f.finish()?;
    Ok(pause.unwrap_or(false))
}

fn meta_failed(e: shared::meta::GraphError) -> AppError {
    AppError::Upstream {
        service: "Meta",
        detail: e.message,
    }
}

#[utoipa::path(delete, path = "/v1/meta-accounts/{id}", operation_id = "revoke_meta_account", tag = "meta", security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "The connection id"),
        ("pause_campaigns" = Option<bool>, Query, description = "Pause the campaigns live on its ad accounts on Meta first (default false: refuse while any is live)"),
    ),
    responses(
        (status = 204, description = "Revoked at Meta and here: the token is erased and syncing stops"),
        NotAuthenticated,
        NotFound,
        (status = 409, description = "Campaigns are live on its ad accounts (`campaigns_live`, named in detail): pause them, or ask for ?pause_campaigns=true", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "pause_campaigns is not true or false", body = Problem, content_type = "application/problem+json"),
        UpstreamError,
    ))]
pub async fn revoke(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.ctx.tokens)?;
    let id = parse_id(id)?;
    let pause = pause_requested(req)?;
    let (sealed, live) = state
        .ctx
        .db
        .tenant(user, async |t| meta_accounts::live_campaigns(t, id).await)
        .await?
        .ok_or(AppError::NotFound)?;
    let token = if sealed.is_empty() {
        None
    } else {
        Some(state.cipher.open(&sealed)?)
    };
    if !live.is_empty() {
        if !pause {
            return Err(live_refusal(&live));
        }
        let token = token.as_deref().ok_or_else(|| live_refusal(&live))?;
        pause_all(state, user, token, &live).await?;
    }
    if let Some(token) = &token {
        revoke_at_meta(state, token).await?;
    }
    state
        .ctx
        .db
        .tenant(user, async |t| meta_accounts::revoke(t, id).await)
        .await?;
    tracing::info!(user_id = %user, connection = %id, paused = live.len(), "meta disconnected");
    Ok(no_content())
}

fn live_refusal(live: &[LiveCampaign]) -> AppError {
    let names: Vec<&str> = live.iter().map(|c| c.name.as_str()).collect();
    AppError::Conflict {
        code: "campaigns_live",
        detail: format!(
            "{} campaign(s) still run on this connection's ad accounts ({}); disconnecting would leave \
             them spending with no way to stop them here. Pause them first, or disconnect with \
             ?pause_campaigns=true to pause them on Meta.",
            live.len(),
            names.join(", ")
        ),
    }
}

/// Pauses each live campaign on Meta, then here.
async fn pause_all(
    state: &State,
    user: UserId,
    token: &str,
    live: &[LiveCampaign],
) -> Result<(), AppError> {
    for c in live {
        ads::set_status(&state.graph, token, &c.meta_campaign_id, MetaStatus::Paused)
            .await
            .map_err(meta_failed)?;
        let id = CampaignId(c.id);
        state
            .ctx
            .db
            .tenant(user, async |t| {
                campaigns::set_status(t, id, CampaignStatus::Paused).await
            })
            .await?;
    }
    Ok(())
}

/// Revokes the app's grant at Meta; a token Meta already refuses has nothing to revoke.
async fn revoke_at_meta(state: &State, token: &str) -> Result<(), AppError> {
    match state.graph.delete("me/permissions", token).await {
        Ok(_) => Ok(()),
        Err(e) if e.kind == ErrorKind::TokenInvalid => Ok(()),
        Err(e) => Err(meta_failed(e)),
    }
}
