//! Campaign routes. Another user's campaign is a 404, like one that does not exist.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::api::campaigns::Campaign;
use shared::auth::authenticate;
use shared::domain::campaign::{CampaignStatus, Purpose};
use shared::domain::{CampaignId, Fields, Invalid};
use shared::error::{AppError, Problem};
use shared::http::PageParams;
use shared::http::docs::{InvalidInput, NotAuthenticated, NotFound, NotJson, UpstreamError};
use shared::http::{Page, PageRequest, Query, json, json_body, no_content, parse_id};
use shared::repo::campaigns;

use crate::State;
use crate::input::{CampaignChange, NewCampaign};
use crate::meta::lifecycle;

#[utoipa::path(post, path = "/v1/campaigns", operation_id = "create_campaign", tag = "campaigns", security(("bearer" = [])),
    request_body = NewCampaign,
    responses(
        (status = 201, description = "The new draft campaign", body = Campaign),
        NotJson,
        NotAuthenticated,
        InvalidInput,
    ))]
pub async fn create(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let fields = json_body::<NewCampaign>(req)?.validate()?;
    let campaign = state
        .db
        .tenant(user, async |t| campaigns::create(t, &fields).await)
        .await?;
    tracing::info!(user_id = %user, campaign_id = %campaign.id, "campaign created");
    let location = format!("/v1/campaigns/{}", campaign.id);
    let mut res = json(StatusCode::CREATED, &Campaign::from(campaign))?;
    res.headers_mut()
        .insert("location", location.parse().map_err(AppError::internal)?);
    Ok(res)
}

#[utoipa::path(get, path = "/v1/campaigns", operation_id = "list_campaigns", tag = "campaigns", security(("bearer" = [])),
    params(
        ("status" = Option<CampaignStatus>, Query, description = "Only campaigns in this status"),
        ("purpose" = Option<Purpose>, Query, description = "Only campaigns with this purpose"),
        PageParams,
    ),
    responses(
        (status = 200, description = "A page of campaigns, newest first", body = Page<Campaign>),
        NotAuthenticated,
        InvalidInput,
    ))]
pub async fn list(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let q = Query::of(req);
    let mut f = Fields::default();
    q.reject_unknown(&mut f, &["status", "purpose", "limit", "cursor"]);
    let status = q.one(&mut f, "status").map(str::to_owned);
    let status = status.and_then(|s| {
        f.check(
            "status",
            CampaignStatus::parse(&s).ok_or(Invalid::new("invalid", "not a campaign status")),
        )
    });
    let purpose = q.one(&mut f, "purpose").map(str::to_owned);
    let purpose = purpose.and_then(|p| {
        f.check(
            "purpose",
            Purpose::parse(&p).ok_or(Invalid::new("invalid", "not a campaign purpose")),
        )
    });
    let page = PageRequest::from_query(&q, &mut f);
    f.finish()?;
    let rows = state
        .db
        .tenant(user, async |t| {
            campaigns::list(t, status, purpose, &page).await
        })
        .await?;
    json(
        StatusCode::OK,
        &Page::from_rows(rows, &page, campaigns::Campaign::cursor).map_into::<Campaign>(),
    )
}

#[utoipa::path(get, path = "/v1/campaigns/{id}", operation_id = "get_campaign", tag = "campaigns", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The campaign (its version in the ETag header, for If-Match)", body = Campaign),
        NotAuthenticated,
        NotFound,
    ))]
pub async fn get(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let id = CampaignId(parse_id(id)?);
    let found = state
        .db
        .tenant(user, async |t| campaigns::get(t, id, false).await)
        .await?
        .ok_or(AppError::NotFound)?;
    with_etag(found)
}

#[utoipa::path(patch, path = "/v1/campaigns/{id}", operation_id = "update_campaign", tag = "campaigns", security(("bearer" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Campaign id"),
        ("If-Match" = Option<String>, Header, description = "The ETag the change is based on: refused with 412 if the campaign changed since"),
    ),
    request_body = CampaignChange,
    responses(
        (status = 200, description = "The changed campaign (its new version in the ETag header)", body = Campaign),
        (status = 412, description = "The campaign changed since it was read (If-Match, or a concurrent edit); nothing was written", body = Problem, content_type = "application/problem+json"),
        NotJson,
        NotAuthenticated,
        NotFound,
        (status = 409, description = "Status change not allowed from the current status (an unlaunched campaign becomes active only by launching), a launched campaign's currency, or the Meta connection needs renewing", body = Problem, content_type = "application/problem+json"),
        InvalidInput,
        UpstreamError,
    ))]
pub async fn update(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let id = CampaignId(parse_id(id)?);
    let change: CampaignChange = json_body(req)?;
    let if_match = if_match(req);
    let updated = crate::meta::claimed(
        state,
        user,
        id,
        "Another change of this campaign is being made right now; read it again and retry.",
        async |_| {
            let (before, on_meta) = lifecycle::load(state, user, id).await?;
            if if_match.as_ref().is_some_and(|m| *m != before.etag()) {
                return Err(AppError::PreconditionFailed {
                    code: "stale_version",
                    detail: format!(
                        "If-Match names a version this campaign no longer has (it is {}); read it again.",
                        before.etag()
                    ),
                });
            }
            let after = change.apply(before.fields())?;
            // A campaign on Meta changes there first (status, budget, name, …); then here.
            lifecycle::push_change(state, &before, on_meta.as_ref(), &after).await?;
            let updated = state
                .db
                .tenant(user, async |t| {
                    campaigns::update(t, id, before.version, &after).await
                })
                .await?;
            Ok((before, on_meta.is_none(), updated))
        },
    )
    .await;
    let (before, not_on_meta, mut updated) = updated?;
    // A draft's reach follows its targeting and budget (best effort: Meta may be away).
    let reach_changed = before.target_audience != updated.target_audience
        || before.daily_budget != updated.daily_budget
        || before.total_budget != updated.total_budget
        || before.objective != updated.objective;
    if reach_changed && not_on_meta {
        crate::meta::estimate::refresh_quietly(state, user, &updated).await;
        if let Some(c) = state
            .db
            .tenant(user, async |t| campaigns::get(t, id, false).await)
            .await?
        {
            updated = c;
        }
    }
    with_etag(updated)
}

/// The If-Match header's ETag, if sent.
fn if_match(req: &Request) -> Option<String> {
    req.headers()
        .get("if-match")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_start_matches("W/").to_owned())
}

/// The campaign, with its version as the ETag.
fn with_etag(c: campaigns::Campaign) -> Result<Response<Body>, AppError> {
    let etag = c.etag();
    let mut res = json(StatusCode::OK, &Campaign::from(c))?;
    res.headers_mut()
        .insert("etag", etag.parse().map_err(AppError::internal)?);
    Ok(res)
}

#[utoipa::path(delete, path = "/v1/campaigns/{id}", operation_id = "delete_campaign", tag = "campaigns", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    responses(
        (status = 204, description = "Deleted (softly: hidden from lists; on Meta it is archived first, its spend history kept)"),
        NotAuthenticated,
        NotFound,
        (status = 409, description = "The campaign is active: pause or cancel it first", body = Problem, content_type = "application/problem+json"),
        UpstreamError,
    ))]
pub async fn delete(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let id = CampaignId(parse_id(id)?);
    crate::meta::claimed(
        state,
        user,
        id,
        "Another change of this campaign is being made right now; try again in a moment.",
        async |_| {
            let (current, on_meta) = lifecycle::load(state, user, id).await?;
            if current.status == CampaignStatus::Active {
                return Err(AppError::Conflict {
                    code: "campaign_active",
                    detail: "An active campaign cannot be deleted; pause or cancel it first."
                        .into(),
                });
            }
            lifecycle::archive_for_delete(state, &current, on_meta.as_ref()).await?;
            state
                .db
                .tenant(user, async |t| campaigns::soft_delete(t, id).await)
                .await
        },
    )
    .await?;
    Ok(no_content())
}
