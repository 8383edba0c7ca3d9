//! `POST /v1/campaigns/{id}/launch`: one launch at a time per campaign (an atomic claim
//! with an expiry; a second caller gets 409 with the launch's progress), the campaign's
//! money checked against the ad account (same currency, at least Meta's minimum daily
//! budget, sent in the currency's minor units), then on Meta, in order: the campaign
//! (PAUSED), its ad set, for each active campaign asset its image or video, creative and
//! ad, and finally everything switched on. Every object is found by its tag before it
//! is created and saved as soon as Meta returns it, so neither a retry nor a crash
//! between Meta's answer and our commit makes a second one.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::api;
use shared::auth::authenticate;
use shared::domain::asset::AssetStatus;
use shared::domain::campaign::{CampaignStatus, Objective};
use shared::domain::money::Currency;
use shared::domain::{CampaignId, UserId};
use shared::error::{AppError, Problem};
use shared::http::docs::{NotAuthenticated, NotFound, NotJson, UpstreamError};
use shared::http::{json, json_body, parse_id};
use shared::meta::GraphError;
use shared::meta::ads::{
    self, AdAccount, AdSetSpec, AdSpec, Budget, CampaignSpec, CreativeSpec, Media,
    MinimumBudgetClass,
};
use shared::repo::campaigns::{self, AdProgress, Campaign, CampaignAsset, LaunchProgress};
use shared::repo::{jobs, meta_accounts, outbox, profiles};
use utoipa::ToSchema;
use uuid::Uuid;

use super::spec::{
    budget, day_start, optimization_goal, pixel_event, promoted_object, schedule, targeting,
};
use super::{MetaParts, meta_error};
use crate::State;
use shared::messages::MetaSync;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LaunchInput {
    /// One of your connected ad accounts, `act_<digits>`.
    #[schema(example = "act_1234567890")]
    pub ad_account_id: String,
    /// The Facebook Page the ads run as (default: your first Page).
    pub page_id: Option<String>,
}

/// A launch under way: what the steps need and how far it got.
struct Launch {
    id: CampaignId,
    user: UserId,
    claim: Uuid,
    campaign: Campaign,
    currency: Currency,
    connection: Uuid,
    assets: Vec<CampaignAsset>,
    act: String,
    token: String,
    /// What the ads link to: the business profile's website.
    link: String,
    /// The ad account's pixel, if one was chosen before.
    pixel_id: Option<String>,
    /// What the ad set promotes (pixel event or app), found before anything is made.
    promoted: Option<Value>,
    progress: LaunchProgress,
}

/// Why the steps stopped.
enum Stop {
    Meta(GraphError),
    App(AppError),
}

impl From<GraphError> for Stop {
    fn from(e: GraphError) -> Self {
        Self::Meta(e)
    }
}

impl From<AppError> for Stop {
    fn from(e: AppError) -> Self {
        Self::App(e)
    }
}

impl From<Stop> for AppError {
    fn from(s: Stop) -> Self {
        match s {
            Stop::Meta(e) => meta_error(e),
            Stop::App(e) => e,
        }
    }
}

/// What the objective needs on Meta (`promoted_object`), found or refused with a 422
/// naming what is missing. A pixel is chosen once per ad account and remembered.
async fn promotion(state: &State, l: &Launch) -> Result<Option<Value>, Stop> {
    let o = l.campaign.objective;
    if o == Objective::OutcomeAppPromotion {
        return promoted_object(&l.campaign, None).map(Some).ok_or_else(|| {
            Stop::App(AppError::Unprocessable {
                code: "app_required",
                field: "promoted_app",
                detail: "an app-installs campaign needs the app: set promoted_app {application_id, object_store_url}"
                    .into(),
            })
        });
    }
    let Some(event) = pixel_event(o) else {
        return Ok(None);
    };
    let pixel = match &l.pixel_id {
        Some(p) => p.clone(),
        None => {
            let found = account(state, l).first_pixel().await?.ok_or_else(|| {
                Stop::App(AppError::Unprocessable {
                    code: "pixel_required",
                    field: "pixel",
                    detail: format!(
                        "ad account {} has no Meta pixel, so {} cannot be optimised for {}. Install a pixel \
                         on your website, or choose the OUTCOME_TRAFFIC objective.",
                        l.act,
                        o.as_str(),
                        event.to_lowercase()
                    ),
                })
            })?;
            let (act, pixel) = (l.act.clone(), found.clone());
            state
                .db
                .tenant(l.user, async |t| {
                    meta_accounts::set_pixel(t, &act, &pixel).await
                })
                .await?;
            found
        }
    };
    Ok(promoted_object(&l.campaign, Some(&pixel)))
}

#[utoipa::path(post, path = "/v1/campaigns/{id}/launch", operation_id = "launch_campaign", tag = "campaigns",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    request_body = LaunchInput,
    responses(
        (status = 200, description = "Live on Meta: the campaign, now active, with its Meta id", body = api::campaigns::Campaign),
        NotJson,
        NotAuthenticated,
        NotFound,
        (status = 409, description = "Already launched, being launched by another request (`launch_in_progress`, with `progress` and `retry_at`), not launchable in its status, or the Meta connection needs renewing", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not ready: no budget, a budget below Meta's minimum, a currency other than the ad account's, no active asset, no website, or not your ad account", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Meta asked us to slow down", body = Problem, content_type = "application/problem+json"),
        UpstreamError,
    ))]
pub async fn launch(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    let user = authenticate(req, &state.tokens)?;
    let id = CampaignId(parse_id(id)?);
    let input = json_body::<LaunchInput>(req);
    // Another user's campaign is a 404 whatever the body says.
    state
        .db
        .tenant(user, async |t| campaigns::get(t, id, false).await)
        .await?
        .ok_or(AppError::NotFound)?;
    let input = input?;
    let campaign = super::claimed(
        state,
        user,
        id,
        "Another request is launching this campaign right now; nothing was done twice. \
         Look at the campaign again after retry_at.",
        async |claim| launch_claimed(state, user, id, claim, &input).await,
    )
    .await?;
    tracing::info!(user_id = %user, campaign_id = %id, meta_campaign_id = ?campaign.meta_campaign_id, "launched");
    json(StatusCode::OK, &api::campaigns::Campaign::from(campaign))
}

/// The launch itself, while `claim` is held.
async fn launch_claimed(
    state: &State,
    user: UserId,
    id: CampaignId,
    claim: Uuid,
    input: &LaunchInput,
) -> Result<Campaign, AppError> {
    let mut l = prepare(state, user, id, claim, input).await?;
    if l.progress.campaign_id.is_none() {
        // With the token and pixel this launch already holds (best effort, like an edit's).
        let estimated = super::estimate::refresh_on(
            state,
            user,
            &l.campaign,
            &account(state, &l),
            l.pixel_id.as_deref(),
        )
        .await;
        super::estimate::logged(&l.campaign, estimated);
    }
    let ready = match check_minimum_budget(state, &l).await {
        Ok(()) if l.progress.adset_id.is_none() => {
            promotion(state, &l).await.map(|p| l.promoted = p)
        }
        other => other,
    };
    let stopped = match ready {
        Ok(()) => run_steps(state, &mut l, input.page_id.as_deref()).await,
        Err(e) => Err(e),
    };
    match stopped {
        Ok(()) => {}
        Err(Stop::App(e)) => return Err(e),
        Err(Stop::Meta(e)) => {
            l.progress.last_error = Some(e.message.clone());
            save(state, &l).await?;
            tracing::warn!(campaign_id = %id, code = e.code, message = e.message, "launch stopped; a retry resumes");
            return Err(meta_error(e));
        }
    }
    let (campaign, message) = state
        .db
        .tenant(user, async |t| {
            let c = campaigns::launched(t, id).await?;
            Ok((c, first_sync(t, &l).await?))
        })
        .await?;
    state.relay.send_now(&state.db, user, &[message]).await;
    Ok(campaign)
}

/// Queues an insights sync of the ad account right after launch, so performance starts
/// filling without waiting for the hourly schedule.
async fn first_sync(t: &shared::db::Tenant<'_>, l: &Launch) -> Result<i64, AppError> {
    let job = jobs::create(
        t,
        "meta_sync",
        &json!({"ad_account_id": l.act, "connection_id": l.connection, "reason": "launch"}),
    )
    .await?;
    outbox::enqueue(
        t,
        &MetaSync {
            job_id: job.id,
            user_id: t.user().0,
            connection_id: l.connection,
            ad_account_id: l.act.clone(),
        },
    )
    .await
}

fn not_ready(field: &'static str, detail: impl Into<String>) -> AppError {
    AppError::Unprocessable {
        code: "not_ready_to_launch",
        field,
        detail: detail.into(),
    }
}

/// Checks the campaign can launch and gathers what the steps need.
async fn prepare(
    state: &State,
    user: UserId,
    id: CampaignId,
    claim: Uuid,
    input: &LaunchInput,
) -> Result<Launch, AppError> {
    let (campaign, assets, access, link, existing) = state
        .db
        .tenant(user, async |t| {
            let c = campaigns::get(t, id, false)
                .await?
                .ok_or(AppError::NotFound)?;
            let assets = campaigns::assets(t, id).await?;
            let access = meta_accounts::access_for(t, user.0, &input.ad_account_id).await?;
            let link = profiles::business(t).await?.and_then(|b| b.website_url);
            Ok((c, assets, access, link, campaigns::meta_link(t, id).await?))
        })
        .await?;
    let same_account = existing.ad_account_id.as_deref() == Some(input.ad_account_id.as_str());
    let progress = match existing.launch {
        Some(p) if same_account => p,
        Some(p) if p.campaign_id.is_some() => {
            return Err(AppError::Conflict {
                code: "launched_elsewhere",
                detail: format!(
                    "This campaign's launch began on {}; finish it there.",
                    existing.ad_account_id.unwrap_or_default()
                ),
            });
        }
        _ => LaunchProgress::default(),
    };
    if progress.activated || campaign.status == CampaignStatus::Active {
        return Err(AppError::Conflict {
            code: "already_launched",
            detail: "This campaign is already live on Meta; pause or resume it instead.".into(),
        });
    }
    if !matches!(
        campaign.status,
        CampaignStatus::Draft | CampaignStatus::Review
    ) {
        return Err(AppError::Conflict {
            code: "not_launchable",
            detail: format!(
                "A {} campaign cannot be launched.",
                campaign.status.as_str()
            ),
        });
    }
    let assets: Vec<CampaignAsset> = assets
        .into_iter()
        .filter(|a| a.is_active && a.asset.status == AssetStatus::Active)
        .collect();
    let Some(access) = access else {
        return Err(not_ready(
            "ad_account_id",
            "not an ad account of an active Meta connection of yours",
        ));
    };
    let currency = Currency::parse(&access.currency).map_err(|e| {
        not_ready(
            "ad_account_id",
            format!("the ad account bills in {}: {}", access.currency, e.message),
        )
    })?;
    if campaign.currency != currency.code() {
        return Err(AppError::Unprocessable {
            code: "currency_mismatch",
            field: "currency",
            detail: format!(
                "This campaign's budgets are in {} but ad account {} bills in {}. Set the campaign's \
                 currency and budgets in {} (PATCH), or launch on an ad account that bills in {}.",
                campaign.currency,
                input.ad_account_id,
                currency.code(),
                currency.code(),
                campaign.currency
            ),
        });
    }
    if assets.is_empty() {
        return Err(not_ready(
            "assets",
            "attach at least one active image or video first",
        ));
    }
    let Some(link) = link else {
        return Err(not_ready(
            "website_url",
            "set your business profile's website_url: the ads link to it",
        ));
    };
    if campaign.daily_budget.is_none() && campaign.total_budget.is_none() {
        return Err(not_ready("daily_budget", "set a daily or total budget"));
    }
    let (access, token) = super::token_of(state, Some(access))?;
    Ok(Launch {
        id,
        user,
        claim,
        campaign,
        currency,
        connection: access.connection,
        assets,
        act: input.ad_account_id.clone(),
        token,
        link,
        pixel_id: access.pixel_id,
        promoted: None,
        progress,
    })
}

/// Refuses a budget below Meta's minimum daily budget for this account and goal (a
/// lifetime budget must cover the minimum on every day it runs). Asked only before the
/// ad set exists.
async fn check_minimum_budget(state: &State, l: &Launch) -> Result<(), Stop> {
    if l.progress.adset_id.is_some() {
        return Ok(());
    }
    let class = MinimumBudgetClass::for_goal(optimization_goal(l.campaign.objective));
    let Some(min) = account(state, l)
        .minimum_daily_budget(class, l.currency.code())
        .await?
    else {
        return Ok(());
    };
    let min_amount = l.currency.from_minor(min);
    let refuse = |field: &'static str, detail: String| {
        Stop::App(AppError::Unprocessable {
            code: "budget_below_minimum",
            field,
            detail,
        })
    };
    match budget(&l.campaign, l.currency) {
        Some(Budget::Daily(d)) if d < min => Err(refuse(
            "daily_budget",
            format!(
                "Meta's minimum daily budget on {} for this objective is {min_amount} {}.",
                l.act, l.currency
            ),
        )),
        Some(Budget::Lifetime(total)) => {
            let (start, end) = schedule(&l.campaign);
            let days = end.map_or(30, |e| (e - start).num_days() + 1).max(1);
            if total < min * days {
                return Err(refuse(
                    "total_budget",
                    format!(
                        "Meta needs at least {min_amount} {} a day on {}: {} {} for {days} days.",
                        l.currency,
                        l.act,
                        l.currency.from_minor(min * days),
                        l.currency
                    ),
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn account<'a>(state: &'a impl MetaParts, l: &'a Launch) -> AdAccount<'a> {
    AdAccount {
        graph: state.graph(),
        token: &l.token,
        act: &l.act,
    }
}

/// Commits the progress; stops the launch when its claim was lost to another.
async fn save(state: &impl MetaParts, l: &Launch) -> Result<(), AppError> {
    let kept = state
        .db()
        .tenant(l.user, async |t| {
            campaigns::save_launch(t, l.id, l.claim, &l.act, &l.progress).await
        })
        .await?;
    if kept {
        Ok(())
    } else {
        Err(AppError::Conflict {
            code: "launch_in_progress",
            detail: "This launch took too long and another request took it over.".into(),
        })
    }
}

/// Creates whatever is missing, saving after each object; then activates.
async fn run_steps(state: &State, l: &mut Launch, page_id: Option<&str>) -> Result<(), Stop> {
    let key = l.id.0.to_string();
    if l.progress.page_id.is_none() {
        let page = match page_id {
            Some(p) => p.to_owned(),
            None => ads::first_page(&state.graph, &l.token).await?,
        };
        l.progress.page_id = Some(page);
    }
    if l.progress.campaign_id.is_none() {
        let objective = l.campaign.objective.as_str();
        let made = account(state, l)
            .campaign(&CampaignSpec {
                key: &key,
                name: &l.campaign.name,
                objective: &objective,
            })
            .await?;
        l.progress.campaign_id = Some(made);
        save(state, l).await?;
    }
    let meta_campaign = l.progress.campaign_id.clone().unwrap_or_default();
    if l.progress.adset_id.is_none() {
        let (start, end) = schedule(&l.campaign);
        let budget = budget(&l.campaign, l.currency)
            .ok_or_else(|| Stop::App(not_ready("daily_budget", "set a daily or total budget")))?;
        let made = account(state, l)
            .adset(&AdSetSpec {
                key: &format!("{key}:adset"),
                name: &format!("{} — ad set", l.campaign.name),
                campaign_id: &meta_campaign,
                optimization_goal: optimization_goal(l.campaign.objective),
                targeting: &targeting(&l.campaign),
                budget,
                start_time: day_start(start),
                end_time: end.map(|e| day_start(e + chrono::Duration::days(1))),
                promoted_object: l.promoted.clone(),
            })
            .await?;
        l.progress.adset_id = Some(made);
        save(state, l).await?;
    }
    let adset = l.progress.adset_id.clone().unwrap_or_default();
    for a in l.assets.clone() {
        ad_for_asset(state, l, &a, &adset).await?;
    }
    let mut to_activate = l.progress.ad_ids();
    to_activate.extend([adset, meta_campaign]);
    for object in to_activate {
        ads::set_status(
            &state.graph,
            &l.token,
            &object,
            shared::domain::campaign::MetaStatus::Active,
        )
        .await?;
    }
    l.progress.activated = true;
    l.progress.last_error = None;
    save(state, l).await?;
    Ok(())
}

/// A creative attached (or switched back on) after launch: its ad is made on Meta if it
/// has none (under the launch claim, found by its tag first like every launch object),
/// and delivers when the campaign is active. Unchanged when the campaign is not live.
pub async fn add_creative(
    state: &impl MetaParts,
    user: UserId,
    id: CampaignId,
    asset: shared::domain::AssetId,
) -> Result<(), AppError> {
    let live = state
        .db()
        .tenant(user, async |t| campaigns::meta_link(t, id).await)
        .await?
        .activated();
    if !live {
        return Ok(());
    }
    super::claimed(
        state,
        user,
        id,
        "The campaign's ads are being changed on Meta right now; try again after retry_at.",
        async |claim| add_claimed(state, user, id, claim, asset).await,
    )
    .await
}

async fn add_claimed(
    state: &impl MetaParts,
    user: UserId,
    id: CampaignId,
    claim: Uuid,
    asset: shared::domain::AssetId,
) -> Result<(), AppError> {
    let (campaign, link, access, website, this) = state
        .db()
        .tenant(user, async |t| {
            let (c, link, access) = super::with_access(t, user, id).await?;
            let website = profiles::business(t).await?.and_then(|b| b.website_url);
            Ok((
                c,
                link,
                access,
                website,
                campaigns::asset(t, id, asset).await?,
            ))
        })
        .await?;
    let (Some(progress), Some(act), Some(this)) = (link.launch, link.ad_account_id, this) else {
        return Ok(());
    };
    if !progress.activated || !this.is_active {
        return Ok(());
    }
    let (access, token) = super::token_of(state, access)?;
    let mut l = Launch {
        id,
        user,
        claim,
        currency: Currency::parse(&campaign.currency).unwrap_or(Currency::INR),
        campaign,
        connection: access.connection,
        assets: vec![this.clone()],
        act,
        token,
        link: website.unwrap_or_default(),
        pixel_id: access.pixel_id,
        promoted: None,
        progress,
    };
    let adset = l.progress.adset_id.clone().unwrap_or_default();
    ad_for_asset(state, &mut l, &this, &adset).await?;
    if l.campaign.status == CampaignStatus::Active {
        let ad = l.progress.ads[&this.asset.id.to_string()]
            .ad_id
            .clone()
            .unwrap_or_default();
        ads::set_status(
            state.graph(),
            &l.token,
            &ad,
            shared::domain::campaign::MetaStatus::Active,
        )
        .await
        .map_err(meta_error)?;
    }
    Ok(())
}

fn no_file(key: &str) -> Stop {
    Stop::App(AppError::Internal(format!(
        "asset {key} has no stored file"
    )))
}

/// Media (image hash or video id), creative and ad for one campaign asset.
async fn ad_for_asset(
    state: &impl MetaParts,
    l: &mut Launch,
    a: &CampaignAsset,
    adset: &str,
) -> Result<(), Stop> {
    let asset = a.asset.id.to_string();
    let key = format!("{}:{asset}", l.id.0);
    let mut entry: AdProgress = l.progress.ads.get(&asset).cloned().unwrap_or_default();
    let is_video = a.asset.asset_type == "video";
    if entry.image_hash.is_none() && entry.video_id.is_none() {
        let s3 = a
            .asset
            .file_url
            .as_deref()
            .and_then(|u| state.storage().key_of(u))
            .map(str::to_owned)
            .ok_or_else(|| no_file(&asset))?;
        if is_video {
            let url = state
                .storage()
                .presign_get(&s3, None, Duration::from_secs(3600))
                .await
                .map_err(AppError::internal)?;
            entry.video_id = Some(account(state, l).video(&key, url.url).await?);
        } else {
            let size = state
                .storage()
                .size(&s3)
                .await
                .map_err(AppError::internal)?
                .ok_or_else(|| no_file(&asset))?;
            let bytes = state
                .storage()
                .read_range(&s3, 0, size as u64)
                .await
                .map_err(AppError::internal)?;
            entry.image_hash = Some(account(state, l).image(STANDARD.encode(bytes)).await?);
        }
        l.progress.ads.insert(asset.clone(), entry.clone());
        save(state, l).await?;
    }
    if let (Some(video), None) = (&entry.video_id, &entry.thumbnail_url) {
        // Meta makes a video's thumbnails while it processes it; until then, a retry
        // resumes here.
        let thumb = account(state, l)
            .video_thumbnail(video)
            .await?
            .ok_or_else(|| {
                Stop::Meta(GraphError {
                    kind: shared::meta::ErrorKind::Transient,
                    status: 200,
                    code: 0,
                    subcode: None,
                    message: "Meta is still processing the video; launch again in a minute".into(),
                })
            })?;
        entry.thumbnail_url = Some(thumb);
        l.progress.ads.insert(asset.clone(), entry.clone());
        save(state, l).await?;
    }
    if entry.creative_id.is_none() {
        let page = l.progress.page_id.clone().unwrap_or_default();
        let media = match (&entry.video_id, &entry.image_hash) {
            (Some(id), _) => Media::Video {
                id,
                thumbnail: entry.thumbnail_url.as_deref().unwrap_or_default(),
            },
            (None, Some(hash)) => Media::Image { hash },
            (None, None) => return Err(no_file(&asset)),
        };
        let made = account(state, l)
            .creative(&CreativeSpec {
                key: &key,
                name: &l.campaign.name,
                page_id: &page,
                media,
                link: &l.link,
                message: &l.campaign.name,
            })
            .await?;
        entry.creative_id = Some(made);
        l.progress.ads.insert(asset.clone(), entry.clone());
        save(state, l).await?;
    }
    if entry.ad_id.is_none() {
        let made = account(state, l)
            .ad(&AdSpec {
                key: &key,
                name: &l.campaign.name,
                adset_id: adset,
                creative_id: entry.creative_id.as_deref().unwrap_or_default(),
            })
            .await?;
        entry.ad_id = Some(made);
        l.progress.ads.insert(asset, entry);
        save(state, l).await?;
    }
    Ok(())
}
