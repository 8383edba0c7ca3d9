//! What one HTML page says about its brand, read once right after it is fetched (the
//! parsed document is not kept): metadata, JSON-LD, stylesheets and inline styles, logo
//! and icon candidates, links, and the visible text that carries its messaging. Text in
//! cookie banners, hidden elements, scripts and templates is not read.

use scraper::{ElementRef, Html, Selector};
use serde_json::Value;
use url::Url;

/// A place a logo may be found, in the order of trust `logo::candidates` gives them.
#[derive(Clone, Debug, PartialEq)]
pub enum LogoSource {
    JsonLd(Url),
    HeaderImage(Url),
    InlineSvg(String),
    AppleTouchIcon(Url),
    Manifest(Url),
    Icon(Url),
    OgImage(Url),
}

#[derive(Clone, Debug, Default)]
pub struct PageFacts {
    pub url: Option<Url>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub site_name: Option<String>,
    pub theme_color: Option<String>,
    pub json_ld: Vec<Value>,
    pub stylesheets: Vec<Url>,
    pub inline_css: Vec<String>,
    /// `style="…"` attributes with the element's role (button, link, header, body, heading).
    pub inline_styles: Vec<(String, String)>,
    pub google_fonts: Vec<String>,
    pub logos: Vec<LogoSource>,
    pub links: Vec<(Url, String)>,
    pub h1: Vec<String>,
    pub subheadings: Vec<String>,
    pub calls_to_action: Vec<String>,
    pub paragraphs: Vec<String>,
    pub testimonials: Vec<String>,
}

fn sel(css: &str) -> Selector {
    Selector::parse(css).expect("a valid selector")
}

fn clean(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Classes and ids of what a visitor does not read as the page: consent banners and
/// screen-reader-only text.
const HIDDEN_MARKS: [&str; 6] = [
    "cookie",
    "consent",
    "gdpr",
    "sr-only",
    "visually-hidden",
    "screen-reader-text",
];

/// Whether an element and all its ancestors are shown, and none is a cookie banner.
fn visible(el: ElementRef) -> bool {
    std::iter::once(el)
        .chain(el.ancestors().filter_map(ElementRef::wrap))
        .all(|e| {
            let v = e.value();
            let hidden_tag = matches!(
                v.name(),
                "script" | "style" | "noscript" | "template" | "head" | "title"
            );
            let style = v
                .attr("style")
                .unwrap_or("")
                .replace(' ', "")
                .to_ascii_lowercase();
            let marks = format!(
                "{} {}",
                v.attr("id").unwrap_or(""),
                v.attr("class").unwrap_or("")
            )
            .to_ascii_lowercase();
            !hidden_tag
                && v.attr("hidden").is_none()
                && v.attr("aria-hidden") != Some("true")
                && !style.contains("display:none")
                && !style.contains("visibility:hidden")
                && !HIDDEN_MARKS.iter().any(|m| marks.contains(m))
        })
}

/// The element's text without its hidden parts (a screen-reader-only span in a heading).
fn text_of(el: ElementRef) -> String {
    let text: String = el
        .descendants()
        .filter_map(|n| {
            let t = n.value().as_text()?;
            let parent = n.parent().and_then(ElementRef::wrap)?;
            visible(parent).then_some(&**t)
        })
        .collect();
    clean(&text)
}

fn visible_texts(doc: &Html, css: &str, max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for el in doc.select(&sel(css)).filter(|e| visible(*e)) {
        let t = text_of(el);
        if !t.is_empty() && t.chars().count() <= 300 && !out.contains(&t) {
            out.push(t);
        }
        if out.len() >= max {
            break;
        }
    }
    out
}

fn attr_url(base: &Url, el: ElementRef, name: &str) -> Option<Url> {
    let raw = el.value().attr(name)?.trim();
    if raw.is_empty() || raw.starts_with("data:") || raw.starts_with("javascript:") {
        return None;
    }
    base.join(raw).ok()
}

fn meta(doc: &Html, key: &str) -> Option<String> {
    let css = format!("meta[name=\"{key}\"], meta[property=\"{key}\"]");
    doc.select(&sel(&css))
        .find_map(|m| m.value().attr("content"))
        .map(clean)
        .filter(|s| !s.is_empty())
}

fn rel_has(el: ElementRef, word: &str) -> bool {
    el.value()
        .attr("rel")
        .is_some_and(|r| r.split_whitespace().any(|w| w.eq_ignore_ascii_case(word)))
}

const THIRD_PARTY: [&str; 9] = [
    "facebook",
    "instagram",
    "twitter",
    "whatsapp",
    "youtube",
    "linkedin",
    "google",
    "apple",
    "visa",
];

/// Named like a logo, and not a third party's (a Facebook icon is a social link).
fn is_logo_like(el: ElementRef) -> bool {
    let v = el.value();
    let marks: Vec<String> = ["id", "class", "alt", "src", "aria-label"]
        .iter()
        .filter_map(|a| v.attr(a))
        .map(str::to_ascii_lowercase)
        .collect();
    marks.iter().any(|a| a.contains("logo")) && !is_third_party(&marks)
}

fn is_third_party(marks: &[String]) -> bool {
    marks
        .iter()
        .any(|m| THIRD_PARTY.iter().any(|t| m.contains(t)))
}

/// `/`, the site's base path, or a language root such as `/en` or `/en-in/`.
fn is_home_path(path: &str, base: &Url) -> bool {
    let p = path.trim_end_matches('/');
    let lang = p.strip_prefix('/').is_some_and(|l| {
        let parts: Vec<&str> = l.split('-').collect();
        (1..=2).contains(&parts.len())
            && parts
                .iter()
                .all(|x| x.len() == 2 && x.bytes().all(|b| b.is_ascii_alphabetic()))
    });
    p.is_empty() || lang || path == base.path()
}

fn links_home(el: ElementRef, base: &Url) -> bool {
    let marks: Vec<String> = ["alt", "src", "class", "aria-label"]
        .iter()
        .filter_map(|a| el.value().attr(a))
        .map(str::to_ascii_lowercase)
        .collect();
    !is_third_party(&marks)
        && el.ancestors().filter_map(ElementRef::wrap).any(|a| {
            a.value().name() == "a"
                && attr_url(base, a, "href")
                    .is_some_and(|u| u.host() == base.host() && is_home_path(u.path(), base))
        })
}

/// Reads one page; `base` is the URL it was fetched from (after redirects).
pub fn read(base: &Url, html: &str) -> PageFacts {
    let doc = Html::parse_document(html);
    let mut f = PageFacts {
        url: Some(base.clone()),
        title: doc
            .select(&sel("title"))
            .next()
            .map(|t| clean(&t.text().collect::<String>()))
            .filter(|s| !s.is_empty()),
        description: meta(&doc, "description").or_else(|| meta(&doc, "og:description")),
        site_name: meta(&doc, "og:site_name").or_else(|| meta(&doc, "application-name")),
        theme_color: meta(&doc, "theme-color"),
        ..PageFacts::default()
    };
    for s in doc.select(&sel("script[type=\"application/ld+json\"]")) {
        match serde_json::from_str::<Value>(&s.text().collect::<String>()) {
            Ok(Value::Array(items)) => f.json_ld.extend(items),
            Ok(v) => f.json_ld.push(v),
            Err(_) => {}
        }
    }
    read_styles(&doc, base, &mut f);
    read_logos(&doc, base, &mut f);
    for a in doc.select(&sel("a[href]")) {
        if let Some(u) = attr_url(base, a, "href") {
            f.links.push((u, text_of(a)));
        }
    }
    f.h1 = visible_texts(&doc, "h1", 3);
    f.subheadings = visible_texts(&doc, "h2, h3", 12);
    f.calls_to_action = visible_texts(
        &doc,
        "button, a.btn, a.button, a[class*=\"cta\"], a[class*=\"button\"], a[role=\"button\"], input[type=\"submit\"]",
        6,
    );
    f.paragraphs = visible_texts(&doc, "main p, section p, header p, p", 40);
    f.testimonials = visible_texts(
        &doc,
        "blockquote, [class*=\"testimonial\"] p, [class*=\"review\"] p, [class*=\"testimonial\"] q",
        6,
    );
    f
}

fn read_styles(doc: &Html, base: &Url, f: &mut PageFacts) {
    for l in doc.select(&sel("link[href]")) {
        let Some(u) = attr_url(base, l, "href") else {
            continue;
        };
        if u.host_str() == Some("fonts.googleapis.com") {
            f.google_fonts.extend(google_families(&u));
        } else if rel_has(l, "stylesheet") {
            f.stylesheets.push(u);
        }
    }
    for s in doc.select(&sel("style")) {
        f.inline_css.push(s.text().collect());
    }
    // Inline @import of Google Fonts is common too.
    for css in f.inline_css.clone() {
        for line in css.split(';') {
            if let Some(i) = line.find("fonts.googleapis.com")
                && let Some(start) = line[..i].rfind(['"', '\'', '('])
                && let Ok(u) = Url::parse(line[start + 1..].trim_end_matches(['"', '\'', ')']))
            {
                f.google_fonts.extend(google_families(&u));
            }
        }
    }
    let roles = [
        ("body, html", "body"),
        (
            "button, .btn, a.button, [class*=\"cta\"], input[type=\"submit\"]",
            "button",
        ),
        ("[class*=\"brand\"], [class*=\"logo\"]", "brand"),
        ("a", "link"),
        ("header, nav, .navbar, .hero, [class*=\"hero\"]", "header"),
        ("h1, h2", "heading"),
    ];
    for (css, role) in roles {
        for el in doc.select(&sel(css)) {
            if let Some(style) = el.value().attr("style") {
                f.inline_styles.push((role.to_owned(), style.to_owned()));
            }
        }
    }
}

/// Family names in a Google Fonts stylesheet URL (`family=Playfair+Display:wght@700`).
pub fn google_families(u: &Url) -> Vec<String> {
    u.query_pairs()
        .filter(|(k, _)| k == "family")
        .flat_map(|(_, v)| {
            v.split('|')
                .map(|f| {
                    f.split(':')
                        .next()
                        .unwrap_or("")
                        .replace('+', " ")
                        .trim()
                        .to_owned()
                })
                .filter(|f| !f.is_empty())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn read_logos(doc: &Html, base: &Url, f: &mut PageFacts) {
    for img in doc.select(&sel("header img, nav img, a img, img")) {
        if (is_logo_like(img) || links_home(img, base))
            && visible(img)
            && let Some(u) = attr_url(base, img, "src")
        {
            f.logos.push(LogoSource::HeaderImage(u));
            break;
        }
    }
    for svg in doc.select(&sel("header svg, nav svg, a svg")) {
        if is_logo_like(svg) || links_home(svg, base) {
            f.logos.push(LogoSource::InlineSvg(svg.html()));
            break;
        }
    }
    let mut icons: Vec<(u32, Url)> = Vec::new();
    for l in doc.select(&sel("link[href][rel]")) {
        let Some(u) = attr_url(base, l, "href") else {
            continue;
        };
        if rel_has(l, "apple-touch-icon") {
            f.logos.push(LogoSource::AppleTouchIcon(u));
        } else if rel_has(l, "manifest") {
            f.logos.push(LogoSource::Manifest(u));
        } else if rel_has(l, "icon") {
            let size = l
                .value()
                .attr("sizes")
                .and_then(|s| s.split(['x', 'X']).next()?.parse().ok())
                .unwrap_or(0);
            icons.push((size, u));
        }
    }
    icons.sort_by_key(|(size, _)| std::cmp::Reverse(*size));
    f.logos
        .extend(icons.into_iter().map(|(_, u)| LogoSource::Icon(u)));
    if let Some(u) = meta(doc, "og:image").and_then(|m| base.join(&m).ok()) {
        f.logos.push(LogoSource::OgImage(u));
    }
    for item in &f.json_ld {
        for node in json_ld_nodes(item) {
            let logo = &node["logo"];
            let raw = logo.as_str().or_else(|| logo["url"].as_str());
            if let Some(u) = raw.and_then(|r| base.join(r).ok()) {
                f.logos.insert(0, LogoSource::JsonLd(u));
            }
        }
    }
}

/// A JSON-LD document's nodes: itself and its `@graph`.
pub fn json_ld_nodes(v: &Value) -> Vec<&Value> {
    let mut out = vec![v];
    if let Some(graph) = v["@graph"].as_array() {
        out.extend(graph.iter());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://cafe.example/").unwrap()
    }

    #[test]
    fn hidden_text_and_cookie_banners_are_not_messaging() {
        let f = read(
            &base(),
            r#"<html><body>
              <div id="cookie-banner"><p>We use cookies to improve your experience</p><button>Accept all</button></div>
              <h1>Fresh coffee, roasted daily</h1>
              <p hidden>secret</p><p style="display: none">also secret</p>
              <section><p>Family-run since 1998.</p><a class="btn" href="/menu">See the menu</a></section>
            </body></html>"#,
        );
        assert_eq!(f.h1, ["Fresh coffee, roasted daily"]);
        assert_eq!(f.paragraphs, ["Family-run since 1998."]);
        assert_eq!(f.calls_to_action, ["See the menu"]);
    }

    #[test]
    fn a_social_icon_linking_home_is_not_the_logo_but_a_language_root_link_is() {
        let f = read(
            &base(),
            r#"<header><a href="/"><img src="/icons/facebook.svg" alt="Facebook"></a>
               <a href="/en-in/"><img src="/img/mark.png" alt="Bean There"></a>
               <h1>Hi<span class="sr-only"> (home)</span></h1><p class="visually-hidden">Skip to content</p></header>"#,
        );
        assert_eq!(
            f.logos,
            [LogoSource::HeaderImage(
                base().join("/img/mark.png").unwrap()
            )]
        );
        assert_eq!(f.h1, ["Hi"]);
        assert!(f.paragraphs.is_empty());
    }

    #[test]
    fn logo_candidates_come_in_order_of_trust() {
        let f = read(
            &base(),
            r#"<html><head>
              <link rel="icon" href="/favicon-16.png" sizes="16x16"><link rel="icon" href="/favicon-64.png" sizes="64x64">
              <link rel="apple-touch-icon" href="/apple.png"><meta property="og:image" content="/share.jpg">
              <script type="application/ld+json">{"@context":"https://schema.org","@type":"Organization","logo":{"@type":"ImageObject","url":"/brand/logo.png"}}</script>
              <link rel="stylesheet" href="/site.css"><link href="https://fonts.googleapis.com/css2?family=Playfair+Display:wght@700&family=Lato:wght@400" rel="stylesheet">
            </head><body><header><a href="/"><img src="/img/mark.png" alt="Bean There"></a></header></body></html>"#,
        );
        let u = |p: &str| base().join(p).unwrap();
        assert_eq!(
            f.logos,
            [
                LogoSource::JsonLd(u("/brand/logo.png")),
                LogoSource::HeaderImage(u("/img/mark.png")),
                LogoSource::AppleTouchIcon(u("/apple.png")),
                LogoSource::Icon(u("/favicon-64.png")),
                LogoSource::Icon(u("/favicon-16.png")),
                LogoSource::OgImage(u("/share.jpg")),
            ]
        );
        assert_eq!(f.google_fonts, ["Playfair Display", "Lato"]);
        assert_eq!(f.stylesheets, [u("/site.css")]);
    }
}
