//! A campaign on Meta after launch: pause and resume, every status change of `PATCH`
//! (completing or cancelling pauses and archives it there), budgets, name, targeting
//! and end date, a creative's ad paused when it is switched off or detached, and delete
//! (archived on Meta, spend history kept here). Meta changes first; if Meta refuses,
//! nothing changes here and the user learns why. The edges and what each needs on Meta
//! are `CampaignStatus::change`.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::api;
use shared::auth::authenticate;
use shared::domain::campaign::{CampaignStatus, MetaStatus, StatusRefusal};
use shared::domain::money::Currency;
use shared::domain::{CampaignId, UserId};
use shared::error::{AppError, Problem};
use shared::http::docs::{NotAuthenticated, NotFound, UpstreamError};
use shared::http::{json, parse_id};
use shared::meta::ads;
use shared::repo::campaigns::{self, Campaign, CampaignFields, MetaLink};

use super::meta_error;
use super::spec::{budget, day_start, targeting};
use crate::State;

/// A campaign that exists on Meta: its Meta id, what else it has there, and the token
/// to act on it.
pub struct OnMeta {
    pub meta_campaign_id: String,
    pub link: MetaLink,
    pub token: String,
}

impl OnMeta {
    fn meta_id(&self) -> &str {
        &self.meta_campaign_id
    }
}

/// The campaign and, when it exists on Meta, the token for its ad account. A campaign on
/// Meta whose connection is gone is a 409: nothing may change here that Meta would not
/// follow.
pub async fn load(
    state: &State,
    user: UserId,
    id: CampaignId,
) -> Result<(Campaign, Option<OnMeta>), AppError> {
    let (c, link, access) = state
        .db
        .tenant(user, async |t| super::with_access(t, user, id).await)
        .await?;
    let Some(meta_campaign_id) = c.meta_campaign_id.clone() else {
        return Ok((c, None));
    };
    let (_, token) = super::token_of(state, access)?;
    Ok((
        c,
        Some(OnMeta {
            meta_campaign_id,
            link,
            token,
        }),
    ))
}

/// The API's answer to a refused status change.
pub fn refused(from: CampaignStatus, to: CampaignStatus, why: StatusRefusal) -> AppError {
    let (code, detail) = match why {
        StatusRefusal::LaunchRequired => (
            "launch_required",
            format!(
                "A {} campaign becomes active only by launching it: POST /v1/campaigns/{{id}}/launch.",
                from.as_str()
            ),
        ),
        StatusRefusal::NotOnMeta => (
            "not_launched",
            "This campaign is not live on Meta yet; launch it first.".to_owned(),
        ),
        StatusRefusal::NotAllowed => (
            "invalid_status_transition",
            format!(
                "A {} campaign cannot become {}. Allowed: draft → review, launch → active ⇄ paused → completed, or cancelled.",
                from.as_str(),
                to.as_str()
            ),
        ),
    };
    AppError::Conflict { code, detail }
}

/// Sets the Meta campaign through `steps`, in order.
async fn on_meta(state: &State, m: &OnMeta, steps: &[MetaStatus]) -> Result<(), AppError> {
    for step in steps {
        ads::set_status(&state.graph, &m.token, m.meta_id(), *step)
            .await
            .map_err(meta_error)?;
    }
    Ok(())
}

/// Pushes a status to the Meta campaign, then records it locally.
async fn push_status(
    state: &State,
    req: &Request,
    id: &str,
    to: CampaignStatus,
) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let id = CampaignId(parse_id(id)?);
    let c = super::claimed(
        state,
        user,
        id,
        "Another change of this campaign is being made right now; try again in a moment.",
        async |_| {
            let (c, m) = load(state, user, id).await?;
            let Some(m) = m.filter(|m| m.link.activated()) else {
                return Err(AppError::Conflict {
                    code: "not_launched",
                    detail: "This campaign is not live on Meta yet; launch it first.".into(),
                });
            };
            let steps = c
                .status
                .change(to, true)
                .map_err(|why| refused(c.status, to, why))?;
            on_meta(state, &m, steps).await?;
            state
                .db
                .tenant(user, async |t| campaigns::set_status(t, id, to).await)
                .await
        },
    )
    .await?;
    json(StatusCode::OK, &api::campaigns::Campaign::from(c))
}

#[utoipa::path(post, path = "/v1/campaigns/{id}/pause", operation_id = "pause_campaign", tag = "campaigns",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "Paused on Meta and here", body = api::campaigns::Campaign),
        NotAuthenticated,
        NotFound,
        (status = 409, description = "Not launched, or not active", body = Problem, content_type = "application/problem+json"),
        UpstreamError,
    ))]
pub async fn pause(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    push_status(state, req, id, CampaignStatus::Paused).await
}

#[utoipa::path(post, path = "/v1/campaigns/{id}/resume", operation_id = "resume_campaign", tag = "campaigns",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "Active again on Meta and here", body = api::campaigns::Campaign),
        NotAuthenticated,
        NotFound,
        (status = 409, description = "Not launched, or not paused", body = Problem, content_type = "application/problem+json"),
        UpstreamError,
    ))]
pub async fn resume(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    push_status(state, req, id, CampaignStatus::Active).await
}

/// For PATCH: checks the status edge (a campaign on Meta changes there first) and pushes
/// budget changes of a campaign on Meta to its ad set. Nothing goes to Meta for a
/// campaign that is not there.
pub async fn push_change(
    state: &State,
    before: &Campaign,
    m: Option<&OnMeta>,
    after: &CampaignFields,
) -> Result<(), AppError> {
    let steps = if before.status == after.status {
        &[][..]
    } else {
        before
            .status
            .change(after.status, m.is_some())
            .map_err(|why| refused(before.status, after.status, why))?
    };
    let Some(m) = m else { return Ok(()) };
    if after.currency.code() != before.currency {
        return Err(AppError::Conflict {
            code: "currency_locked",
            detail:
                "This campaign exists on Meta; its currency is its ad account's and cannot change."
                    .into(),
        });
    }
    let budget_changed =
        before.daily_budget != after.daily_budget || before.total_budget != after.total_budget;
    if budget_changed && let Some(adset) = &m.link.adset_id {
        let mut shape = before.clone();
        shape.daily_budget = after.daily_budget;
        shape.total_budget = after.total_budget;
        let currency = Currency::parse(&before.currency).unwrap_or(Currency::INR);
        if let Some(b) = budget(&shape, currency) {
            ads::set_budget(&state.graph, &m.token, adset, b)
                .await
                .map_err(meta_error)?;
        }
    }
    push_edits(state, before, m, after).await?;
    on_meta(state, m, steps).await
}

/// Name, targeting and end date of a campaign on Meta, changed there first (names keep
/// their tag, so lookups still find them).
async fn push_edits(
    state: &State,
    before: &Campaign,
    m: &OnMeta,
    after: &CampaignFields,
) -> Result<(), AppError> {
    let key = before.id.to_string();
    let adset = m.link.adset_id.as_deref();
    let mut adset_fields = Vec::new();
    if after.name != before.name {
        ads::update(
            &state.graph,
            &m.token,
            m.meta_id(),
            &[("name", ads::tagged(&after.name, &key))],
        )
        .await
        .map_err(meta_error)?;
        adset_fields.push((
            "name",
            ads::tagged(&format!("{} — ad set", after.name), &format!("{key}:adset")),
        ));
    }
    if after.target_audience != before.target_audience {
        let mut shaped = before.clone();
        shaped.target_audience = after.target_audience.clone();
        adset_fields.push(("targeting", targeting(&shaped).to_string()));
    }
    if after.end_date != before.end_date {
        let Some(end) = after.end_date else {
            return Err(AppError::field(
                "end_date",
                "required",
                "a campaign on Meta can move its end date but not drop it",
            ));
        };
        adset_fields.push(("end_time", day_start(end + chrono::Duration::days(1))));
    }
    if let (Some(adset), false) = (adset, adset_fields.is_empty()) {
        ads::update(&state.graph, &m.token, adset, &adset_fields)
            .await
            .map_err(meta_error)?;
    }
    Ok(())
}

/// For DELETE: a campaign on Meta is archived there first (paused, then archived), so
/// nothing keeps spending once it is gone from the app; its spend history stays.
pub async fn archive_for_delete(
    state: &State,
    c: &Campaign,
    m: Option<&OnMeta>,
) -> Result<(), AppError> {
    let Some(m) = m else { return Ok(()) };
    if matches!(
        c.status,
        CampaignStatus::Completed | CampaignStatus::Cancelled
    ) {
        return Ok(());
    }
    on_meta(state, m, CampaignStatus::DELETE_ON_META).await
}

/// Pauses the Meta ad of a creative switched off or detached (Meta first); nothing to do
/// when the creative has no ad.
pub async fn pause_creative(
    state: &State,
    user: UserId,
    id: CampaignId,
    asset: shared::domain::AssetId,
) -> Result<(), AppError> {
    let (_, m) = load(state, user, id).await?;
    let Some(m) = m else { return Ok(()) };
    let ad = m
        .link
        .launch
        .as_ref()
        .and_then(|p| p.ads.get(&asset.0.to_string()))
        .and_then(|a| a.ad_id.clone());
    if let Some(ad) = ad {
        ads::set_status(&state.graph, &m.token, &ad, MetaStatus::Paused)
            .await
            .map_err(meta_error)?;
    }
    Ok(())
}
