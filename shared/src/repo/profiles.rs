//! `business_profiles` and `brand_profiles`: one live profile of each kind per user.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use crate::db::Tenant;
use crate::domain::profile::{
    BrandGuidelines, BrandProfileInput, BrandVoice, BudgetRange, BusinessProfileInput,
    BusinessType, ColorPalette, MessagingPatterns, SocialPresence, Typography,
};
use crate::error::AppError;

#[derive(Debug)]
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

#[derive(Debug)]
pub struct BrandProfile {
    pub id: Uuid,
    pub website_url: Option<String>,
    pub logo_url: Option<String>,
    pub color_palette: Option<ColorPalette>,
    pub typography: Option<Typography>,
    pub brand_voice: Option<BrandVoice>,
    pub messaging_patterns: Option<MessagingPatterns>,
    pub guidelines: Option<BrandGuidelines>,
    /// Social profiles the website links to (read-only; written by the analyzer).
    pub social: Option<SocialPresence>,
    /// Kit fields set by hand through PUT, which an analysis keeps unless asked to replace them.
    pub manual_fields: Vec<String>,
    /// What the website analysis found: pages read, robots decision, evidence, logo
    /// (read-only; written by the analyzer).
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
            social: typed(r, "social_media_analysis"),
            manual_fields: r.get("manual_fields"),
            website_analysis: r.get("website_analysis"),
            last_analysis: r.get("last_analysis"),
            analysis_version: r.get("analysis_version"),
            created_at: r.get("created_at"),
            updated_at: r.get("updated_at"),
        }
    }
}

const BRAND_COLUMNS: &str = "id, website_url, logo_url, color_palette, typography, brand_voice, messaging_patterns, \
                             ai_generated_guidelines, social_media_analysis, manual_fields, website_analysis, last_analysis, \
                             analysis_version, created_at, updated_at";

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
                                     messaging_patterns, ai_generated_guidelines, manual_fields) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (user_id) WHERE deleted_at IS NULL DO UPDATE SET \
            website_url = EXCLUDED.website_url, logo_url = EXCLUDED.logo_url, \
            color_palette = EXCLUDED.color_palette, typography = EXCLUDED.typography, \
            brand_voice = EXCLUDED.brand_voice, messaging_patterns = EXCLUDED.messaging_patterns, \
            ai_generated_guidelines = EXCLUDED.ai_generated_guidelines, manual_fields = EXCLUDED.manual_fields \
         RETURNING {BRAND_COLUMNS}"
    );
    let manual: Vec<&str> = [
        ("logo_url", p.logo_url.is_some()),
        ("color_palette", p.color_palette.is_some()),
        ("typography", p.typography.is_some()),
        ("brand_voice", p.brand_voice.is_some()),
        ("messaging_patterns", p.messaging_patterns.is_some()),
        ("ai_generated_guidelines", p.guidelines.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect();
    let edited = BrandKit {
        logo_url: p.logo_url.clone(),
        color_palette: p.color_palette.clone(),
        typography: p.typography.clone(),
        brand_voice: p.brand_voice.clone(),
        messaging_patterns: p.messaging_patterns.clone(),
        guidelines: p.guidelines.clone(),
    };
    let kit = Kit::of(&edited)?;
    let row =
        t.tx.query_one(
            &sql,
            &[
                &t.user().0,
                &p.website_url,
                &kit.logo_url,
                &kit.color_palette,
                &kit.typography,
                &kit.brand_voice,
                &kit.messaging_patterns,
                &kit.guidelines,
                &manual,
            ],
        )
        .await?;
    Ok(BrandProfile::from(&row))
}

/// The brand kit's fields, as a hand edit or an analysis sets them.
#[derive(Clone, Debug, Default)]
pub struct BrandKit {
    pub logo_url: Option<String>,
    pub color_palette: Option<ColorPalette>,
    pub typography: Option<Typography>,
    pub brand_voice: Option<BrandVoice>,
    pub messaging_patterns: Option<MessagingPatterns>,
    pub guidelines: Option<BrandGuidelines>,
}

/// A kit as the statement binds it: the URL and the JSON columns.
struct Kit<'a> {
    logo_url: &'a Option<String>,
    color_palette: Option<Value>,
    typography: Option<Value>,
    brand_voice: Option<Value>,
    messaging_patterns: Option<Value>,
    guidelines: Option<Value>,
}

impl<'a> Kit<'a> {
    fn of(k: &'a BrandKit) -> Result<Self, AppError> {
        Ok(Self {
            logo_url: &k.logo_url,
            color_palette: json(&k.color_palette)?,
            typography: json(&k.typography)?,
            brand_voice: json(&k.brand_voice)?,
            messaging_patterns: json(&k.messaging_patterns)?,
            guidelines: json(&k.guidelines)?,
        })
    }
}

/// What one website analysis learned: the kit, its evidence and the social profiles.
#[derive(Debug, Default)]
pub struct Analysis {
    pub website_url: String,
    pub kit: BrandKit,
    pub social: SocialPresence,
    pub website_analysis: Value,
}

/// The kit columns an analysis writes; each keeps a hand-set value unless `replace`.
const KIT_COLUMNS: [&str; 6] = [
    "logo_url",
    "color_palette",
    "typography",
    "brand_voice",
    "messaging_patterns",
    "ai_generated_guidelines",
];

/// Writes an analysis into the user's brand profile (made if there is none): the kit
/// fields not set by hand (all of them with `replace`, which also forgets what was hand
/// set), the evidence, `last_analysis` and the next `analysis_version`.
pub async fn apply_analysis(
    t: &Tenant<'_>,
    a: &Analysis,
    replace: bool,
) -> Result<BrandProfile, AppError> {
    let kit: Vec<String> = KIT_COLUMNS
        .iter()
        .map(|c| {
            format!(
                "{c} = CASE WHEN $11 OR NOT ('{c}' = ANY(brand_profiles.manual_fields)) \
                        THEN coalesce(EXCLUDED.{c}, brand_profiles.{c}) ELSE brand_profiles.{c} END"
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO brand_profiles (user_id, website_url, logo_url, color_palette, typography, brand_voice, \
                                     messaging_patterns, ai_generated_guidelines, social_media_analysis, \
                                     website_analysis, last_analysis, analysis_version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now(), 1) \
         ON CONFLICT (user_id) WHERE deleted_at IS NULL DO UPDATE SET \
            website_url = EXCLUDED.website_url, {}, \
            social_media_analysis = EXCLUDED.social_media_analysis, \
            website_analysis = EXCLUDED.website_analysis, last_analysis = now(), \
            analysis_version = CASE WHEN brand_profiles.last_analysis IS NULL THEN 1 \
                                    ELSE brand_profiles.analysis_version + 1 END, \
            manual_fields = CASE WHEN $11 THEN '{{}}' ELSE brand_profiles.manual_fields END \
         RETURNING {BRAND_COLUMNS}",
        kit.join(", ")
    );
    let social = serde_json::to_value(&a.social).map_err(AppError::internal)?;
    let kit = Kit::of(&a.kit)?;
    let row =
        t.tx.query_one(
            &sql,
            &[
                &t.user().0,
                &a.website_url,
                &kit.logo_url,
                &kit.color_palette,
                &kit.typography,
                &kit.brand_voice,
                &kit.messaging_patterns,
                &kit.guidelines,
                &social,
                &a.website_analysis,
                &replace,
            ],
        )
        .await?;
    Ok(BrandProfile::from(&row))
}
