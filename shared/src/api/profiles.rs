//! The `profiles` responses: what the API answers, each made from its `shared::repo::profiles` row.

use crate::domain::profile::{
    BrandGuidelines, BrandVoice, BudgetRange, BusinessType, ColorPalette, MessagingPatterns,
    SocialPresence, Typography,
};
use crate::repo::profiles as row;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// The business the user advertises.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BusinessProfile {
    /// The profile's id.
    pub id: Uuid,
    /// The business's name.
    pub business_name: Option<String>,
    /// What kind of business it is.
    pub business_type: Option<BusinessType>,
    /// Its industry.
    pub industry: Option<String>,
    /// Its website.
    pub website_url: Option<String>,
    /// Its address.
    pub business_address: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// Who it sells to, in the owner's words.
    pub target_audience_description: Option<String>,
    /// How much it spends on ads a month.
    pub monthly_budget_range: Option<BudgetRange>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<row::BusinessProfile> for BusinessProfile {
    fn from(r: row::BusinessProfile) -> Self {
        Self {
            id: r.id,
            business_name: r.business_name,
            business_type: r.business_type,
            industry: r.industry,
            website_url: r.website_url,
            business_address: r.business_address,
            country: r.country,
            target_audience_description: r.target_audience_description,
            monthly_budget_range: r.monthly_budget_range,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The brand kit learnt from the website (and edited by the owner): logo, colours, type, voice.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BrandProfile {
    /// The profile's id.
    pub id: Uuid,
    /// The website it was learnt from.
    pub website_url: Option<String>,
    /// The logo's address.
    pub logo_url: Option<String>,
    /// The brand's colours.
    pub color_palette: Option<ColorPalette>,
    /// Its fonts.
    pub typography: Option<Typography>,
    /// How it speaks.
    pub brand_voice: Option<BrandVoice>,
    /// Phrases and calls to action it uses.
    pub messaging_patterns: Option<MessagingPatterns>,
    /// Dos and don'ts.
    pub guidelines: Option<BrandGuidelines>,
    /// Social profiles the website links to (read-only; written by the analyzer).
    pub social: Option<SocialPresence>,
    /// Kit fields set by hand through PUT, which an analysis keeps unless asked to replace them.
    pub manual_fields: Vec<String>,
    /// What the website analysis found: pages read, robots decision, evidence, logo
    /// (read-only; written by the analyzer).
    #[schema(value_type = Option<Object>)]
    pub website_analysis: Option<Value>,
    /// When the website was last analysed.
    pub last_analysis: Option<DateTime<Utc>>,
    /// Bumped by every analysis.
    pub analysis_version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<row::BrandProfile> for BrandProfile {
    fn from(r: row::BrandProfile) -> Self {
        Self {
            id: r.id,
            website_url: r.website_url,
            logo_url: r.logo_url,
            color_palette: r.color_palette,
            typography: r.typography,
            brand_voice: r.brand_voice,
            messaging_patterns: r.messaging_patterns,
            guidelines: r.guidelines,
            social: r.social,
            manual_fields: r.manual_fields,
            website_analysis: r.website_analysis,
            last_analysis: r.last_analysis,
            analysis_version: r.analysis_version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}
