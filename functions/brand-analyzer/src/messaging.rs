//! The business's own words: its name, title, description, hero headline, calls to
//! action, value propositions, claims and social proof, and the phrases it repeats.

use shared::domain::profile::MessagingPatterns;

use crate::page::{PageFacts, json_ld_nodes};

fn dedupe(items: impl IntoIterator<Item = String>, max: usize, max_chars: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        let i = i.trim().to_owned();
        if i.is_empty() || i.chars().count() > max_chars {
            continue;
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&i)) {
            out.push(i);
        }
        if out.len() == max {
            break;
        }
    }
    out
}

/// Sentences: ended by `.`, `!` or `?` before a space or the end (so 4.8 stays whole).
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (n, (i, c)) in chars.iter().enumerate() {
        let at_end = chars
            .get(n + 1)
            .is_none_or(|(_, next)| next.is_whitespace());
        if matches!(c, '.' | '!' | '?') && at_end {
            out.push(text[start..i + c.len_utf8()].trim());
            start = i + c.len_utf8();
        }
    }
    out.push(text[start..].trim());
    out.retain(|s| s.len() > 3);
    out
}

const CLAIM_MARKERS: [&str; 16] = [
    "since 1",
    "since 2",
    "years",
    "award",
    "certified",
    "licensed",
    "#1",
    "best",
    "trusted",
    "guarantee",
    "organic",
    "handmade",
    "fresh",
    "free delivery",
    "%",
    "accredited",
];
const PROOF_MARKERS: [&str; 7] = [
    "rated",
    "stars",
    "★",
    "reviews",
    "customers",
    "patients",
    "5/5",
];

/// The organisation's name in JSON-LD, if any.
pub fn json_ld_name(home: &PageFacts) -> Option<String> {
    home.json_ld.iter().flat_map(json_ld_nodes).find_map(|n| {
        let kind = n["@type"].as_str().unwrap_or_default();
        let business = kind.contains("Organization")
            || kind.contains("Business")
            || matches!(
                kind,
                "Restaurant" | "CafeOrCoffeeShop" | "Store" | "MedicalClinic" | "Dentist"
            );
        business
            .then(|| n["name"].as_str().map(str::to_owned))
            .flatten()
    })
}

pub fn patterns(home: &PageFacts, others: &[PageFacts]) -> MessagingPatterns {
    let all = || std::iter::once(home).chain(others);
    let site_name = home
        .site_name
        .clone()
        .or_else(|| json_ld_name(home))
        .or_else(|| {
            home.title
                .as_deref()
                .and_then(|t| t.split(['|', '–', '—', '-']).next())
                .map(|t| t.trim().to_owned())
        });
    let paragraphs: Vec<&String> = all().flat_map(|p| &p.paragraphs).collect();
    let claims = dedupe(
        paragraphs
            .iter()
            .flat_map(|p| sentences(p))
            .filter(|s| {
                let l = s.to_lowercase();
                CLAIM_MARKERS.iter().any(|m| l.contains(m))
            })
            .map(str::to_owned),
        10,
        300,
    );
    let proof = dedupe(
        all().flat_map(|p| p.testimonials.iter().cloned()).chain(
            paragraphs
                .iter()
                .flat_map(|p| sentences(p))
                .filter(|s| {
                    let l = s.to_lowercase();
                    PROOF_MARKERS.iter().any(|m| l.contains(m))
                })
                .map(str::to_owned),
        ),
        10,
        500,
    );
    MessagingPatterns {
        key_phrases: key_phrases(home, others),
        value_propositions: dedupe(home.subheadings.iter().cloned(), 3, 200),
        usps: Vec::new(),
        site_name: site_name.filter(|s| !s.is_empty()),
        title: home.title.clone(),
        description: home
            .description
            .clone()
            .map(|d| d.chars().take(500).collect()),
        hero_headline: home.h1.first().cloned(),
        calls_to_action: dedupe(
            all()
                .flat_map(|p| p.calls_to_action.iter().cloned())
                .filter(|c| c.split_whitespace().count() <= 6),
            6,
            60,
        ),
        claims,
        social_proof: proof,
    }
}

const STOP: [&str; 40] = [
    "the", "and", "for", "with", "our", "your", "you", "are", "that", "this", "from", "have",
    "has", "was", "were", "will", "all", "any", "can", "not", "but", "its", "it's", "into", "out",
    "more", "than", "them", "they", "their", "what", "who", "when", "where", "how", "why", "a",
    "an", "to", "of",
];

/// Two-word phrases the site repeats (in headings and text), most frequent first.
fn key_phrases(home: &PageFacts, others: &[PageFacts]) -> Vec<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    let texts = std::iter::once(home).chain(others).flat_map(|p| {
        p.h1.iter()
            .chain(&p.subheadings)
            .chain(&p.paragraphs)
            .chain(&p.calls_to_action)
    });
    for text in texts {
        let words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-')
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        for pair in words.windows(2) {
            if pair
                .iter()
                .any(|w| STOP.contains(&w.as_str()) || w.len() < 3)
            {
                continue;
            }
            let phrase = pair.join(" ");
            match counts.iter_mut().find(|(p, _)| *p == phrase) {
                Some((_, n)) => *n += 1,
                None => counts.push((phrase, 1)),
            }
        }
    }
    counts.retain(|(_, n)| *n >= 2);
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts.into_iter().take(8).map(|(p, _)| p).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    #[test]
    fn claims_proof_ctas_and_repeated_phrases_are_found() {
        let home = crate::page::read(
            &Url::parse("https://cafe.example/").unwrap(),
            r#"<html><head><title>Bean There Café | Specialty coffee in Pune</title>
               <meta name="description" content="Specialty coffee roasted daily in Pune."></head><body>
               <header><h1>Specialty coffee, roasted daily</h1><a class="btn" href="/menu">See our menu</a></header>
               <section><h2>Roasted daily in small batches</h2><p>Family-run since 1998. Specialty coffee for everyone.</p>
               <blockquote>Best flat white in town! — Priya</blockquote>
               <p>Rated 4.8 stars from 1,200 reviews.</p></section>
               <button>Order online</button></body></html>"#,
        );
        let m = patterns(&home, &[]);
        assert_eq!(m.site_name.as_deref(), Some("Bean There Café"));
        assert_eq!(
            m.hero_headline.as_deref(),
            Some("Specialty coffee, roasted daily")
        );
        assert_eq!(m.calls_to_action, ["See our menu", "Order online"]);
        assert_eq!(m.claims, ["Family-run since 1998."]);
        assert_eq!(
            m.social_proof,
            [
                "Best flat white in town! — Priya",
                "Rated 4.8 stars from 1,200 reviews."
            ]
        );
        assert_eq!(
            m.key_phrases.first().map(String::as_str),
            Some("specialty coffee")
        );
    }
}
