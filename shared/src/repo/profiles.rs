//! `business_profiles` and `brand_profiles`: one live profile of each kind per user.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_postgres::Row;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::Tenant;
use crate::domain::profile::{
    BrandGuidelines, BrandProfileInput, BrandVoice, BudgetRange, BusinessProfileInput,
    BusinessType, ColorPalette, MessagingPatterns, Typography,
};
use crate::error::AppError;

#[derive(Debug, Serialize, ToSchema)]
pub struct BusinessProfile {
    pub id: Uuid,
    pub business_name: Option<String>,
    pub business_type: Option<BusinessType>,
    pub industry: Option<String>,
    pub website_url: Option<String>,
    pub business_address: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub target_audience_description: Option<String>,
    pub monthly_budget_range: Option<BudgetRange>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Row> for BusinessProfile {
    fn from(r: &Row) -> Self {
        Self {
            id: r.get("id"),
            business_name: r.get("business_name"),
            business_type: r
                .get::<_, Option<String>>("business_type")
                .as_deref()
                .and_then(BusinessType::parse),
            industry: r.get("industry"),
            website_url: r.get("website_url"),
            business_address: r.get("business_address"),
            country: r.get("country"),
            target_audience_description: r.get("target_audience_description"),
            monthly_budget_range: r
                .get::<_, Option<String>>("monthly_budget_range")
                .as_deref()
                .and_then(BudgetRange::parse),
            created_at: r.get("created_at"),
            updated_at: r.get("updated_at"),
        }
    }
}

const BUSINESS_COLUMNS: &str = "id, business_name, business_type, industry, website_url, business_address, \
                                country, target_audience_description, monthly_budget_range, created_at, updated_at";

pub async fn business(t: &Tenant<'_>) -> Result<Option<BusinessProfile>, AppError> {
    let sql = format!("SELECT {BUSINESS_COLUMNS} FROM business_profiles WHERE deleted_at IS NULL");
    Ok(t.tx
        .query_opt(&sql, &[])
        .await?
        .as_ref()
        .map(BusinessProfile::from))
}

/// Where the tenant's business is (ISO 3166-1 alpha-2), if it said.
pub async fn business_country(t: &Tenant<'_>) -> Result<Option<String>, AppError> {
    Ok(t.tx
        .query_opt(
            "SELECT country FROM business_profiles WHERE deleted_at IS NULL",
            &[],
        )
        .await?
        .and_then(|r| r.get(0)))
}

/// Creates or replaces the user's business profile.
pub async fn put_business(
    t: &Tenant<'_>,
    p: &BusinessProfileInput,
) -> Result<BusinessProfile, AppError> {
    let sql = format!(
        "INSERT INTO business_profiles (user_id, business_name, business_type, industry, website_url, \
                                        business_address, target_audience_description, monthly_budget_range, \
                                        country) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (user_id) WHERE deleted_at IS NULL DO UPDATE SET \
            business_name = EXCLUDED.business_name, business_type = EXCLUDED.business_type, \
            industry = EXCLUDED.industry, website_url = EXCLUDED.website_url, \
            business_address = EXCLUDED.business_address, \
            target_audience_description = EXCLUDED.target_audience_description, \
            monthly_budget_range = EXCLUDED.monthly_budget_range, country = EXCLUDED.country \
         RETURNING {BUSINESS_COLUMNS}"
    );
    let row =
        t.tx.query_one(
            &sql,
            &[
                &t.user().0,
                &p.business_name,
                &p.business_type.map(BusinessType::as_str),
                &p.industry,
                &p.website_url,
                &p.business_address,
                &p.target_audience_description,
                &p.monthly_budget_range.map(BudgetRange::as_str),
                &p.country,
            ],
        )
        .await?;
    Ok(BusinessProfile::from(&row))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BrandProfile {
    pub id: Uuid,
    pub website_url: Option<String>,
    pub logo_url: Option<String>,
    pub color_palette: Option<ColorPalette>,
    pub typography: Option<Typography>,
    pub brand_voice: Option<BrandVoice>,
    pub messaging_patterns: Option<MessagingPatterns>,
    pub guidelines: Option<BrandGuidelines>,
    /// What the website analysis found (read-only; written by the analyzer).
    #[schema(value_type = Option<Object>)]
    pub website_analysis: Option<Value>,
    pub last_analysis: Option<DateTime<Utc>>,
    pub analysis_version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn typed<T: DeserializeOwned>(r: &Row, column: &str) -> Option<T> {
    r.get::<_, Option<Value>>(column)
        .and_then(|v| serde_json::from_value(v).ok())
}

impl From<&Row> for BrandProfile {
    fn from(r: &Row) -> Self {
        Self {
            id: r.get("id"),
            website_url: r.get("website_url"),
            logo_url: r.get("logo_url"),
            color_palette: typed(r, "color_palette"),
            typography: typed(r, "typography"),
            brand_voice: typed(r, "brand_voice"),
            messaging_patterns: typed(r, "messaging_patterns"),
            guidelines: typed(r, "ai_generated_guidelines"),
            website_analysis: r.get("website_analysis"),
            last_analysis: r.get("last_analysis"),
            analysis_version: r.get("analysis_version"),
            created_at: r.get("created_at"),
            updated_at: r.get("updated_at"),
        }
    }
}

const BRAND_COLUMNS: &str = "id, website_url, logo_url, color_palette, typography, brand_voice, messaging_patterns, \
                             ai_generated_guidelines, website_analysis, last_analysis, analysis_version, created_at, updated_at";

pub async fn brand(t: &Tenant<'_>) -> Result<Option<BrandProfile>, AppError> {
    let sql = format!("SELECT {BRAND_COLUMNS} FROM brand_profiles WHERE deleted_at IS NULL");
    Ok(t.tx
        .query_opt(&sql, &[])
        .await?
        .as_ref()
        .map(BrandProfile::from))
}

fn json<T: Serialize>(v: &Option<T>) -> Result<Option<Value>, AppError> {
    v.as_ref()
        .map(serde_json::to_value)
        .transpose()
        .map_err(AppError::internal)
}

/// Creates or replaces the editable part of the user's brand profile.
pub async fn put_brand(t: &Tenant<'_>, p: &BrandProfileInput) -> Result<BrandProfile, AppError> {
    let sql = format!(
        "INSERT INTO brand_profiles (user_id, website_url, logo_url, color_palette, typography, brand_voice, \
                                     messaging_patterns, ai_generated_guidelines) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (user_id) WHERE deleted_at IS NULL DO UPDATE SET \
            website_url = EXCLUDED.website_url, logo_url = EXCLUDED.logo_url, \
            color_palette = EXCLUDED.color_palette, typography = EXCLUDED.typography, \
            brand_voice = EXCLUDED.brand_voice, messaging_patterns = EXCLUDED.messaging_patterns, \
            ai_generated_guidelines = EXCLUDED.ai_generated_guidelines \
         RETURNING {BRAND_COLUMNS}"
    );
    let row =
        t.tx.query_one(
            &sql,
            &[
                &t.user().0,
                &p.website_url,
                &p.logo_url,
                &json(&p.color_palette)?,
                &json(&p.typography)?,
                &json(&p.brand_voice)?,
                &json(&p.messaging_patterns)?,
                &json(&p.guidelines)?,
            ],
        )
        .await?;
    Ok(BrandProfile::from(&row))
}
