//! Campaigns on Meta. `POST /v1/campaigns/{id}/launch` creates, in order, the Meta
//! campaign (PAUSED), its ad set (budget in paise, targeting, schedule), for each active
//! campaign asset an image hash or video and an ad creative, and the ads; then it
//! activates them. Every id is saved (and committed) as soon as Meta returns it, so a
//! launch that fails midway resumes on retry instead of duplicating. Pause and resume,
//! and budget changes of a launched campaign, are pushed to Meta first; the local
//! campaign follows Meta's answer.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{NaiveDate, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use shared::auth::authenticate;
use shared::domain::campaign::{CampaignStatus, Objective};
use shared::domain::{CampaignId, UserId};
use shared::error::{AppError, Problem};
use shared::http::docs::{NotAuthenticated, NotJson};
use shared::http::{json, json_body, parse_id};
use shared::meta::{ErrorKind, GraphError};
use shared::repo::campaigns::{self, Campaign, CampaignAsset, CampaignFields};
use shared::repo::{jobs, meta_accounts, outbox, profiles};
use utoipa::ToSchema;

use crate::State;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LaunchInput {
    /// One of your connected ad accounts, `act_<digits>`.
    #[schema(example = "act_1234567890")]
    pub ad_account_id: String,
    /// The Facebook Page the ads run as (default: your first Page).
    pub page_id: Option<String>,
}

/// A launch under way: what the steps need and the progress marker.
struct Launch {
    campaign: Campaign,
    connection: uuid::Uuid,
    assets: Vec<CampaignAsset>,
    act: String,
    token: String,
    /// What the ads link to: the business profile's website.
    link: String,
    progress: Map<String, Value>,
}

fn minor_units(inr: Decimal) -> i64 {
    (inr * Decimal::from(100))
        .round()
        .to_i64()
        .unwrap_or(i64::MAX)
}

/// Meta's ad set optimisation goal for an objective, without a pixel or app configured.
fn optimization_goal(o: Objective) -> &'static str {
    match o {
        Objective::OutcomeAwareness => "REACH",
        Objective::OutcomeEngagement => "POST_ENGAGEMENT",
        _ => "LINK_CLICKS",
    }
}

/// `target_audience` as Meta's targeting spec (interests go into `flexible_spec`).
pub fn targeting(c: &Campaign) -> Value {
    let mut t = c
        .target_audience
        .as_ref()
        .and_then(|a| serde_json::to_value(a).ok())
        .unwrap_or_else(|| json!({}));
    if let Some(interests) = t.as_object_mut().and_then(|o| o.remove("interests")) {
        t["flexible_spec"] = json!([{ "interests": interests }]);
    }
    if t.get("geo_locations").is_none_or(Value::is_null) {
        t["geo_locations"] = json!({"countries": ["IN"]});
    }
    t
}

fn day_start(d: NaiveDate) -> String {
    d.and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .to_rfc3339()
}

/// The ad set's budget and schedule parameters.
pub fn adset_params(c: &Campaign) -> Vec<(&'static str, String)> {
    let mut p = vec![
        ("name", format!("{} — ad set", c.name)),
        ("billing_event", "IMPRESSIONS".into()),
        ("optimization_goal", optimization_goal(c.objective).into()),
        ("bid_strategy", "LOWEST_COST_WITHOUT_CAP".into()),
        ("targeting", targeting(c).to_string()),
        ("status", "PAUSED".into()),
    ];
    let start = c.start_date.unwrap_or_else(|| Utc::now().date_naive());
    p.push(("start_time", day_start(start)));
    if let Some(daily) = c.daily_budget {
        p.push(("daily_budget", minor_units(daily).to_string()));
        if let Some(end) = c.end_date {
            p.push(("end_time", day_start(end + chrono::Duration::days(1))));
        }
    } else if let Some(total) = c.total_budget {
        p.push(("lifetime_budget", minor_units(total).to_string()));
        let end = c.end_date.unwrap_or(start + chrono::Duration::days(29));
        p.push(("end_time", day_start(end + chrono::Duration::days(1))));
    }
    p
}

fn meta_error(e: GraphError) -> AppError {
    match e.kind {
        ErrorKind::RateLimited => AppError::RateLimited {
            code: "meta_rate_limited",
            detail: format!("Meta asks us to slow down: {}", e.message),
            retry_at: Utc::now() + chrono::Duration::minutes(5),
        },
        ErrorKind::TokenInvalid => AppError::Conflict {
            code: "meta_reconnect_required",
            detail: format!(
                "Meta no longer accepts this connection ({}). Connect your account again.",
                e.message
            ),
        },
        _ => AppError::Upstream {
            service: "Meta",
            detail: e.message,
        },
    }
}

#[utoipa::path(post, path = "/v1/campaigns/{id}/launch", operation_id = "launch_campaign", tag = "campaigns",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    request_body = LaunchInput,
    responses(
        (status = 200, description = "Live on Meta: the campaign, now active, with its Meta id", body = Campaign),
        NotJson,
        NotAuthenticated,
        (status = 404, description = "No such campaign of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already launched, not launchable in its status, or the Meta connection needs renewing", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not ready: no budget, no active asset, no website, or not your ad account", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Meta asked us to slow down", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Meta refused a step; its message is in detail; retrying resumes", body = Problem, content_type = "application/problem+json"),
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
    let mut l = prepare(state, user, id, &input).await?;
    let campaign = match run_steps(state, user, id, &mut l, input.page_id.as_deref()).await {
        Ok(()) => {
            let (campaign, message) = state
                .db
                .tenant(user, async |t| {
                    let c = campaigns::set_status(t, id, CampaignStatus::Active).await?;
                    Ok((c, first_sync(t, &l).await?))
                })
                .await?;
            state.relay.send_now(&state.db, user, &[message]).await;
            campaign
        }
        Err(e) => {
            l.progress.insert("last_error".into(), json!(e.message));
            save(state, user, id, &l).await?;
            tracing::warn!(campaign_id = %id, code = e.code, message = e.message, "launch stopped; a retry resumes");
            return Err(meta_error(e));
        }
    };
    tracing::info!(user_id = %user, campaign_id = %id, meta_campaign_id = ?campaign.meta_campaign_id, "launched");
    json(StatusCode::OK, &campaign)
}

/// The outbox topic of the sync worker's queue.
pub const META_SYNC_TOPIC: &str = "meta-sync";

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
        META_SYNC_TOPIC,
        &json!({"job_id": job.id, "user_id": t.user(), "connection_id": l.connection, "ad_account_id": l.act}),
    )
    .await
}

/// Checks the campaign can launch and gathers what the steps need.
async fn prepare(
    state: &State,
    user: UserId,
    id: CampaignId,
    input: &LaunchInput,
) -> Result<Launch, AppError> {
    let (campaign, assets, access, link, existing) = state
        .db
        .tenant(user, async |t| {
            let c = campaigns::get(t, id, true)
                .await?
                .ok_or(AppError::NotFound)?;
            let assets = campaigns::assets(t, id).await?;
            let access = meta_accounts::access_for(t, user.0, &input.ad_account_id).await?;
            let link = profiles::business(t).await?.and_then(|b| b.website_url);
            Ok((c, assets, access, link, campaigns::meta_link(t, id).await?))
        })
        .await?;
    let progress = match existing.launch {
        Some(Value::Object(p))
            if existing.ad_account_id.as_deref() == Some(input.ad_account_id.as_str()) =>
        {
            p
        }
        Some(Value::Object(p)) if p.contains_key("campaign_id") => {
            return Err(AppError::Conflict {
                code: "launched_elsewhere",
                detail: format!(
                    "This campaign's launch began on {}; finish it there.",
                    existing.ad_account_id.unwrap_or_default()
                ),
            });
        }
        _ => Map::new(),
    };
    if progress.get("activated") == Some(&json!(true))
        || matches!(campaign.status, CampaignStatus::Active)
    {
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
        .filter(|a| a.is_active && a.asset.status == "active")
        .collect();
    let not_ready = |field: &'static str, detail: &str| AppError::Unprocessable {
        code: "not_ready_to_launch",
        field,
        detail: detail.to_owned(),
    };
    let Some(access) = access else {
        return Err(not_ready(
            "ad_account_id",
            "not an ad account of an active Meta connection of yours",
        ));
    };
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
    let token = state
        .cipher
        .open(&access.sealed_token)
        .map_err(|e| AppError::Internal(format!("meta token: {e}")))?;
    Ok(Launch {
        campaign,
        connection: access.connection,
        assets,
        act: input.ad_account_id.clone(),
        token,
        link,
        progress,
    })
}

async fn save(state: &State, user: UserId, id: CampaignId, l: &Launch) -> Result<(), AppError> {
    let campaign_id = l.progress.get("campaign_id").and_then(Value::as_str);
    let adset_id = l.progress.get("adset_id").and_then(Value::as_str);
    let launch = Value::Object(l.progress.clone());
    state
        .db
        .tenant(user, async |t| {
            campaigns::save_launch(t, id, &l.act, campaign_id, adset_id, &launch).await
        })
        .await
}

/// Creates whatever is missing, saving after each object; then activates.
async fn run_steps(
    state: &State,
    user: UserId,
    id: CampaignId,
    l: &mut Launch,
    page_id: Option<&str>,
) -> Result<(), GraphError> {
    let g = &state.graph;
    let saved = |e: AppError| GraphError {
        kind: ErrorKind::Transient,
        status: 500,
        code: 0,
        subcode: None,
        message: e.to_string(),
    };
    let c = l.campaign.clone();
    if !l.progress.contains_key("page_id") {
        let page = match page_id {
            Some(p) => p.to_owned(),
            None => {
                let pages = g
                    .get("me/accounts", &l.token, &[("fields", "id,name".into())])
                    .await?;
                pages.body["data"][0]["id"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| GraphError {
                        kind: ErrorKind::Refused,
                        status: 400,
                        code: 0,
                        subcode: None,
                        message: "your Meta account has no Facebook Page to run ads as".into(),
                    })?
            }
        };
        l.progress.insert("page_id".into(), json!(page));
    }
    if !l.progress.contains_key("campaign_id") {
        let made = g
            .post(
                &format!("{}/campaigns", l.act),
                &l.token,
                &[
                    ("name", c.name.clone()),
                    ("objective", c.objective.as_str()),
                    ("status", "PAUSED".into()),
                    ("special_ad_categories", "[]".into()),
                    ("is_adset_budget_sharing_enabled", "false".into()),
                ],
            )
            .await?;
        l.progress
            .insert("campaign_id".into(), made.body["id"].clone());
        save(state, user, id, l).await.map_err(saved)?;
    }
    let meta_campaign = l.progress["campaign_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if !l.progress.contains_key("adset_id") {
        let mut params = adset_params(&c);
        params.push(("campaign_id", meta_campaign.clone()));
        let made = g
            .post(&format!("{}/adsets", l.act), &l.token, &params)
            .await?;
        l.progress
            .insert("adset_id".into(), made.body["id"].clone());
        save(state, user, id, l).await.map_err(saved)?;
    }
    let adset = l.progress["adset_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for a in l.assets.clone() {
        ad_for_asset(state, user, id, l, &a, &adset).await?;
    }
    let mut to_activate = vec![meta_campaign, adset];
    if let Some(ads) = l.progress.get("ads").and_then(Value::as_object) {
        to_activate.extend(
            ads.values()
                .filter_map(|a| a["ad_id"].as_str().map(str::to_owned)),
        );
    }
    for object in to_activate {
        g.post(&object, &l.token, &[("status", "ACTIVE".into())])
            .await?;
    }
    l.progress.insert("activated".into(), json!(true));
    l.progress.remove("last_error");
    save(state, user, id, l).await.map_err(saved)
}

/// Media (image hash or video id), creative and ad for one campaign asset.
async fn ad_for_asset(
    state: &State,
    user: UserId,
    id: CampaignId,
    l: &mut Launch,
    a: &CampaignAsset,
    adset: &str,
) -> Result<(), GraphError> {
    let g = &state.graph;
    let key = a.asset.id.to_string();
    let mut entry = l
        .progress
        .get("ads")
        .and_then(|ads| ads.get(&key))
        .cloned()
        .unwrap_or_else(|| json!({}));
    let failed = |message: String| GraphError {
        kind: ErrorKind::Transient,
        status: 500,
        code: 0,
        subcode: None,
        message,
    };
    let record = |l: &mut Launch, entry: &Value| {
        let ads = l.progress.entry("ads").or_insert_with(|| json!({}));
        ads[key.as_str()] = entry.clone();
    };
    let is_video = a.asset.asset_type == "video";
    if entry.get("image_hash").is_none() && entry.get("video_id").is_none() {
        let s3 = a
            .asset
            .file_url
            .as_deref()
            .and_then(|u| state.storage.key_of(u))
            .map(str::to_owned);
        let s3 = s3.ok_or_else(|| failed(format!("asset {key} has no stored file")))?;
        if is_video {
            let url = state
                .storage
                .presign_get(&s3, None, Duration::from_secs(3600))
                .await
                .map_err(|e| failed(e.to_string()))?;
            let made = g
                .post(
                    &format!("{}/advideos", l.act),
                    &l.token,
                    &[("file_url", url.url), ("name", key.clone())],
                )
                .await?;
            entry["video_id"] = made.body["id"].clone();
        } else {
            let size = state
                .storage
                .size(&s3)
                .await
                .map_err(|e| failed(e.to_string()))?
                .unwrap_or(0);
            let bytes = state
                .storage
                .read_range(&s3, 0, size as u64)
                .await
                .map_err(|e| failed(e.to_string()))?;
            let made = g
                .post(
                    &format!("{}/adimages", l.act),
                    &l.token,
                    &[("bytes", STANDARD.encode(bytes))],
                )
                .await?;
            let hash = made.body["images"]
                .as_object()
                .and_then(|m| m.values().next())
                .map(|i| i["hash"].clone());
            entry["image_hash"] =
                hash.ok_or_else(|| failed("Meta returned no image hash".into()))?;
        }
        record(l, &entry);
        save(state, user, id, l)
            .await
            .map_err(|e| failed(e.to_string()))?;
    }
    if entry.get("creative_id").is_none() {
        let page = l.progress["page_id"].clone();
        let cta = json!({"type": "LEARN_MORE", "value": {"link": l.link}});
        let spec = if is_video {
            json!({"page_id": page, "video_data": {"video_id": entry["video_id"], "message": l.campaign.name,
                                                   "call_to_action": cta}})
        } else {
            json!({"page_id": page, "link_data": {"image_hash": entry["image_hash"], "link": l.link,
                                                  "message": l.campaign.name, "call_to_action": cta}})
        };
        let made = g
            .post(
                &format!("{}/adcreatives", l.act),
                &l.token,
                &[
                    ("name", format!("{} — {key}", l.campaign.name)),
                    ("object_story_spec", spec.to_string()),
                ],
            )
            .await?;
        entry["creative_id"] = made.body["id"].clone();
        record(l, &entry);
        save(state, user, id, l)
            .await
            .map_err(|e| failed(e.to_string()))?;
    }
    if entry.get("ad_id").is_none() {
        let made = g
            .post(
                &format!("{}/ads", l.act),
                &l.token,
                &[
                    ("name", format!("{} — {key}", l.campaign.name)),
                    ("adset_id", adset.to_owned()),
                    (
                        "creative",
                        json!({"creative_id": entry["creative_id"]}).to_string(),
                    ),
                    ("status", "PAUSED".into()),
                ],
            )
            .await?;
        entry["ad_id"] = made.body["id"].clone();
        record(l, &entry);
        save(state, user, id, l)
            .await
            .map_err(|e| failed(e.to_string()))?;
    }
    Ok(())
}

/// The token for a launched campaign's ad account, or why there is none.
async fn launched(
    state: &State,
    user: UserId,
    id: CampaignId,
) -> Result<(Campaign, campaigns::MetaLink, String), AppError> {
    let (c, link, access) = state
        .db
        .tenant(user, async |t| {
            let c = campaigns::get(t, id, false)
                .await?
                .ok_or(AppError::NotFound)?;
            let link = campaigns::meta_link(t, id).await?;
            let access = match &link.ad_account_id {
                Some(act) => meta_accounts::access_for(t, user.0, act).await?,
                None => None,
            };
            Ok((c, link, access))
        })
        .await?;
    if c.meta_campaign_id.is_none()
        || link
            .launch
            .as_ref()
            .is_none_or(|l| l["activated"] != json!(true))
    {
        return Err(AppError::Conflict {
            code: "not_launched",
            detail: "This campaign is not live on Meta yet; launch it first.".into(),
        });
    }
    let access = access.ok_or(AppError::Conflict {
        code: "meta_reconnect_required",
        detail:
            "The Meta connection for this campaign's ad account is gone or expired. Connect again."
                .into(),
    })?;
    let token = state
        .cipher
        .open(&access.sealed_token)
        .map_err(|e| AppError::Internal(format!("meta token: {e}")))?;
    Ok((c, link, token))
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
    let (c, _, token) = launched(state, user, id).await?;
    if !c.status.can_become(to) {
        return Err(AppError::Conflict {
            code: "invalid_status_transition",
            detail: format!(
                "A {} campaign cannot become {}.",
                c.status.as_str(),
                to.as_str()
            ),
        });
    }
    let meta_status = if to == CampaignStatus::Active {
        "ACTIVE"
    } else {
        "PAUSED"
    };
    let answer = state
        .graph
        .post(
            c.meta_campaign_id.as_deref().unwrap_or_default(),
            &token,
            &[("status", meta_status.into())],
        )
        .await
        .map_err(meta_error)?;
    if answer.body["success"] != json!(true) {
        return Err(AppError::Upstream {
            service: "Meta",
            detail: format!("Meta did not confirm the change to {meta_status}"),
        });
    }
    let c = state
        .db
        .tenant(user, async |t| campaigns::set_status(t, id, to).await)
        .await?;
    json(StatusCode::OK, &c)
}

#[utoipa::path(post, path = "/v1/campaigns/{id}/pause", operation_id = "pause_campaign", tag = "campaigns",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "Paused on Meta and here", body = Campaign),
        NotAuthenticated,
        (status = 404, description = "No such campaign of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not launched, or not active", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Meta refused; its message is in detail", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn pause(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    push_status(state, req, id, CampaignStatus::Paused).await
}

#[utoipa::path(post, path = "/v1/campaigns/{id}/resume", operation_id = "resume_campaign", tag = "campaigns",
    security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "Active again on Meta and here", body = Campaign),
        NotAuthenticated,
        (status = 404, description = "No such campaign of yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not launched, or not paused", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Meta refused; its message is in detail", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn resume(state: &State, req: &Request, id: &str) -> Result<Response<Body>, AppError> {
    push_status(state, req, id, CampaignStatus::Active).await
}

/// For PATCH on a launched campaign: pushes a status or budget change to Meta before it
/// is saved here. Nothing to do for a campaign that is not on Meta.
pub async fn push_change(
    state: &State,
    user: UserId,
    id: CampaignId,
    before: &CampaignFields,
    after: &CampaignFields,
) -> Result<(), AppError> {
    let status_changed = before.status != after.status
        && matches!(
            after.status,
            CampaignStatus::Active | CampaignStatus::Paused
        );
    let budget_changed =
        before.daily_budget != after.daily_budget || before.total_budget != after.total_budget;
    if !status_changed && !budget_changed {
        return Ok(());
    }
    let (c, link, token) = match launched(state, user, id).await {
        Err(AppError::Conflict {
            code: "not_launched",
            ..
        }) => return Ok(()),
        other => other?,
    };
    if budget_changed {
        let mut params = Vec::new();
        if let Some(d) = after.daily_budget {
            params.push(("daily_budget", minor_units(d).to_string()));
        } else if let Some(t) = after.total_budget {
            params.push(("lifetime_budget", minor_units(t).to_string()));
        }
        let adset = link.adset_id.unwrap_or_default();
        state
            .graph
            .post(&adset, &token, &params)
            .await
            .map_err(meta_error)?;
    }
    if status_changed {
        let s = if after.status == CampaignStatus::Active {
            "ACTIVE"
        } else {
            "PAUSED"
        };
        let meta_id = c.meta_campaign_id.unwrap_or_default();
        state
            .graph
            .post(&meta_id, &token, &[("status", s.into())])
            .await
            .map_err(meta_error)?;
    }
    Ok(())
}
