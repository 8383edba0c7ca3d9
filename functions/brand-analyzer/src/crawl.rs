//! Reading a site as a polite crawler: robots.txt first (its decision recorded), the home
//! page, up to four same-site pages worth reading (about, menu, products, contact), and
//! their stylesheets with `@import` followed. Every fetch goes through the safe fetcher;
//! what failed is recorded, and only the home page failing ends the analysis.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use robotstxt::DefaultMatcher;
use serde::Serialize;
use shared::webfetch::Refusal;
use shared::webfetch::fetcher::{Fetched, Fetcher};
use url::Url;

use crate::css::{self, Sheet};
use crate::page::{self, PageFacts};

pub const USER_AGENT: &str = "AdpilotBot/1.0 (+https://adpilot.app/bot; brand analysis)";
/// The token robots.txt groups are matched against.
pub const ROBOTS_AGENT: &str = "AdpilotBot";
pub const HTML_LIMIT: usize = 2 << 20;
pub const CSS_LIMIT: usize = 1 << 20;
const ROBOTS_LIMIT: usize = 512 << 10;
const MAX_PAGES: usize = 4;
const MAX_SHEETS: usize = 16;

/// What robots.txt decided for one origin.
#[derive(Clone, Debug, Serialize)]
pub struct RobotsDecision {
    pub url: String,
    /// `rules` (a robots.txt was read), `none` (4xx: everything allowed) or
    /// `unreachable` (5xx or no answer: nothing allowed, as RFC 9309 asks).
    pub found: &'static str,
    pub status: Option<u16>,
}

pub struct Robots {
    /// The robots.txt read, matched by Google's parser (the `robotstxt` port) for each URL.
    rules: Option<String>,
    allow_all: bool,
    pub decision: RobotsDecision,
}

impl Robots {
    pub fn allows(&self, url: &Url) -> bool {
        match &self.rules {
            Some(r) => {
                DefaultMatcher::default().one_agent_allowed_by_robots(r, ROBOTS_AGENT, url.as_str())
            }
            None => self.allow_all,
        }
    }
}

/// One fetch and what became of it.
#[derive(Clone, Debug, Serialize)]
pub struct Visit {
    pub url: String,
    pub what: &'static str,
    pub outcome: String,
}

#[derive(Default)]
pub struct Site {
    pub home: PageFacts,
    pub pages: Vec<PageFacts>,
    pub sheets: Vec<Sheet>,
    pub robots: Vec<RobotsDecision>,
    pub visits: Vec<Visit>,
}

/// Why the analysis could not read the site at all, in a person's words.
pub fn explain(url: &Url, refusal: &Refusal) -> String {
    match refusal {
        Refusal::Timeout(..) => format!("no page answered in 10 s ({url})"),
        Refusal::Robots(_) => format!(
            "the site refused robots: its robots.txt does not allow {ROBOTS_AGENT} to read {url}"
        ),
        other => format!("{url} could not be read: {other}"),
    }
}

pub struct Crawler<'a> {
    pub fetcher: &'a Fetcher,
    robots: BTreeMap<String, Robots>,
    pub visits: Vec<Visit>,
}

impl<'a> Crawler<'a> {
    pub fn new(fetcher: &'a Fetcher) -> Self {
        Self {
            fetcher,
            robots: BTreeMap::new(),
            visits: Vec::new(),
        }
    }

    fn record(&mut self, url: &Url, what: &'static str, outcome: impl Into<String>) {
        self.visits.push(Visit {
            url: url.to_string(),
            what,
            outcome: outcome.into(),
        });
    }

    /// robots.txt for `url`'s origin, read once.
    async fn robots_for(&mut self, url: &Url) -> &Robots {
        let origin = url.origin().ascii_serialization();
        if !self.robots.contains_key(&origin) {
            let robots = self.read_robots(url).await;
            self.robots.insert(origin.clone(), robots);
        }
        &self.robots[&origin]
    }

    async fn read_robots(&mut self, url: &Url) -> Robots {
        let robots_url = url.join("/robots.txt").expect("a root-relative path joins");
        let got = self.fetcher.get(&robots_url, ROBOTS_LIMIT).await;
        let decision = |found, status| RobotsDecision {
            url: robots_url.to_string(),
            found,
            status,
        };
        let html = |f: &Fetched| {
            f.content_type
                .as_deref()
                .is_some_and(|t| t.contains("html"))
                || f.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
        };
        match got {
            // A 200 with an HTML body is a site answering every path with a page.
            Ok(f) if f.ok() && html(&f) => Robots {
                rules: None,
                allow_all: true,
                decision: decision("none", Some(f.status)),
            },
            Ok(f) if f.ok() => Robots {
                rules: Some(String::from_utf8_lossy(&f.body).into_owned()),
                allow_all: true,
                decision: decision("rules", Some(f.status)),
            },
            Ok(f) if f.status < 500 => Robots {
                rules: None,
                allow_all: true,
                decision: decision("none", Some(f.status)),
            },
            Ok(f) => Robots {
                rules: None,
                allow_all: false,
                decision: decision("unreachable", Some(f.status)),
            },
            Err(_) => Robots {
                rules: None,
                allow_all: false,
                decision: decision("unreachable", None),
            },
        }
    }

    /// Fetches `url` if robots allow it and it answers 2xx.
    pub async fn fetch(
        &mut self,
        url: &Url,
        limit: usize,
        what: &'static str,
    ) -> Result<Fetched, Refusal> {
        if !self.robots_for(url).await.allows(url) {
            self.record(url, what, "disallowed by robots.txt");
            return Err(Refusal::Robots(url.to_string()));
        }
        let got = self.fetcher.get(url, limit).await;
        match got {
            Ok(f) if f.ok() => {
                // A redirect may land on another origin, whose robots decide too.
                if f.url.origin() != url.origin() && !self.robots_for(&f.url).await.allows(&f.url) {
                    self.record(&f.url, what, "disallowed by robots.txt");
                    return Err(Refusal::Robots(f.url.to_string()));
                }
                self.record(url, what, format!("{} bytes", f.body.len()));
                Ok(f)
            }
            Ok(f) => {
                self.record(url, what, format!("HTTP {}", f.status));
                Err(Refusal::Status(url.to_string(), f.status))
            }
            Err(e) => {
                self.record(url, what, e.to_string());
                Err(e)
            }
        }
    }

    pub fn robots_decisions(&self) -> Vec<RobotsDecision> {
        self.robots.values().map(|r| r.decision.clone()).collect()
    }
}

fn same_site(a: &Url, b: &Url) -> bool {
    let host = |u: &Url| {
        let h = u.host_str().unwrap_or("").to_ascii_lowercase();
        h.strip_prefix("www.").map(str::to_owned).unwrap_or(h)
    };
    host(a) == host(b) && a.port_or_known_default() == b.port_or_known_default()
}

const PAGE_WORDS: [(&str, u32); 14] = [
    ("about", 3),
    ("story", 3),
    ("menu", 3),
    ("product", 3),
    ("shop", 3),
    ("services", 3),
    ("treatments", 3),
    ("collection", 2),
    ("contact", 2),
    ("visit", 2),
    ("location", 2),
    ("team", 1),
    ("doctors", 1),
    ("pricing", 1),
];

/// Up to four same-site pages worth reading, best first.
pub fn pages_worth_reading(home: &PageFacts, base: &Url) -> Vec<Url> {
    let mut scored: Vec<(u32, Url)> = Vec::new();
    for (u, text) in &home.links {
        if !same_site(u, base) || !matches!(u.scheme(), "http" | "https") {
            continue;
        }
        let mut u = u.clone();
        u.set_fragment(None);
        let path = u.path().to_ascii_lowercase();
        let is_file = path.rsplit('/').next().is_some_and(|last| {
            last.contains('.')
                && !last.ends_with(".html")
                && !last.ends_with(".htm")
                && !last.ends_with(".php")
        });
        if is_file || u.path() == base.path() || scored.iter().any(|(_, s)| *s == u) {
            continue;
        }
        let hay = format!("{path} {}", text.to_ascii_lowercase());
        let score: u32 = PAGE_WORDS
            .iter()
            .filter(|(w, _)| hay.contains(w))
            .map(|(_, s)| s)
            .sum();
        if score > 0 {
            scored.push((score, u));
        }
    }
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    scored.into_iter().take(MAX_PAGES).map(|(_, u)| u).collect()
}

fn is_html(f: &Fetched) -> bool {
    f.content_type
        .as_deref()
        .is_none_or(|t| t.starts_with("text/html") || t.starts_with("application/xhtml"))
}

/// Reads the home page; the analysis cannot go on without it.
pub async fn home(c: &mut Crawler<'_>, url: &Url) -> Result<PageFacts, String> {
    let f = c
        .fetch(url, HTML_LIMIT, "home page")
        .await
        .map_err(|e| explain(url, &e))?;
    if !is_html(&f) {
        return Err(format!(
            "{url} is not a web page (it is {})",
            f.content_type.as_deref().unwrap_or("of no stated type")
        ));
    }
    Ok(page::read(&f.url, &f.text()))
}

/// Reads the chosen pages (failures are recorded, not fatal).
pub async fn pages(c: &mut Crawler<'_>, urls: &[Url]) -> Vec<PageFacts> {
    let mut out = Vec::new();
    for u in urls {
        if let Ok(f) = c.fetch(u, HTML_LIMIT, "page").await
            && is_html(&f)
        {
            out.push(page::read(&f.url, &f.text()));
        }
    }
    out
}

/// Fetches stylesheets (at most `MAX_SHEETS`, `@import`s two levels deep) concurrently.
pub async fn stylesheets(c: &mut Crawler<'_>, first: Vec<Url>) -> Vec<Sheet> {
    let mut seen: Vec<Url> = Vec::new();
    let mut sheets = Vec::new();
    let mut wave = first;
    for _ in 0..3 {
        wave.retain(|u| !seen.contains(u));
        wave.dedup();
        wave.truncate(MAX_SHEETS.saturating_sub(seen.len()));
        if wave.is_empty() {
            break;
        }
        seen.extend(wave.iter().cloned());
        for u in &wave {
            // robots.txt once per origin before the concurrent fetches.
            let _ = c.robots_for(u).await;
        }
        let allowed: Vec<Url> = wave
            .iter()
            .filter(|u| c.robots[&u.origin().ascii_serialization()].allows(u))
            .cloned()
            .collect();
        let fetcher = c.fetcher;
        let got = join_all(allowed.iter().map(|u| fetcher.get(u, CSS_LIMIT))).await;
        let mut next = Vec::new();
        for (u, r) in allowed.iter().zip(got) {
            match r {
                Ok(f) if f.ok() => {
                    c.record(u, "stylesheet", format!("{} bytes", f.body.len()));
                    let sheet = css::parse(&f.text());
                    next.extend(sheet.imports.iter().filter_map(|i| f.url.join(i).ok()));
                    sheets.push(sheet);
                }
                Ok(f) => c.record(u, "stylesheet", format!("HTTP {}", f.status)),
                Err(e) => c.record(u, "stylesheet", e.to_string()),
            }
        }
        wave = next;
    }
    sheets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pages_worth_reading_are_same_site_and_about_the_business() {
        let base = Url::parse("https://www.cafe.example/").unwrap();
        let home = page::read(
            &base,
            r#"<a href="/about-us">Our story</a><a href="https://cafe.example/menu">Menu</a>
               <a href="/blog/2019/opening">Blog</a><a href="https://other.example/about">Partner</a>
               <a href="/menu.pdf">PDF menu</a><a href="/contact#map">Find us</a><a href="/">Home</a>
               <a href="/shop">Shop</a><a href="/services">Catering services</a>"#,
        );
        let picked: Vec<String> = pages_worth_reading(&home, &base)
            .iter()
            .map(|u| u.path().to_owned())
            .collect();
        assert_eq!(picked, ["/about-us", "/menu", "/shop", "/services"]);
    }

    #[test]
    fn robots_rules_for_our_agent_win_and_the_longest_matching_path_decides() {
        let robots = Robots {
            rules: Some(
                "User-agent: *\nDisallow: /\n\n\
                 User-agent: AdpilotBot\nDisallow: /private/\nAllow: /private/menu\nDisallow: /*.pdf$\n"
                    .into(),
            ),
            allow_all: true,
            decision: RobotsDecision {
                url: "https://cafe.example/robots.txt".into(),
                found: "rules",
                status: Some(200),
            },
        };
        let allows = |path: &str| {
            robots.allows(&Url::parse(&format!("https://cafe.example{path}")).unwrap())
        };
        assert!(allows("/about"));
        assert!(!allows("/private/accounts"));
        assert!(allows("/private/menu"));
        assert!(!allows("/brochure.pdf"));
        assert!(allows("/brochure.pdf?page=2"));
    }
}
