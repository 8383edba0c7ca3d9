//! One analysis, start to end: read the site, weigh its colours and type, find its logo,
//! gather its words and social profiles, and have its voice written. Progress is
//! reported on the job as each step ends.

use serde_json::json;
use shared::repo::profiles::{Analysis, BrandKit};
use shared::webfetch::fetcher::Fetcher;
use url::Url;

use crate::crawl::{self, Crawler, Site};
use crate::css;
use crate::logo::{self, Logo};
use crate::page::PageFacts;
use crate::styles::{self, Styles};
use crate::voice::{self, Facts, Gemini};

/// What an analysis learned; the logo is stored by the caller.
pub struct Learned {
    pub analysis: Analysis,
    pub logo: Option<Logo>,
}

/// Reads the site, calling `progress` (0–100) as each step ends; Err is the reason a
/// person reads on the failed job.
pub async fn site(
    fetcher: &Fetcher,
    gemini: Option<&Gemini>,
    url: &Url,
    progress: impl AsyncFn(i16),
) -> Result<Learned, String> {
    let mut crawler = Crawler::new(fetcher);
    let home = crawl::home(&mut crawler, url).await?;
    progress(20).await;
    let base = home.url.clone().unwrap_or_else(|| url.clone());
    let chosen = crawl::pages_worth_reading(&home, &base);
    let pages = crawl::pages(&mut crawler, &chosen).await;
    progress(40).await;
    let sheet_urls: Vec<Url> = std::iter::once(&home)
        .chain(&pages)
        .flat_map(|p| p.stylesheets.iter().cloned())
        .collect();
    let sheets = crawl::stylesheets(&mut crawler, sheet_urls).await;
    progress(60).await;
    let logo = logo::find(&mut crawler, home.logos.clone()).await;
    progress(75).await;
    let site = Site {
        robots: crawler.robots_decisions(),
        visits: std::mem::take(&mut crawler.visits),
        home,
        pages,
        sheets,
    };
    let analysis = learn(gemini, &site, logo.as_ref(), url).await;
    progress(90).await;
    Ok(Learned { analysis, logo })
}

fn all_pages(site: &Site) -> Vec<&PageFacts> {
    std::iter::once(&site.home).chain(&site.pages).collect()
}

/// Everything the site's facts say, as a brand kit (the logo's URL is set by the caller).
pub async fn learn(
    gemini: Option<&Gemini>,
    site: &Site,
    logo: Option<&Logo>,
    url: &Url,
) -> Analysis {
    let pages = all_pages(site);
    let inline_sheets: Vec<css::Sheet> = pages
        .iter()
        .flat_map(|p| p.inline_css.iter().map(|c| css::parse(c)))
        .collect();
    let rules = site
        .sheets
        .iter()
        .chain(&inline_sheets)
        .flat_map(|s| &s.rules);
    let styles = Styles::new(rules);
    let inline: Vec<(String, Vec<(String, String)>)> = pages
        .iter()
        .flat_map(|p| &p.inline_styles)
        .map(|(role, style)| (role.clone(), css::declarations(style)))
        .collect();
    let mut observations = styles::observations(&styles, &inline);
    if let Some(c) = site
        .home
        .theme_color
        .as_deref()
        .and_then(crate::colour::parse)
    {
        observations.push(crate::brand_colours::Observation {
            colour: c,
            weight: 8.0,
            evidence: "meta theme-color".into(),
            hint: None,
            status: false,
        });
    }
    if let Some(l) = logo {
        observations.extend(logo::colours(l));
    }
    let palette = crate::brand_colours::palette(&observations);
    let google_fonts: Vec<String> = pages
        .iter()
        .flat_map(|p| p.google_fonts.iter().cloned())
        .collect();
    let font_faces: Vec<String> = site
        .sheets
        .iter()
        .chain(&inline_sheets)
        .flat_map(|s| &s.font_faces)
        .filter_map(|f| f.get("font-family").and_then(styles::first_family))
        .collect();
    let typography = styles::typography(&styles, &google_fonts, &font_faces);
    let messaging = crate::messaging::patterns(&site.home, &site.pages);
    let social = crate::social::profiles(&pages);
    let text_sample: String = pages
        .iter()
        .flat_map(|p| p.h1.iter().chain(&p.subheadings).chain(&p.paragraphs))
        .take(60)
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    let facts = Facts {
        business: messaging.site_name.as_deref(),
        messaging: &messaging,
        primary: palette.primary.as_deref(),
        heading_font: typography.as_ref().and_then(|t| t.heading_font.as_deref()),
        text_sample: text_sample.chars().take(4000).collect(),
    };
    let voice = voice::write(gemini, &facts).await;
    let website_analysis = json!({
        "url": url.as_str(),
        "final_url": site.home.url.as_ref().map(Url::as_str),
        "pages": pages.iter().filter_map(|p| p.url.as_ref().map(Url::as_str)).collect::<Vec<_>>(),
        "robots": site.robots,
        "fetches": site.visits,
        "stylesheets_read": site.sheets.len(),
        "colour_observations": observations.len(),
        "fonts": {"google_fonts": google_fonts, "font_face": font_faces},
        "logo": logo.map(|l| json!({"source": l.source, "from": l.from, "kind": l.kind,
                                   "width": l.width, "height": l.height, "shape": l.shape(), "bytes": l.bytes.len()})),
        "voice_written_by": voice.written_by,
        "user_agent": crawl::USER_AGENT,
    });
    Analysis {
        website_url: url.to_string(),
        kit: BrandKit {
            logo_url: None,
            color_palette: Some(palette),
            typography,
            brand_voice: Some(voice.voice),
            messaging_patterns: Some(messaging),
            guidelines: Some(voice.guidelines),
        },
        social,
        website_analysis,
    }
}
