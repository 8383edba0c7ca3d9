//! `campaigns` and `campaign_assets`: a user's campaigns and the creatives they use.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::db::Tenant;
use crate::domain::campaign::{
    CampaignStatus, Objective, OptimizationGoals, PromotedApp, Purpose, TargetAudience,
};
use crate::domain::money::Currency;
use crate::domain::{AssetId, CampaignId};
use crate::error::AppError;
use crate::paging::{Cursor, PageRequest};
use crate::repo::assets::Asset;
use crate::repo::sql::Statement;

/// Performance totals cached on the campaign by the sync worker.
#[derive(Clone, Debug)]
pub struct CampaignTotals {
    pub spend: Decimal,
    pub impressions: i64,
    pub clicks: i64,
    pub conversions: i64,
}

#[derive(Clone, Debug)]
pub struct Campaign {
    pub id: Uuid,
    pub name: String,
    pub purpose: Purpose,
    pub objective: Objective,
    pub status: CampaignStatus,
    /// pending, approved or rejected: Meta's review of the ads (see `ad_review`).
    pub approval_status: String,
    /// Each ad's review on Meta, from the last sync: rejected ads carry Meta's feedback.
    pub ad_review: Vec<AdReview>,
    /// ISO 4217: budgets and spend are in it; it must be the ad account's to launch.
    pub currency: String,
    pub daily_budget: Option<Decimal>,
    pub total_budget: Option<Decimal>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub target_audience: Option<TargetAudience>,
    /// For app installs: the app and its store page.
    pub promoted_app: Option<PromotedApp>,
    pub audience_size_estimate: Option<Value>,
    pub ai_optimization_enabled: bool,
    pub optimization_goals: Option<OptimizationGoals>,
    pub meta_campaign_id: Option<String>,
    pub totals: CampaignTotals,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change; sent as the ETag, checked against If-Match.
    pub version: i64,
}

impl Campaign {
    /// The ETag of this version.
    pub fn etag(&self) -> String {
        format!("\"v{}\"", self.version)
    }

    pub fn cursor(&self) -> Cursor {
        Cursor {
            created_at: self.created_at,
            id: self.id,
        }
    }

    /// The editable fields, to be changed and written back.
    pub fn fields(&self) -> CampaignFields {
        CampaignFields {
            name: self.name.clone(),
            purpose: self.purpose,
            objective: self.objective,
            currency: Currency::parse(&self.currency).unwrap_or(Currency::INR),
            daily_budget: self.daily_budget,
            total_budget: self.total_budget,
            start_date: self.start_date,
            end_date: self.end_date,
            target_audience: self.target_audience.clone(),
            promoted_app: self.promoted_app.clone(),
            ai_optimization_enabled: self.ai_optimization_enabled,
            optimization_goals: self.optimization_goals.clone(),
            status: self.status,
        }
    }
}

fn typed<T: DeserializeOwned>(r: &Row, column: &str) -> Option<T> {
    r.get::<_, Option<Value>>(column)
        .and_then(|v| serde_json::from_value(v).ok())
}

impl From<&Row> for Campaign {
    fn from(r: &Row) -> Self {
        let purpose = Purpose::parse(r.get("purpose")).unwrap_or(Purpose::Sales);
        Self {
            id: r.get("id"),
            name: r.get("name"),
            purpose,
            objective: r
                .get::<_, Option<&str>>("objective")
                .and_then(Objective::parse)
                .unwrap_or_else(|| purpose.default_objective()),
            status: CampaignStatus::parse(r.get("status")).unwrap_or(CampaignStatus::Draft),
            approval_status: r.get("approval_status"),
            ad_review: typed(r, "ad_review").unwrap_or_default(),
            currency: r.get("currency"),
            daily_budget: r.get("daily_budget"),
            total_budget: r.get("total_budget"),
            start_date: r.get("start_date"),
            end_date: r.get("end_date"),
            target_audience: typed(r, "target_audience"),
            promoted_app: typed(r, "promoted_app"),
            audience_size_estimate: r.get("audience_size_estimate"),
            ai_optimization_enabled: r.get("ai_optimization_enabled"),
            optimization_goals: typed(r, "optimization_goals"),
            meta_campaign_id: r.get("meta_campaign_id"),
            totals: CampaignTotals {
                spend: r.get("total_spend"),
                impressions: r.get("total_impressions"),
                clicks: r.get("total_clicks"),
                conversions: r.get("total_conversions"),
            },
            created_at: r.get("created_at"),
            updated_at: r.get("updated_at"),
            version: r.get("version"),
        }
    }
}

/// One ad's review on Meta.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct AdReview {
    /// The campaign asset the ad shows, when it is one of ours.
    pub asset_id: Option<Uuid>,
    pub ad_id: String,
    /// Meta's effective_status: PENDING_REVIEW, ACTIVE, DISAPPROVED, …
    pub effective_status: String,
    /// Meta's `ad_review_feedback` (policy → explanation), for a rejected ad.
    pub feedback: Option<Value>,
}

/// Every field a user sets on a campaign, already validated.
#[derive(Clone, Debug)]
pub struct CampaignFields {
    pub name: String,
    pub purpose: Purpose,
    pub objective: Objective,
    pub currency: Currency,
    pub daily_budget: Option<Decimal>,
    pub total_budget: Option<Decimal>,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub target_audience: Option<TargetAudience>,
    pub promoted_app: Option<PromotedApp>,
    pub ai_optimization_enabled: bool,
    pub optimization_goals: Option<OptimizationGoals>,
    pub status: CampaignStatus,
}

const COLUMNS: &str = "id, name, purpose, objective, status, approval_status, ad_review, currency, daily_budget, total_budget, \
                       start_date, end_date, target_audience, promoted_app, audience_size_estimate, ai_optimization_enabled, \
                       optimization_goals, meta_campaign_id, total_spend, total_impressions, total_clicks, \
                       total_conversions, created_at, updated_at, version";

fn json<T: Serialize>(v: &Option<T>) -> Result<Option<Value>, AppError> {
    v.as_ref()
        .map(serde_json::to_value)
        .transpose()
        .map_err(AppError::internal)
}

pub async fn create(t: &Tenant<'_>, c: &CampaignFields) -> Result<Campaign, AppError> {
    let sql = format!(
        "INSERT INTO campaigns (user_id, name, purpose, objective, currency, daily_budget, total_budget, start_date, \
                                end_date, target_audience, ai_optimization_enabled, optimization_goals, status, promoted_app) \
         VALUES ($1, $2, $3, $4, $13, $5, $6, $7, $8, $9, $10, $11, $12, $14) RETURNING {COLUMNS}"
    );
    write(t, &sql, t.user().0, c, None)
        .await?
        .ok_or_else(|| AppError::internal("insert returned no row"))
}

/// Runs an insert or update whose `$1` is `key`, `$2`…`$12` the fields in
/// `CampaignFields` order, `$13` the currency, `$14` the promoted app and `$15` (given
/// `version`) the version it must still be; the written row, if one was.
async fn write(
    t: &Tenant<'_>,
    sql: &str,
    key: Uuid,
    c: &CampaignFields,
    version: Option<i64>,
) -> Result<Option<Campaign>, AppError> {
    let fields = json(&c.target_audience)?;
    let goals = json(&c.optimization_goals)?;
    let app = json(&c.promoted_app)?;
    let status = c.status.as_str();
    let purpose = c.purpose.as_str();
    let objective = c.objective.as_str();
    let currency = c.currency.code();
    let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = vec![
        &key,
        &c.name,
        &purpose,
        &objective,
        &c.daily_budget,
        &c.total_budget,
        &c.start_date,
        &c.end_date,
        &fields,
        &c.ai_optimization_enabled,
        &goals,
        &status,
        &currency,
        &app,
    ];
    if let Some(v) = &version {
        params.push(v);
    }
    let row = t.tx.query_opt(sql, &params).await?;
    Ok(row.as_ref().map(Campaign::from))
}

/// The campaign, locked for the rest of the transaction when `for_update`.
pub async fn get(
    t: &Tenant<'_>,
    id: CampaignId,
    for_update: bool,
) -> Result<Option<Campaign>, AppError> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {COLUMNS} FROM campaigns WHERE id = $1 AND deleted_at IS NULL{lock}");
    Ok(t.tx
        .query_opt(&sql, &[&id.0])
        .await?
        .as_ref()
        .map(Campaign::from))
}

/// Writes the fields over version `read` only: a campaign changed since (by another
/// request) is a 412 and nothing is written.
pub async fn update(
    t: &Tenant<'_>,
    id: CampaignId,
    read: i64,
    c: &CampaignFields,
) -> Result<Campaign, AppError> {
    let sql = format!(
        "UPDATE campaigns SET version = version + 1, name = $2, purpose = $3, objective = $4, daily_budget = $5, total_budget = $6, \
                start_date = $7, end_date = $8, target_audience = $9, ai_optimization_enabled = $10, \
                optimization_goals = $11, status = $12::text, currency = $13, promoted_app = $14, \
                meta_status_at = CASE WHEN status::text <> $12::text THEN now() ELSE meta_status_at END \
         WHERE id = $1 AND deleted_at IS NULL AND version = $15 RETURNING {COLUMNS}"
    );
    match write(t, &sql, id.0, c, Some(read)).await? {
        Some(c) => Ok(c),
        None => Err(AppError::PreconditionFailed {
            code: "edited_concurrently",
            detail: "The campaign changed since it was read (another edit won); read it again and retry."
                .into(),
        }),
    }
}

pub async fn soft_delete(t: &Tenant<'_>, id: CampaignId) -> Result<(), AppError> {
    t.tx.execute(
        "UPDATE campaigns SET deleted_at = now() WHERE id = $1",
        &[&id.0],
    )
    .await?;
    Ok(())
}

pub async fn list(
    t: &Tenant<'_>,
    status: Option<CampaignStatus>,
    purpose: Option<Purpose>,
    page: &PageRequest,
) -> Result<Vec<Campaign>, AppError> {
    let mut q = Statement::new(format!(
        "SELECT {COLUMNS} FROM campaigns WHERE deleted_at IS NULL"
    ));
    let user = q.bind(t.user().0);
    q.push(&format!(" AND user_id = {user}"));
    if let Some(s) = status {
        let p = q.bind(s.as_str());
        q.push(&format!(" AND status = {p}"));
    }
    if let Some(p) = purpose {
        let p = q.bind(p.as_str());
        q.push(&format!(" AND purpose = {p}"));
    }
    q.page(page);
    Ok(t.tx
        .query(&q.sql, &q.params())
        .await?
        .iter()
        .map(Campaign::from)
        .collect())
}

/// An asset used by a campaign, and in which role.
#[derive(Clone, Debug)]
pub struct CampaignAsset {
    pub campaign_id: Uuid,
    /// primary, variation or test.
    pub asset_role: String,
    pub is_active: bool,
    /// 0.00–5.00 against the campaign's other creatives (2.50 = as good as the campaign),
    /// shrunk toward the campaign for small samples; null below 500 impressions.
    pub performance_score: Option<Decimal>,
    /// This creative's own results on Meta (its ad), over every day synced.
    pub results: crate::repo::creative_results::CreativeResults,
    pub created_at: DateTime<Utc>,
    pub asset: Asset,
}

const LINK_SQL: &str = "SELECT ca.campaign_id, ca.asset_role, ca.is_active, ca.performance_score, \
                        ca.created_at AS linked_at, a.* FROM campaign_assets ca \
                        JOIN creative_assets a ON a.id = ca.asset_id";

impl From<&Row> for CampaignAsset {
    fn from(r: &Row) -> Self {
        Self {
            campaign_id: r.get("campaign_id"),
            asset_role: r.get("asset_role"),
            is_active: r.get("is_active"),
            performance_score: r.get("performance_score"),
            results: Default::default(),
            created_at: r.get("linked_at"),
            asset: Asset::from(r),
        }
    }
}

/// The campaign's assets, each with its own results.
pub async fn assets(t: &Tenant<'_>, campaign: CampaignId) -> Result<Vec<CampaignAsset>, AppError> {
    let sql = format!("{LINK_SQL} WHERE ca.campaign_id = $1 ORDER BY ca.created_at, a.id");
    let mut results = crate::repo::creative_results::totals(t, campaign.0).await?;
    Ok(t.tx
        .query(&sql, &[&campaign.0])
        .await?
        .iter()
        .map(|r| {
            let mut a = CampaignAsset::from(r);
            a.results = results.remove(&a.asset.id).unwrap_or_default();
            a
        })
        .collect())
}

pub async fn asset(
    t: &Tenant<'_>,
    campaign: CampaignId,
    asset: AssetId,
) -> Result<Option<CampaignAsset>, AppError> {
    let sql = format!("{LINK_SQL} WHERE ca.campaign_id = $1 AND ca.asset_id = $2");
    let mut results = crate::repo::creative_results::totals(t, campaign.0).await?;
    Ok(t.tx
        .query_opt(&sql, &[&campaign.0, &asset.0])
        .await?
        .as_ref()
        .map(|r| {
            let mut a = CampaignAsset::from(r);
            a.results = results.remove(&asset.0).unwrap_or_default();
            a
        }))
}

/// Links an asset (or changes its role). Returns true when the link is new, in which
/// case the asset's usage count went up by one.
pub async fn attach(
    t: &Tenant<'_>,
    campaign: CampaignId,
    asset: AssetId,
    role: &str,
) -> Result<bool, AppError> {
    let inserted: bool =
        t.tx.query_one(
            "INSERT INTO campaign_assets (campaign_id, asset_id, asset_role) VALUES ($1, $2, $3) \
             ON CONFLICT (campaign_id, asset_id) DO UPDATE SET asset_role = EXCLUDED.asset_role \
             RETURNING (xmax = 0)",
            &[&campaign.0, &asset.0, &role],
        )
        .await?
        .get(0);
    if inserted {
        t.tx.execute(
            "UPDATE creative_assets SET usage_count = usage_count + 1 WHERE id = $1",
            &[&asset.0],
        )
        .await?;
    }
    Ok(inserted)
}

/// Switches a linked asset on or off in the campaign.
pub async fn set_asset_active(
    t: &Tenant<'_>,
    campaign: CampaignId,
    asset: AssetId,
    active: bool,
) -> Result<(), AppError> {
    t.tx.execute(
        "UPDATE campaign_assets SET is_active = $3 WHERE campaign_id = $1 AND asset_id = $2",
        &[&campaign.0, &asset.0, &active],
    )
    .await?;
    Ok(())
}

/// Unlinks an asset; its usage count goes down by one if it was linked.
pub async fn detach(
    t: &Tenant<'_>,
    campaign: CampaignId,
    asset: AssetId,
) -> Result<bool, AppError> {
    let n =
        t.tx.execute(
            "DELETE FROM campaign_assets WHERE campaign_id = $1 AND asset_id = $2",
            &[&campaign.0, &asset.0],
        )
        .await?;
    if n == 1 {
        t.tx.execute(
            "UPDATE creative_assets SET usage_count = greatest(usage_count - 1, 0) WHERE id = $1",
            &[&asset.0],
        )
        .await?;
    }
    Ok(n == 1)
}

/// The asset row locked for linking: its status, if it is the tenant's and not deleted.
pub async fn lock_asset(t: &Tenant<'_>, asset: AssetId) -> Result<Option<String>, AppError> {
    let row =
        t.tx.query_opt(
            "SELECT status FROM creative_assets WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
            &[&asset.0],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

pub use crate::domain::launch::{AdProgress, LaunchProgress};

/// What the campaign has on Meta: the ad account, ad set, and the launch progress.
#[derive(Clone, Debug, Default)]
pub struct MetaLink {
    pub ad_account_id: Option<String>,
    pub adset_id: Option<String>,
    pub launch: Option<LaunchProgress>,
}

impl MetaLink {
    /// Whether the campaign is live on Meta (launched to the end).
    pub fn activated(&self) -> bool {
        self.launch.as_ref().is_some_and(|l| l.activated)
    }
}

pub async fn meta_link(t: &Tenant<'_>, id: CampaignId) -> Result<MetaLink, AppError> {
    let row =
        t.tx.query_opt(
            "SELECT meta_ad_account_id, meta_adset_id, meta_launch FROM campaigns WHERE id = $1",
            &[&id.0],
        )
        .await?;
    Ok(row.map_or_else(MetaLink::default, |r| MetaLink {
        ad_account_id: r.get(0),
        adset_id: r.get(1),
        launch: LaunchProgress::from_stored(r.get(2)),
    }))
}

/// How long a launch claim holds: longer than the campaigns function's timeout (60 s),
/// so a live launch never loses it, short enough that a crashed one frees it soon.
pub const LAUNCH_CLAIM_SECONDS: i64 = 120;

/// A launch claim taken, or who holds it.
pub enum Claim {
    Taken,
    Held {
        until: DateTime<Utc>,
        progress: Option<LaunchProgress>,
    },
}

/// Claims the campaign for `claim` unless another unexpired claim holds it; a campaign
/// that is not the tenant's (or is deleted) is a 404.
pub async fn claim_launch(t: &Tenant<'_>, id: CampaignId, claim: Uuid) -> Result<Claim, AppError> {
    let taken =
        t.tx.execute(
            "UPDATE campaigns SET launch_claim = $2, \
                    launch_claimed_until = now() + make_interval(secs => $3) \
             WHERE id = $1 AND deleted_at IS NULL \
               AND (launch_claimed_until IS NULL OR launch_claimed_until < now())",
            &[&id.0, &claim, &(LAUNCH_CLAIM_SECONDS as f64)],
        )
        .await?;
    if taken == 1 {
        return Ok(Claim::Taken);
    }
    let row =
        t.tx.query_opt(
            "SELECT launch_claimed_until, meta_launch FROM campaigns WHERE id = $1 AND deleted_at IS NULL",
            &[&id.0],
        )
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Claim::Held {
        until: row
            .get::<_, Option<DateTime<Utc>>>(0)
            .unwrap_or_else(Utc::now),
        progress: LaunchProgress::from_stored(row.get(1)),
    })
}

/// Gives the claim back (only if it is still `claim`'s).
pub async fn release_launch(t: &Tenant<'_>, id: CampaignId, claim: Uuid) -> Result<(), AppError> {
    t.tx.execute(
        "UPDATE campaigns SET launch_claim = NULL, launch_claimed_until = NULL \
         WHERE id = $1 AND launch_claim = $2",
        &[&id.0, &claim],
    )
    .await?;
    Ok(())
}

/// Records launch progress (committed by the caller before the next Meta call), only
/// while `claim` still holds the launch; false when it does not (it expired and another
/// launch took over), and the caller must stop.
pub async fn save_launch(
    t: &Tenant<'_>,
    id: CampaignId,
    claim: Uuid,
    ad_account_id: &str,
    launch: &LaunchProgress,
) -> Result<bool, AppError> {
    let json = serde_json::to_value(launch).map_err(AppError::internal)?;
    let n =
        t.tx.execute(
            "UPDATE campaigns SET meta_ad_account_id = $3, meta_campaign_id = coalesce($4, meta_campaign_id), \
                    meta_adset_id = coalesce($5, meta_adset_id), meta_launch = $6 \
             WHERE id = $1 AND launch_claim = $2",
            &[&id.0, &claim, &ad_account_id, &launch.campaign_id, &launch.adset_id, &json],
        )
        .await?;
    Ok(n == 1)
}

/// Stores Meta's delivery estimate.
pub async fn set_estimate(
    t: &Tenant<'_>,
    id: CampaignId,
    estimate: &Value,
) -> Result<(), AppError> {
    t.tx.execute(
        "UPDATE campaigns SET audience_size_estimate = $2 WHERE id = $1",
        &[&id.0, estimate],
    )
    .await?;
    Ok(())
}

/// Marks a campaign live after its launch: active, its new ads in Meta's review.
pub async fn launched(t: &Tenant<'_>, id: CampaignId) -> Result<Campaign, AppError> {
    let sql = format!(
        "UPDATE campaigns SET status = 'active', approval_status = 'pending', meta_status_at = now(), \
                version = version + 1 \
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    Ok(Campaign::from(&t.tx.query_one(&sql, &[&id.0]).await?))
}

/// Sets the status (launch, pause, resume and the rest of the lifecycle).
pub async fn set_status(
    t: &Tenant<'_>,
    id: CampaignId,
    status: CampaignStatus,
) -> Result<Campaign, AppError> {
    let sql = format!(
        "UPDATE campaigns SET status = $2, meta_status_at = now(), version = version + 1 \
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    Ok(Campaign::from(
        &t.tx.query_one(&sql, &[&id.0, &status.as_str()]).await?,
    ))
}
