//! What a site's styles say: colour observations for the palette (what each selector is
//! for decides a sighting's weight) and the heading and body typefaces. Custom properties
//! are resolved (`var(--brand, #c00)`), and generic families are dropped.

use std::collections::HashMap;

use shared::domain::profile::{ColourRole, FontChoice, FontSource, Typography};

use crate::brand_colours::Observation;
use crate::colour;
use crate::css::Rule;

/// All the rules of a site, in cascade order, with its custom properties.
pub struct Styles<'a> {
    rules: Vec<&'a Rule>,
    vars: HashMap<&'a str, &'a str>,
}

impl<'a> Styles<'a> {
    pub fn new(rules: impl IntoIterator<Item = &'a Rule>) -> Self {
        let rules: Vec<&Rule> = rules.into_iter().collect();
        let mut vars = HashMap::new();
        for r in &rules {
            for (name, value) in &r.declarations {
                if name.starts_with("--") {
                    vars.insert(name.as_str(), value.as_str());
                }
            }
        }
        Self { rules, vars }
    }

    /// `value` with every `var(--x, fallback)` replaced (five levels deep at most).
    pub fn resolve(&self, value: &str) -> String {
        let mut v = value.to_owned();
        for _ in 0..5 {
            let Some(start) = v.find("var(") else { break };
            let Some(len) = closing(&v[start + 4..]) else {
                break;
            };
            let inner = &v[start + 4..start + 4 + len];
            let (name, fallback) = match inner.split_once(',') {
                Some((n, f)) => (n.trim(), Some(f.trim())),
                None => (inner.trim(), None),
            };
            let replacement = self
                .vars
                .get(name)
                .copied()
                .or(fallback)
                .unwrap_or("")
                .to_owned();
            v.replace_range(start..start + 4 + len + 1, &replacement);
        }
        v
    }
}

/// The length of a parenthesised body up to its matching `)`.
fn closing(s: &str) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return Some(i),
            ')' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// What a selector styles, as far as the palette cares.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Page,
    /// The brand's own marks: `.brand`, `.logo`, `.navbar-brand`.
    Brand,
    Button,
    Link,
    Header,
    Heading,
    Status,
    Other,
}

fn target_of(selectors: &str) -> Target {
    let s = selectors.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| s.contains(w));
    let last_compound = |part: &str| {
        part.rsplit([' ', '>', '+', '~'])
            .next()
            .unwrap_or("")
            .split([':', '.', '[', '#'])
            .next()
            .unwrap_or("")
            .to_owned()
    };
    let elements: Vec<String> = s.split(',').map(|p| last_compound(p.trim())).collect();
    if has(&[
        "error", "danger", "success", "warning", "alert", "invalid", "valid", "toast",
    ]) {
        Target::Status
    } else if elements.iter().any(|e| e == "body" || e == "html") || s.trim() == ":root" {
        Target::Page
    } else if has(&["brand", "logo"]) {
        Target::Brand
    } else if has(&["btn", "button", "cta", "[type=submit]", "[type=\"submit\"]"]) {
        Target::Button
    } else if has(&["header", "nav", "hero", "banner", "masthead", "topbar"]) {
        Target::Header
    } else if elements
        .iter()
        .any(|e| matches!(e.as_str(), "h1" | "h2" | "h3"))
    {
        Target::Heading
    } else if elements.iter().any(|e| e == "a") {
        Target::Link
    } else {
        Target::Other
    }
}

fn var_role(name: &str) -> (Option<ColourRole>, f32, bool) {
    let n = name.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| n.contains(w));
    if has(&["error", "danger", "success", "warning", "info", "alert"]) {
        (None, 1.0, true)
    } else if has(&["primary", "brand", "main"]) {
        (Some(ColourRole::Primary), 10.0, false)
    } else if has(&["secondary"]) {
        (Some(ColourRole::Secondary), 8.0, false)
    } else if has(&["accent", "highlight", "tertiary"]) {
        (Some(ColourRole::Accent), 8.0, false)
    } else if has(&["background", "bg", "surface", "base"]) {
        (Some(ColourRole::Background), 2.0, false)
    } else if has(&["text", "foreground", "fg", "body", "ink"]) {
        (Some(ColourRole::Text), 2.0, false)
    } else {
        (None, 1.0, false)
    }
}

const COLOUR_PROPERTIES: [&str; 7] = [
    "color",
    "background",
    "background-color",
    "border-color",
    "border",
    "fill",
    "outline-color",
];

/// One sighting per colour in each colour declaration, weighted by what it styles.
pub fn observations(
    styles: &Styles,
    inline: &[(String, Vec<(String, String)>)],
) -> Vec<Observation> {
    let mut out = Vec::new();
    for r in &styles.rules {
        for (name, value) in &r.declarations {
            if let Some(var) = name.strip_prefix("--") {
                let (hint, weight, status) = var_role(var);
                if let Some(c) = colour::parse(&styles.resolve(value)) {
                    out.push(Observation {
                        colour: c,
                        weight,
                        evidence: format!("css var {name}"),
                        hint,
                        status,
                    });
                }
                continue;
            }
            if COLOUR_PROPERTIES.contains(&name.as_str()) {
                out.extend(sightings(
                    target_of(&r.selectors),
                    name,
                    &styles.resolve(value),
                ));
            }
        }
    }
    for (role, decls) in inline {
        let target = match role.as_str() {
            "body" => Target::Page,
            "button" => Target::Button,
            "link" => Target::Link,
            "header" => Target::Header,
            "heading" => Target::Heading,
            "brand" => Target::Brand,
            _ => Target::Other,
        };
        for (name, value) in decls {
            if COLOUR_PROPERTIES.contains(&name.as_str()) {
                out.extend(sightings(target, name, &styles.resolve(value)));
            }
        }
    }
    out
}

fn sightings(target: Target, property: &str, value: &str) -> Vec<Observation> {
    let background = property.starts_with("background");
    let text = property == "color";
    let (weight, hint, what) = match target {
        Target::Page if background => (6.0, Some(ColourRole::Background), "page background"),
        Target::Page if text => (6.0, Some(ColourRole::Text), "body text"),
        Target::Brand => (8.0, None, "brand or logo element"),
        Target::Button if background => (6.0, None, "button background"),
        Target::Button => (2.0, None, "button colour"),
        Target::Header if background => (5.0, None, "header background"),
        Target::Link if text => (4.0, None, "link colour"),
        Target::Heading if text => (3.0, None, "heading colour"),
        Target::Status => (1.0, None, "status colour"),
        _ => (1.0, None, "used in styles"),
    };
    colour::all_in(value)
        .into_iter()
        .map(|c| Observation {
            colour: c,
            weight,
            evidence: what.to_owned(),
            hint,
            status: target == Target::Status,
        })
        .collect()
}

const GENERIC: [&str; 14] = [
    "serif",
    "sans-serif",
    "monospace",
    "cursive",
    "fantasy",
    "system-ui",
    "ui-sans-serif",
    "ui-serif",
    "-apple-system",
    "blinkmacsystemfont",
    "inherit",
    "initial",
    "unset",
    "emoji",
];

/// The first named family in a `font-family` list; None when all are generic.
pub fn first_family(value: &str) -> Option<String> {
    value
        .split(',')
        .map(|f| f.trim().trim_matches(['"', '\'']).trim().to_owned())
        .find(|f| {
            !f.is_empty() && !GENERIC.contains(&f.to_ascii_lowercase().as_str()) && !f.contains('(')
        })
}

fn weight_of(value: &str) -> Option<u16> {
    match value.trim() {
        "bold" | "bolder" => Some(700),
        "normal" | "lighter" => Some(400),
        v => v.parse().ok().filter(|w| (1..=1000).contains(w)),
    }
}

/// Heading and body families with their weights and source.
pub fn typography(
    styles: &Styles,
    google_fonts: &[String],
    font_faces: &[String],
) -> Option<Typography> {
    let choose = |wanted: &dyn Fn(&str) -> bool| -> Option<FontChoice> {
        let mut family = None;
        let mut weights: Vec<u16> = Vec::new();
        for r in styles.rules.iter().filter(|r| wanted(&r.selectors)) {
            let shorthand = r.get("font").map(|f| styles.resolve(f));
            let fam = r.get("font-family").map(|f| styles.resolve(f)).or_else(|| {
                shorthand
                    .as_ref()
                    .and_then(|s| s.split_once(' ').map(|(_, f)| f.to_owned()))
            });
            if let Some(f) = fam.as_deref().and_then(first_family) {
                family = Some(f);
            }
            if let Some(w) = r
                .get("font-weight")
                .and_then(|w| weight_of(&styles.resolve(w)))
                && !weights.contains(&w)
            {
                weights.push(w);
            }
        }
        let family = family?;
        let source = if google_fonts.iter().any(|g| g.eq_ignore_ascii_case(&family)) {
            FontSource::GoogleFonts
        } else if font_faces.iter().any(|g| g.eq_ignore_ascii_case(&family)) {
            FontSource::FontFace
        } else {
            FontSource::System
        };
        weights.sort_unstable();
        Some(FontChoice {
            family,
            weights,
            source,
        })
    };
    let is_heading = |s: &str| {
        s.to_ascii_lowercase()
            .split(',')
            .any(|p| matches!(p.trim().rsplit([' ', '>']).next(), Some("h1" | "h2")))
    };
    let is_body = |s: &str| {
        s.to_ascii_lowercase()
            .split(',')
            .any(|p| matches!(p.trim(), "body" | "html" | ":root"))
    };
    let body = choose(&is_body);
    let heading = choose(&is_heading).or_else(|| body.clone());
    if heading.is_none() && body.is_none() {
        return None;
    }
    let base_size_px = styles
        .rules
        .iter()
        .filter(|r| is_body(&r.selectors))
        .filter_map(|r| r.get("font-size"))
        .filter_map(|s| s.trim().strip_suffix("px")?.trim().parse::<f32>().ok())
        .map(|px| px.round() as u8)
        .find(|px| (8..=72).contains(px));
    Some(Typography {
        heading_font: heading.as_ref().map(|h| h.family.clone()),
        body_font: body.as_ref().map(|b| b.family.clone()),
        base_size_px,
        heading,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::css;

    #[test]
    fn custom_properties_resolve_and_decide_roles() {
        let sheet = css::parse(
            ":root { --brand: #C0392B; --ink: #222; --danger: #dc3545 }
             body { background: #fff; color: var(--ink) }
             .btn-primary { background-color: var(--brand, #000) }
             .alert-danger { color: var(--danger) }",
        );
        let styles = Styles::new(&sheet.rules);
        assert_eq!(styles.resolve("var(--nope, var(--brand))"), "#C0392B");
        let obs = observations(&styles, &[]);
        let brand: Vec<_> = obs.iter().filter(|o| o.colour.hex() == "#C0392B").collect();
        assert_eq!(brand.len(), 2);
        assert!(brand.iter().any(|o| o.hint == Some(ColourRole::Primary)));
        assert!(
            obs.iter()
                .filter(|o| o.colour.hex() == "#DC3545")
                .all(|o| o.status)
        );
        let palette = crate::brand_colours::palette(&obs);
        assert_eq!(palette.primary.as_deref(), Some("#C0392B"));
        assert_eq!(palette.text.as_deref(), Some("#222222"));
    }

    #[test]
    fn heading_and_body_families_with_weights_and_source() {
        let sheet = css::parse(
            r#":root { --font-head: "Playfair Display", Georgia, serif }
               body { font-family: -apple-system, "Lato", sans-serif; font-size: 16px }
               h1, h2 { font-family: var(--font-head); font-weight: 700 }
               h2 { font-weight: 600 }"#,
        );
        let styles = Styles::new(&sheet.rules);
        let t = typography(&styles, &["Playfair Display".into()], &["Lato".into()]).unwrap();
        let h = t.heading.unwrap();
        assert_eq!(h.family, "Playfair Display");
        assert_eq!(h.weights, [600, 700]);
        assert_eq!(h.source, FontSource::GoogleFonts);
        let b = t.body.unwrap();
        assert_eq!(
            (b.family.as_str(), b.source),
            ("Lato", FontSource::FontFace)
        );
        assert_eq!(t.base_size_px, Some(16));
        assert_eq!(first_family("system-ui, sans-serif"), None);
    }
}
