//! The business's social profiles, from JSON-LD `sameAs` and its links: Facebook,
//! Instagram, WhatsApp, YouTube, LinkedIn and X. Share buttons ("share this on…") are
//! links to the sharing page, not to the business, and are dropped.

use shared::domain::profile::{SocialPresence, SocialProfile};
use url::Url;

use crate::page::{PageFacts, json_ld_nodes};

fn platform(u: &Url) -> Option<&'static str> {
    let host = u.host_str()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let host = host.strip_prefix("m.").unwrap_or(host);
    Some(match host {
        "facebook.com" | "fb.com" | "fb.me" => "facebook",
        "instagram.com" => "instagram",
        "wa.me" | "api.whatsapp.com" | "whatsapp.com" => "whatsapp",
        "youtube.com" | "youtu.be" => "youtube",
        "linkedin.com" | "in.linkedin.com" => "linkedin",
        "x.com" | "twitter.com" => "x",
        _ => return None,
    })
}

/// A link to share a page, not a profile.
fn is_share_link(u: &Url) -> bool {
    let path = u.path().to_ascii_lowercase();
    let shares_text = u
        .query_pairs()
        .any(|(k, _)| matches!(&*k, "text" | "u" | "url" | "body"));
    [
        "sharer",
        "/share",
        "/intent/",
        "shareArticle",
        "/sharing/",
        "/send",
    ]
    .iter()
    .any(|p| path.contains(&p.to_ascii_lowercase()))
        || shares_text
        || path.trim_matches('/').is_empty()
}

pub fn profiles(pages: &[&PageFacts]) -> SocialPresence {
    let mut out: Vec<SocialProfile> = Vec::new();
    let mut add = |u: Url, found_in: &str| {
        let Some(platform) = platform(&u).filter(|_| !is_share_link(&u)) else {
            return;
        };
        let mut clean = u;
        clean.set_fragment(None);
        let url = clean.to_string();
        if !out
            .iter()
            .any(|p| p.url.trim_end_matches('/') == url.trim_end_matches('/'))
        {
            out.push(SocialProfile {
                platform: platform.into(),
                url,
                found_in: found_in.into(),
            });
        }
    };
    for page in pages {
        for node in page.json_ld.iter().flat_map(json_ld_nodes) {
            let same_as = &node["sameAs"];
            let urls: Vec<&str> = match same_as {
                serde_json::Value::String(s) => vec![s.as_str()],
                serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).collect(),
                _ => Vec::new(),
            };
            for u in urls.into_iter().filter_map(|s| Url::parse(s).ok()) {
                add(u, "json-ld sameAs");
            }
        }
    }
    for page in pages {
        for (u, _) in &page.links {
            add(u.clone(), "link");
        }
    }
    SocialPresence {
        profiles: out,
        facebook_page: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_come_from_same_as_and_links_and_share_links_are_dropped() {
        let page = crate::page::read(
            &Url::parse("https://cafe.example/").unwrap(),
            r#"<html><head><script type="application/ld+json">
                {"@type":"CafeOrCoffeeShop","name":"Bean There","sameAs":["https://www.instagram.com/beanthere/","https://www.facebook.com/beanthere"]}
               </script></head><body>
               <a href="https://instagram.com/beanthere">Instagram</a>
               <a href="https://wa.me/919812345678">WhatsApp us</a>
               <a href="https://www.youtube.com/@beanthere">YouTube</a>
               <a href="https://www.facebook.com/sharer/sharer.php?u=https://cafe.example/">Share</a>
               <a href="https://twitter.com/intent/tweet?text=hi">Tweet</a>
               <a href="https://api.whatsapp.com/send?text=look">Send</a>
               <a href="https://x.com/beanthere">X</a></body></html>"#,
        );
        let found = profiles(&[&page]);
        let list: Vec<(&str, &str)> = found
            .profiles
            .iter()
            .map(|p| (p.platform.as_str(), p.url.as_str()))
            .collect();
        assert_eq!(
            list,
            [
                ("instagram", "https://www.instagram.com/beanthere/"),
                ("facebook", "https://www.facebook.com/beanthere"),
                ("instagram", "https://instagram.com/beanthere"),
                ("whatsapp", "https://wa.me/919812345678"),
                ("youtube", "https://www.youtube.com/@beanthere"),
                ("x", "https://x.com/beanthere"),
            ]
        );
    }
}
