//! Business and brand profiles: the typed shapes clients send and receive, and the
//! rules each field must satisfy. Brand data is structured JSON with a schema, not a
//! free-form blob.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Fields, Invalid, text, web_url};

/// What kind of business this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BusinessType {
    /// Restaurants, cafés, food.
    Restaurant,
    /// Clinics and health care.
    Healthcare,
    /// Online shops.
    Ecommerce,
    /// Shops.
    Retail,
    /// Schools, courses, coaching.
    Education,
    /// Property.
    RealEstate,
    /// Gyms and fitness.
    Fitness,
    /// Salons and beauty.
    Beauty,
    /// Consultants, lawyers, accountants, agencies.
    ProfessionalServices,
    /// Hotels and stays.
    Hospitality,
    /// Cars and workshops.
    Automotive,
    /// Travel and tours.
    Travel,
    /// Anything else.
    Other,
}

/// Monthly advertising budget, in INR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum BudgetRange {
    #[serde(rename = "0-10000")]
    /// Up to ₹10,000.
    UpTo10k,
    #[serde(rename = "10000-50000")]
    /// ₹10,000–50,000.
    From10kTo50k,
    #[serde(rename = "50000-200000")]
    /// ₹50,000–2,00,000.
    From50kTo2l,
    #[serde(rename = "200000-1000000")]
    /// ₹2,00,000–10,00,000.
    From2lTo10l,
    #[serde(rename = "1000000+")]
    /// Over ₹10,00,000.
    Over10l,
}

string_enum!(BusinessType);
string_enum!(BudgetRange);

/// A business profile as sent with `PUT /v1/business-profile` (the whole profile;
/// omitted fields are cleared).
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessProfileInput {
    #[schema(max_length = 255)]
    /// The business's name.
    pub business_name: Option<String>,
    /// Its kind.
    pub business_type: Option<BusinessType>,
    #[schema(max_length = 100)]
    /// Its industry, in the owner's words.
    pub industry: Option<String>,
    #[schema(example = "https://example.com")]
    /// Its website (http or https).
    pub website_url: Option<String>,
    #[schema(max_length = 500)]
    /// Its address.
    pub business_address: Option<String>,
    /// Where the business is (ISO 3166-1 alpha-2, e.g. IN, US, DE): decides how it pays
    /// by default (Razorpay in rupees in India, Stripe elsewhere).
    #[schema(pattern = "^[A-Za-z]{2}$", example = "IN")]
    pub country: Option<String>,
    #[schema(max_length = 2000)]
    /// Who it sells to, in the owner's words.
    pub target_audience_description: Option<String>,
    /// What it spends on ads a month.
    pub monthly_budget_range: Option<BudgetRange>,
}

impl BusinessProfileInput {
    /// The same profile with every field normalised, or the fields that are wrong.
    pub fn validate(self) -> Result<Self, crate::AppError> {
        let mut f = Fields::default();
        let mut opt =
            |field: &str, v: Option<String>, check: &dyn Fn(&str) -> Result<String, Invalid>| {
                v.and_then(|v| f.check(field, check(&v)))
            };
        let out = Self {
            business_name: opt("business_name", self.business_name, &|v| text(v, 255)),
            industry: opt("industry", self.industry, &|v| text(v, 100)),
            website_url: opt("website_url", self.website_url, &web_url),
            business_address: opt("business_address", self.business_address, &|v| text(v, 500)),
            country: opt("country", self.country, &country),
            target_audience_description: opt(
                "target_audience_description",
                self.target_audience_description,
                &|v| text(v, 2000),
            ),
            business_type: self.business_type,
            monthly_budget_range: self.monthly_budget_range,
        };
        f.finish()?;
        Ok(out)
    }
}

/// An ISO 3166-1 alpha-2 country code, upper-cased.
pub fn country(raw: &str) -> Result<String, Invalid> {
    let code = raw.trim().to_ascii_uppercase();
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(Invalid::new(
            "invalid_country",
            "must be a two-letter ISO 3166 country code such as IN, US or DE",
        ))
    }
}

/// Brand colours as `#RRGGBB`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ColorPalette {
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$", example = "#2E86AB")]
    /// The main brand colour.
    pub primary: Option<String>,
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$")]
    /// The second brand colour.
    pub secondary: Option<String>,
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$")]
    /// The colour that draws the eye (buttons, links).
    pub accent: Option<String>,
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$")]
    /// The page background.
    pub background: Option<String>,
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$")]
    /// The body text colour.
    pub text: Option<String>,
    /// Every colour the analyzer weighed, with its role, score and evidence.
    #[serde(default)]
    #[schema(max_items = 24)]
    pub palette: Vec<PaletteColour>,
    /// Text and background pairs with their WCAG contrast.
    #[serde(default)]
    #[schema(max_items = 8)]
    pub contrast: Vec<ContrastPair>,
}

/// What a colour does for the brand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ColourRole {
    /// The main brand colour.
    Primary,
    /// The second brand colour.
    Secondary,
    /// Buttons and links.
    Accent,
    /// Page background.
    Background,
    /// Body text.
    Text,
    /// Used on the site but not a brand colour (greys, status colours) or ranked lower.
    Other,
}

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
/// One colour the analyzer weighed.
pub struct PaletteColour {
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$", example = "#C0392B")]
    /// `#RRGGBB`.
    pub hex: String,
    /// What it does for the brand.
    pub role: ColourRole,
    /// How strongly the site supports this colour (sum of its evidence's weights).
    pub score: f32,
    /// Where it was seen, e.g. `css var --brand`, `button background`, `logo pixels 38%`.
    #[serde(default)]
    #[schema(max_items = 12)]
    pub evidence: Vec<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
/// A text colour on a background, with its contrast.
pub struct ContrastPair {
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$")]
    /// Text colour, `#RRGGBB`.
    pub foreground: String,
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$")]
    /// Background colour, `#RRGGBB`.
    pub background: String,
    /// WCAG 2 contrast ratio, 1–21.
    #[schema(minimum = 1, maximum = 21)]
    pub ratio: f32,
    /// At least 4.5:1, WCAG AA for body text.
    pub passes_aa: bool,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
/// The brand's fonts.
pub struct Typography {
    #[schema(max_length = 100, example = "Poppins")]
    /// The heading family's name.
    pub heading_font: Option<String>,
    #[schema(max_length = 100)]
    /// The body family's name.
    pub body_font: Option<String>,
    #[schema(minimum = 8, maximum = 72)]
    /// The body text size in pixels.
    pub base_size_px: Option<u8>,
    /// The heading family in detail (written by the analyzer).
    pub heading: Option<FontChoice>,
    /// The body family in detail (written by the analyzer).
    pub body: Option<FontChoice>,
}

/// Where a font comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FontSource {
    /// Loaded from Google Fonts.
    GoogleFonts,
    /// The site's own `@font-face`.
    FontFace,
    /// A system font stack.
    System,
}

#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
/// A font family in detail.
pub struct FontChoice {
    #[schema(max_length = 100, example = "Playfair Display")]
    /// The family's name.
    pub family: String,
    #[serde(default)]
    /// The weights the site uses.
    pub weights: Vec<u16>,
    /// Where it comes from.
    pub source: FontSource,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
/// How the brand sounds.
pub enum Tone {
    /// Professional.
    Professional,
    /// Friendly.
    Friendly,
    /// Playful.
    Playful,
    /// Luxurious.
    Luxurious,
    /// Bold.
    Bold,
    /// Caring.
    Caring,
    /// Authoritative.
    Authoritative,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
/// How the brand speaks.
pub struct BrandVoice {
    /// Its tone.
    pub tone: Option<Tone>,
    #[schema(max_length = 100, example = "warm and direct")]
    /// Its writing style, in a few words.
    pub style: Option<String>,
    #[schema(max_length = 100, example = "trustworthy")]
    /// Its personality, in a few words.
    pub personality: Option<String>,
}

/// Phrases the brand uses: each at most 200 characters, at most 20 of each kind.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessagingPatterns {
    #[serde(default)]
    #[schema(max_items = 20)]
    /// Phrases it repeats.
    pub key_phrases: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 20)]
    /// What it offers customers.
    pub value_propositions: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 20)]
    /// What sets it apart.
    pub usps: Vec<String>,
    #[schema(max_length = 200)]
    /// The site's name.
    pub site_name: Option<String>,
    #[schema(max_length = 300)]
    /// The home page's title.
    pub title: Option<String>,
    #[schema(max_length = 500)]
    /// The home page's description.
    pub description: Option<String>,
    #[schema(max_length = 300)]
    /// The home page's main headline.
    pub hero_headline: Option<String>,
    #[serde(default)]
    #[schema(max_items = 20)]
    /// The calls to action it uses ("Book a table").
    pub calls_to_action: Vec<String>,
    /// Claims the business makes ("since 1998", "award-winning").
    #[serde(default)]
    #[schema(max_items = 20)]
    pub claims: Vec<String>,
    /// Testimonials, ratings and reviews quoted on the site.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub social_proof: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
/// How ads for the brand should be written.
pub struct BrandGuidelines {
    #[serde(default)]
    #[schema(max_items = 20)]
    /// Things to do.
    pub dos: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 20)]
    /// Things to avoid.
    pub donts: Vec<String>,
    /// A short style guide.
    #[schema(max_length = 2000)]
    pub summary: Option<String>,
    #[serde(default)]
    #[schema(max_items = 20)]
    /// Phrases ads should use.
    pub key_phrases: Vec<String>,
}

/// A social profile of the business.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct SocialProfile {
    /// facebook, instagram, whatsapp, youtube, linkedin or x.
    pub platform: String,
    /// The profile's address.
    pub url: String,
    /// `json-ld sameAs` or `link`.
    pub found_in: String,
}

/// The business's social presence as its website shows it, and its connected Facebook
/// Page's recent posts (written by the analyzer).
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct SocialPresence {
    #[serde(default)]
    /// Profiles linked from the site.
    pub profiles: Vec<SocialProfile>,
    /// The connected Facebook Page's recent posts, when it could be read.
    pub facebook_page: Option<PageSummary>,
}

/// What a Facebook Page's recent posts say: how often it posts, what its audience
/// engages with, and the words it uses.
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
pub struct PageSummary {
    /// Meta's page id.
    pub page_id: String,
    /// The page's name.
    pub name: Option<String>,
    /// Posts read.
    pub posts_read: u32,
    /// Oldest and newest post read (RFC 3339).
    pub since: Option<String>,
    /// The newest post read (RFC 3339).
    pub until: Option<String>,
    /// Posts a week over the posts read.
    pub posts_per_week: f32,
    /// Reactions + comments + shares per post.
    pub average_engagement: f32,
    /// The most engaging posts' text (at most 3, 280 characters each).
    #[serde(default)]
    pub top_posts: Vec<String>,
    #[serde(default)]
    /// The hashtags it uses most.
    pub hashtags: Vec<String>,
}

/// The editable part of a brand profile (`PUT /v1/brand-profile`, whole replacement).
#[derive(Clone, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BrandProfileInput {
    #[schema(example = "https://example.com")]
    /// The site the kit was learned from.
    pub website_url: Option<String>,
    #[schema(example = "https://example.com")]
    /// The logo's URL.
    pub logo_url: Option<String>,
    /// The colours.
    pub color_palette: Option<ColorPalette>,
    /// The fonts.
    pub typography: Option<Typography>,
    /// The voice.
    pub brand_voice: Option<BrandVoice>,
    /// The phrases.
    pub messaging_patterns: Option<MessagingPatterns>,
    /// The guidelines.
    pub guidelines: Option<BrandGuidelines>,
}

fn hex_color(raw: &str) -> Result<String, Invalid> {
    let ok =
        raw.len() == 7 && raw.starts_with('#') && raw[1..].chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(raw.to_ascii_uppercase())
    } else {
        Err(Invalid::new(
            "invalid_color",
            "must be a colour like #2E86AB",
        ))
    }
}

fn font(f: &mut Fields, field: &str, choice: FontChoice) -> Option<FontChoice> {
    let family = f.check(&format!("{field}.family"), text(&choice.family, 100))?;
    Some(FontChoice {
        family,
        weights: choice
            .weights
            .into_iter()
            .filter(|w| (1..=1000).contains(w))
            .take(9)
            .collect(),
        source: choice.source,
    })
}

fn phrases(f: &mut Fields, field: &str, list: Vec<String>, max_len: usize) -> Vec<String> {
    if list.len() > 20 {
        f.check::<()>(field, Err(Invalid::new("too_many", "at most 20 entries")));
    }
    list.iter()
        .enumerate()
        .filter_map(|(i, p)| f.check(&format!("{field}[{i}]"), text(p, max_len)))
        .collect()
}

impl BrandProfileInput {
    /// The input with every field checked and normalised; a 422 naming each bad field.
    pub fn validate(self) -> Result<Self, crate::AppError> {
        let mut f = Fields::default();
        let website_url = self
            .website_url
            .and_then(|u| f.check("website_url", web_url(&u)));
        let logo_url = self.logo_url.and_then(|u| f.check("logo_url", web_url(&u)));
        let color_palette = self.color_palette.map(|p| {
            let mut c = |name: &str, v: Option<String>| {
                v.and_then(|v| f.check(&format!("color_palette.{name}"), hex_color(&v)))
            };
            let mut out = ColorPalette {
                primary: c("primary", p.primary),
                secondary: c("secondary", p.secondary),
                accent: c("accent", p.accent),
                background: c("background", p.background),
                text: c("text", p.text),
                palette: Vec::new(),
                contrast: Vec::new(),
            };
            out.palette = p
                .palette
                .into_iter()
                .take(24)
                .enumerate()
                .filter_map(|(i, mut e)| {
                    e.hex = f.check(
                        &format!("color_palette.palette[{i}].hex"),
                        hex_color(&e.hex),
                    )?;
                    e.evidence.truncate(12);
                    Some(e)
                })
                .collect();
            out.contrast = p
                .contrast
                .into_iter()
                .take(8)
                .enumerate()
                .filter_map(|(i, mut c)| {
                    let at = format!("color_palette.contrast[{i}]");
                    c.foreground =
                        f.check(&format!("{at}.foreground"), hex_color(&c.foreground))?;
                    c.background =
                        f.check(&format!("{at}.background"), hex_color(&c.background))?;
                    if !(1.0..=21.0).contains(&c.ratio) {
                        f.check::<()>(
                            &format!("{at}.ratio"),
                            Err(Invalid::new("out_of_range", "a contrast ratio is 1–21")),
                        );
                        return None;
                    }
                    Some(c)
                })
                .collect();
            out
        });
        let typography = self.typography.map(|t| {
            if let Some(size) = t.base_size_px.filter(|s| !(8..=72).contains(s)) {
                f.check::<()>(
                    "typography.base_size_px",
                    Err(Invalid::new(
                        "out_of_range",
                        format!("{size} is not within 8–72"),
                    )),
                );
            }
            Typography {
                heading_font: t
                    .heading_font
                    .and_then(|v| f.check("typography.heading_font", text(&v, 100))),
                body_font: t
                    .body_font
                    .and_then(|v| f.check("typography.body_font", text(&v, 100))),
                base_size_px: t.base_size_px,
                heading: t
                    .heading
                    .and_then(|h| font(&mut f, "typography.heading", h)),
                body: t.body.and_then(|b| font(&mut f, "typography.body", b)),
            }
        });
        let brand_voice = self.brand_voice.map(|v| BrandVoice {
            tone: v.tone,
            style: v
                .style
                .and_then(|s| f.check("brand_voice.style", text(&s, 100))),
            personality: v
                .personality
                .and_then(|s| f.check("brand_voice.personality", text(&s, 100))),
        });
        let messaging_patterns = self.messaging_patterns.map(|m| MessagingPatterns {
            key_phrases: phrases(&mut f, "messaging_patterns.key_phrases", m.key_phrases, 200),
            value_propositions: phrases(
                &mut f,
                "messaging_patterns.value_propositions",
                m.value_propositions,
                200,
            ),
            usps: phrases(&mut f, "messaging_patterns.usps", m.usps, 200),
            site_name: m
                .site_name
                .and_then(|v| f.check("messaging_patterns.site_name", text(&v, 200))),
            title: m
                .title
                .and_then(|v| f.check("messaging_patterns.title", text(&v, 300))),
            description: m
                .description
                .and_then(|v| f.check("messaging_patterns.description", text(&v, 500))),
            hero_headline: m
                .hero_headline
                .and_then(|v| f.check("messaging_patterns.hero_headline", text(&v, 300))),
            calls_to_action: phrases(
                &mut f,
                "messaging_patterns.calls_to_action",
                m.calls_to_action,
                200,
            ),
            claims: phrases(&mut f, "messaging_patterns.claims", m.claims, 300),
            social_proof: phrases(
                &mut f,
                "messaging_patterns.social_proof",
                m.social_proof,
                500,
            ),
        });
        let guidelines = self.guidelines.map(|g| BrandGuidelines {
            dos: phrases(&mut f, "guidelines.dos", g.dos, 300),
            donts: phrases(&mut f, "guidelines.donts", g.donts, 300),
            summary: g
                .summary
                .and_then(|s| f.check("guidelines.summary", text(&s, 2000))),
            key_phrases: phrases(&mut f, "guidelines.key_phrases", g.key_phrases, 200),
        });
        f.finish()?;
        Ok(Self {
            website_url,
            logo_url,
            color_palette,
            typography,
            brand_voice,
            messaging_patterns,
            guidelines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_types_and_budget_ranges_round_trip() {
        assert_eq!(
            BusinessType::parse("real_estate"),
            Some(BusinessType::RealEstate)
        );
        assert_eq!(BusinessType::RealEstate.as_str(), "real_estate");
        assert_eq!(
            BudgetRange::parse("10000-50000"),
            Some(BudgetRange::From10kTo50k)
        );
        assert_eq!(BudgetRange::Over10l.as_str(), "1000000+");
        assert!(BusinessType::parse("casino").is_none());
    }

    #[test]
    fn contrast_pairs_are_real_colours_and_ratios() {
        let input: BrandProfileInput = serde_json::from_value(serde_json::json!({
            "color_palette": {"contrast": [
                {"foreground": "", "background": "#000000", "ratio": 0.0, "passes_aa": false},
                {"foreground": "#FFFFFF", "background": "#000000", "ratio": 21.0, "passes_aa": true}
            ]}
        }))
        .unwrap();
        let crate::AppError::Validation(errors) = input.validate().unwrap_err() else {
            panic!()
        };
        let names: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(names, ["color_palette.contrast[0].foreground"]);
    }

    #[test]
    fn brand_fields_are_checked_with_their_paths() {
        let input: BrandProfileInput = serde_json::from_value(serde_json::json!({
            "color_palette": {"primary": "#2e86ab", "accent": "green"},
            "typography": {"base_size_px": 200},
            "messaging_patterns": {"key_phrases": ["ok", " "]}
        }))
        .unwrap();
        let crate::AppError::Validation(errors) = input.validate().unwrap_err() else {
            panic!()
        };
        let names: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            names,
            [
                "color_palette.accent",
                "typography.base_size_px",
                "messaging_patterns.key_phrases[1]"
            ]
        );
    }
}
