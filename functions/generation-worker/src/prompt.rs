//! The prompt sent to the model: the user's words, the style and format, and — when
//! asked — the brand profile's palette, voice, phrases and guidelines.

use shared::domain::asset::{AssetType, Format};
use shared::repo::profiles::BrandProfile;

pub fn build(
    kind: AssetType,
    prompt: &str,
    format: Format,
    style: Option<&str>,
    brand: Option<&BrandProfile>,
) -> String {
    let mut lines = vec![prompt.trim().to_owned()];
    if let Some(style) = style {
        lines.push(format!("Style: {style}."));
    }
    lines.push(format!(
        "A {} social media ad ({}) for Facebook and Instagram; no text overlays unless asked.",
        kind.as_str(),
        format.as_str()
    ));
    if let Some(b) = brand {
        lines.extend(brand_lines(b));
    }
    lines.join("\n")
}

fn brand_lines(b: &BrandProfile) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = &b.color_palette {
        let colours: Vec<String> = [
            ("primary", &p.primary),
            ("secondary", &p.secondary),
            ("accent", &p.accent),
            ("background", &p.background),
        ]
        .into_iter()
        .filter_map(|(name, c)| c.as_ref().map(|c| format!("{name} {c}")))
        .collect();
        if !colours.is_empty() {
            out.push(format!("Brand colours: {}.", colours.join(", ")));
        }
    }
    if let Some(t) = &b.typography {
        let fonts: Vec<String> = [("headlines", &t.heading_font), ("body text", &t.body_font)]
            .into_iter()
            .filter_map(|(what, f)| f.as_ref().map(|f| format!("{what} in {f}")))
            .collect();
        if !fonts.is_empty() {
            out.push(format!(
                "Typography (for any text asked for): {}.",
                fonts.join(", ")
            ));
        }
    }
    if b.logo_url.is_some() {
        out.push(
            "The attached image is the brand's logo: if the ad shows a logo, use this one, small and unaltered."
                .to_owned(),
        );
    }
    if let Some(v) = &b.brand_voice {
        let parts: Vec<String> = [
            v.tone.map(|t| format!("{t:?}").to_lowercase()),
            v.style.clone(),
            v.personality.clone(),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !parts.is_empty() {
            out.push(format!("Brand voice: {}.", parts.join(", ")));
        }
    }
    if let Some(m) = &b.messaging_patterns
        && !m.key_phrases.is_empty()
    {
        out.push(format!("Key phrases: {}.", m.key_phrases.join("; ")));
    }
    if let Some(g) = &b.guidelines {
        if !g.dos.is_empty() {
            out.push(format!("Do: {}.", g.dos.join("; ")));
        }
        if !g.donts.is_empty() {
            out.push(format!("Don't: {}.", g.donts.join("; ")));
        }
    }
    out
}
