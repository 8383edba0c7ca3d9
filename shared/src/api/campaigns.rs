//! The `campaigns` responses: what the API answers, each made from its `shared::repo::campaigns` row.

use crate::api::assets::Asset;
use crate::api::creative_results::CreativeResults;
use crate::domain::campaign::{
    CampaignStatus, Objective, OptimizationGoals, PromotedApp, Purpose, TargetAudience,
};
use crate::repo::campaigns as row;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// Performance totals cached on the campaign by the sync worker.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CampaignTotals {
    /// Amount spent, in the campaign's currency.
    #[schema(value_type = String, example = "1520.50")]
    pub spend: Decimal,
    /// Impressions.
    pub impressions: i64,
    /// Link clicks.
    pub clicks: i64,
    /// Conversions.
    pub conversions: i64,
}

impl From<row::CampaignTotals> for CampaignTotals {
    fn from(r: row::CampaignTotals) -> Self {
        Self {
            spend: r.spend,
            impressions: r.impressions,
            clicks: r.clicks,
            conversions: r.conversions,
        }
    }
}

/// A campaign: what it promotes, its budget and audience, and where it stands on Meta.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Campaign {
    /// The campaign's id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// What it is for (sales, lead generation, brand awareness, app installs, …).
    pub purpose: Purpose,
    /// Meta's objective, from the purpose.
    pub objective: Objective,
    /// draft, review, active, paused, completed or cancelled.
    pub status: CampaignStatus,
    /// pending, approved or rejected: Meta's review of the ads (see `ad_review`).
    pub approval_status: String,
    /// Each ad's review on Meta, from the last sync: rejected ads carry Meta's feedback.
    pub ad_review: Vec<AdReview>,
    /// ISO 4217: budgets and spend are in it; it must be the ad account's to launch.
    #[schema(example = "INR")]
    pub currency: String,
    /// Per day, in the campaign's currency (either this or a total budget).
    #[schema(value_type = Option<String>, example = "500.00")]
    pub daily_budget: Option<Decimal>,
    /// Over the campaign's life, in its currency.
    #[schema(value_type = Option<String>, example = "15000.00")]
    pub total_budget: Option<Decimal>,
    /// First day it runs.
    pub start_date: Option<NaiveDate>,
    /// Last day it runs.
    pub end_date: Option<NaiveDate>,
    /// Who it is shown to.
    pub target_audience: Option<TargetAudience>,
    /// For app installs: the app and its store page.
    pub promoted_app: Option<PromotedApp>,
    /// Meta's estimate of the audience's size, from the last check.
    #[schema(value_type = Option<Object>)]
    pub audience_size_estimate: Option<Value>,
    /// Whether the optimizer may change its budget and creatives.
    pub ai_optimization_enabled: bool,
    /// The targets the optimizer works to.
    pub optimization_goals: Option<OptimizationGoals>,
    /// Its id on Meta, once launched.
    pub meta_campaign_id: Option<String>,
    /// Delivery so far, from the last sync.
    pub totals: CampaignTotals,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<row::Campaign> for Campaign {
    fn from(r: row::Campaign) -> Self {
        Self {
            id: r.id,
            name: r.name,
            purpose: r.purpose,
            objective: r.objective,
            status: r.status,
            approval_status: r.approval_status,
            ad_review: r.ad_review.into_iter().map(Into::into).collect(),
            currency: r.currency,
            daily_budget: r.daily_budget,
            total_budget: r.total_budget,
            start_date: r.start_date,
            end_date: r.end_date,
            target_audience: r.target_audience,
            promoted_app: r.promoted_app,
            audience_size_estimate: r.audience_size_estimate,
            ai_optimization_enabled: r.ai_optimization_enabled,
            optimization_goals: r.optimization_goals,
            meta_campaign_id: r.meta_campaign_id,
            totals: r.totals.into(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// One ad's review on Meta.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AdReview {
    /// The campaign asset the ad shows, when it is one of ours.
    pub asset_id: Option<Uuid>,
    /// The ad's id on Meta.
    pub ad_id: String,
    /// Meta's effective_status: PENDING_REVIEW, ACTIVE, DISAPPROVED, …
    pub effective_status: String,
    /// Meta's `ad_review_feedback` (policy → explanation), for a rejected ad.
    #[schema(value_type = Option<Object>)]
    pub feedback: Option<Value>,
}

impl From<row::AdReview> for AdReview {
    fn from(r: row::AdReview) -> Self {
        Self {
            asset_id: r.asset_id,
            ad_id: r.ad_id,
            effective_status: r.effective_status,
            feedback: r.feedback,
        }
    }
}

/// An asset used by a campaign, and in which role.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CampaignAsset {
    /// The campaign.
    pub campaign_id: Uuid,
    /// primary, variation or test.
    pub asset_role: String,
    /// Whether the creative runs (off pauses its ad on Meta).
    pub is_active: bool,
    /// 0.00–5.00 against the campaign's other creatives (2.50 = as good as the campaign),
    /// shrunk toward the campaign for small samples; null below 500 impressions.
    #[schema(value_type = Option<String>, example = "3.10")]
    pub performance_score: Option<Decimal>,
    /// This creative's own results on Meta (its ad), over every day synced.
    pub results: CreativeResults,
    /// When the asset joined the campaign.
    pub created_at: DateTime<Utc>,
    /// The asset itself.
    pub asset: Asset,
}

impl From<row::CampaignAsset> for CampaignAsset {
    fn from(r: row::CampaignAsset) -> Self {
        Self {
            campaign_id: r.campaign_id,
            asset_role: r.asset_role,
            is_active: r.is_active,
            performance_score: r.performance_score,
            results: r.results.into(),
            created_at: r.created_at,
            asset: r.asset.into(),
        }
    }
}
