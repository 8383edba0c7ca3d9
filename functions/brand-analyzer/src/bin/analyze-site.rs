//! Analyses websites from the command line, without a database or queue: prints each
//! site's kit as JSON lines (`{"url", "seconds", "kit" | "error"}`). The brand accuracy
//! benchmark runs it; a developer can too:
//!   FETCH_ALLOW_HOSTS=127.0.0.1:8765 cargo run -p brand-analyzer --bin analyze-site -- http://127.0.0.1:8765/cafe/

use std::time::Instant;

use brand_analyzer::{analyse, crawl, voice};
use serde_json::json;
use shared::webfetch::AllowHosts;
use shared::webfetch::fetcher::Fetcher;
use url::Url;

#[tokio::main]
async fn main() {
    let fetcher = Fetcher::new(AllowHosts::from_env(), crawl::USER_AGENT);
    let gemini = voice::Gemini::from_env();
    for raw in std::env::args().skip(1) {
        let started = Instant::now();
        let line = match Url::parse(&raw) {
            Err(e) => json!({"url": raw, "error": e.to_string()}),
            Ok(url) => match analyse::site(&fetcher, gemini.as_ref(), &url, async |_| {}).await {
                Ok(learned) => {
                    let a = learned.analysis;
                    json!({"url": raw, "seconds": started.elapsed().as_secs_f64(), "kit": {
                        "color_palette": a.kit.color_palette, "typography": a.kit.typography,
                        "messaging_patterns": a.kit.messaging_patterns, "brand_voice": a.kit.brand_voice,
                        "social": a.social, "website_analysis": a.website_analysis}})
                }
                Err(why) => {
                    json!({"url": raw, "seconds": started.elapsed().as_secs_f64(), "error": why})
                }
            },
        };
        println!("{line}");
    }
}
