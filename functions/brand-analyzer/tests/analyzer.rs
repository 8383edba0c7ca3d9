//! The brand analyzer end to end: real pages on a local HTTP server, a fresh database,
//! moto's S3. Each site's documented kit (infra/simulators/sites.py, KITS) is what the
//! analysis must find; what the user set by hand survives unless replaced; a message
//! delivered twice, or twice at once, writes the kit once; a site that cannot be read
//! fails the job with a reason a person understands.

mod common;

use brand_analyzer::{Outcome, process};
use common::world;
use serde_json::Value;
use shared::domain::profile::BrandProfileInput;
use shared::repo::profiles;

fn hexes(p: &Value) -> [Option<&str>; 5] {
    let c = &p["color_palette"];
    ["primary", "secondary", "accent", "background", "text"].map(|k| c[k].as_str())
}

#[tokio::test]
async fn a_cafe_site_becomes_its_documented_brand_kit() {
    let w = world().await;
    let (job, msg) = w.asked("/cafe/", false).await;
    assert_eq!(process(&w.state, &msg).await, Outcome::done("analysed"));
    assert_eq!(w.job(job).await, ("completed".into(), 100, None));
    let p = w.profile().await;

    assert_eq!(
        hexes(&p),
        [
            Some("#C0392B"),
            Some("#2E4057"),
            Some("#F4D35E"),
            Some("#FFF8F0"),
            Some("#2B2B2B")
        ]
    );
    let palette = p["color_palette"]["palette"].as_array().unwrap();
    let brand = palette.iter().find(|c| c["hex"] == "#C0392B").unwrap();
    let evidence: Vec<&str> = brand["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    for e in ["css var --brand", "button background", "link colour"] {
        assert!(evidence.contains(&e), "{e} in {evidence:?}");
    }
    assert!(
        evidence.iter().any(|e| e.starts_with("logo pixels")),
        "{evidence:?}"
    );
    let status = palette.iter().find(|c| c["hex"] == "#DC3545").unwrap();
    assert_eq!(
        status["role"], "other",
        "an error red is not a brand colour"
    );
    assert!(
        p["color_palette"]["contrast"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["foreground"] == "#2B2B2B" && c["passes_aa"] == true)
    );

    let t = &p["typography"];
    assert_eq!(
        (t["heading_font"].as_str(), t["body_font"].as_str()),
        (Some("Playfair Display"), Some("Lato"))
    );
    assert_eq!(t["heading"]["source"], "google_fonts");
    assert_eq!(t["heading"]["weights"], serde_json::json!([700]));
    assert_eq!(t["base_size_px"], 16);

    let logo_url = p["logo_url"].as_str().unwrap();
    let key = w
        .state
        .storage
        .key_of(logo_url)
        .expect("the logo is our copy");
    assert!(
        key.starts_with(&format!("brand/{}/logo-", w.user.id)) && key.ends_with(".png"),
        "{key}"
    );
    assert!(w.state.storage.size(key).await.unwrap().unwrap() > 100);
    let logo = &p["website_analysis"]["logo"];
    assert_eq!(
        (
            logo["source"].as_str(),
            logo["kind"].as_str(),
            logo["width"].as_u64()
        ),
        (Some("header image"), Some("png"), Some(240))
    );

    let m = &p["messaging_patterns"];
    assert_eq!(m["site_name"], "Bean There Café");
    assert_eq!(m["hero_headline"], "Specialty coffee, roasted daily");
    let ctas: Vec<&str> = m["calls_to_action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        ctas.contains(&"See our menu") && !ctas.iter().any(|c| c.contains("cookies")),
        "{ctas:?}"
    );
    assert!(
        m["claims"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "Family-run since 2009.")
    );
    assert!(
        m["social_proof"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().contains("Best flat white"))
    );
    assert!(
        m["key_phrases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "specialty coffee")
    );

    let social: Vec<(&str, &str)> = p["social"]["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["platform"].as_str().unwrap(),
                s["found_in"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        social.contains(&("instagram", "json-ld sameAs"))
            && social.contains(&("facebook", "json-ld sameAs"))
    );
    assert!(social.contains(&("whatsapp", "link")), "{social:?}");
    assert!(
        !p["social"].to_string().contains("sharer"),
        "share links are dropped"
    );

    let a = &p["website_analysis"];
    let pages: Vec<&str> = a["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    assert_eq!(pages.len(), 3, "home, about, menu: {pages:?}");
    let robots = a["robots"].as_array().unwrap();
    let ours = robots
        .iter()
        .find(|r| r["url"] == w.url("/robots.txt"))
        .unwrap();
    assert_eq!(ours["found"], "rules");
    let cdn = robots
        .iter()
        .find(|r| r["url"] == "https://cdn.invalid/robots.txt")
        .unwrap();
    assert_eq!(
        cdn["found"], "unreachable",
        "the JSON-LD logo's host never answered, so nothing there is read"
    );
    assert!(
        a["voice_written_by"]
            .as_str()
            .unwrap()
            .starts_with("rules (no model key")
    );
    assert!(p["brand_voice"]["tone"].is_string());
    assert!(!p["guidelines"]["dos"].as_array().unwrap().is_empty());
    assert_eq!(p["analysis_version"], 1);
}

#[tokio::test]
async fn a_clinic_with_custom_properties_font_face_and_an_inline_svg_logo() {
    let w = world().await;
    let (_, msg) = w.asked("/clinic/", false).await;
    assert_eq!(process(&w.state, &msg).await, Outcome::done("analysed"));
    let p = w.profile().await;
    let [primary, secondary, accent, background, text] = hexes(&p);
    assert_eq!(
        (primary, secondary, accent),
        (Some("#0A7E8C"), Some("#1B264F"), Some("#F25F5C"))
    );
    assert_eq!((background, text), (Some("#FFFFFF"), Some("#1F2933")));
    let t = &p["typography"];
    assert_eq!(
        (
            t["heading"]["family"].as_str(),
            t["heading"]["source"].as_str()
        ),
        (Some("Nunito"), Some("font_face"))
    );
    assert_eq!(
        (t["body"]["family"].as_str(), t["body"]["source"].as_str()),
        (Some("Open Sans"), Some("google_fonts"))
    );
    assert_eq!(p["website_analysis"]["logo"]["kind"], "svg");
    assert!(p["logo_url"].as_str().unwrap().ends_with(".svg"));
    assert_eq!(p["brand_voice"]["tone"], "caring");
    assert!(
        !p["messaging_patterns"]
            .to_string()
            .contains("Internal note"),
        "hidden text is not read"
    );
}

#[tokio::test]
async fn a_shop_gets_its_manifest_icon_theme_colour_and_system_body_font() {
    let w = world().await;
    let (_, msg) = w.asked("/shop/", false).await;
    assert_eq!(process(&w.state, &msg).await, Outcome::done("analysed"));
    let p = w.profile().await;
    let [primary, secondary, ..] = hexes(&p);
    assert_eq!((primary, secondary), (Some("#6A1B9A"), Some("#FF8F00")));
    let logo = &p["website_analysis"]["logo"];
    assert_eq!(
        (logo["source"].as_str(), logo["width"].as_u64()),
        (Some("manifest icon"), Some(512))
    );
    let t = &p["typography"];
    assert_eq!(
        (t["heading_font"].as_str(), t["body_font"].as_str()),
        (Some("Merriweather"), Some("Georgia"))
    );
    assert_eq!(t["body"]["source"], "system");
    let social = p["social"]["profiles"].as_array().unwrap();
    assert_eq!(
        social.len(),
        1,
        "the tweet-intent link is a share link: {social:?}"
    );
}

#[tokio::test]
async fn hand_set_fields_are_kept_unless_the_analysis_is_asked_to_replace_them() {
    let w = world().await;
    let mine: BrandProfileInput = serde_json::from_value(serde_json::json!({
        "color_palette": {"primary": "#112233"}
    }))
    .unwrap();
    w.state
        .db
        .tenant(w.user.id, async |t| {
            profiles::put_brand(t, &mine.validate()?).await
        })
        .await
        .unwrap();

    let (_, msg) = w.asked("/cafe/", false).await;
    process(&w.state, &msg).await;
    let p = w.profile().await;
    assert_eq!(p["color_palette"]["primary"], "#112233", "kept");
    assert_eq!(
        p["typography"]["heading_font"], "Playfair Display",
        "learned"
    );
    assert_eq!(p["manual_fields"], serde_json::json!(["color_palette"]));
    assert_eq!(p["analysis_version"], 1);

    let (_, msg) = w.asked("/cafe/", true).await;
    process(&w.state, &msg).await;
    let p = w.profile().await;
    assert_eq!(
        p["color_palette"]["primary"], "#C0392B",
        "replaced on request"
    );
    assert_eq!(p["manual_fields"], serde_json::json!([]));
    assert_eq!(p["analysis_version"], 2);
}

#[tokio::test]
async fn a_message_delivered_twice_or_twice_at_once_writes_the_kit_once() {
    let w = world().await;
    let (job, msg) = w.asked("/cafe/", false).await;
    let (a, b) = tokio::join!(process(&w.state, &msg), process(&w.state, &msg));
    let outcomes = [a, b];
    assert!(
        outcomes.contains(&Outcome::done("analysed")),
        "{outcomes:?}"
    );
    assert_eq!(
        process(&w.state, &msg).await,
        Outcome::done("the job is already finished")
    );
    assert_eq!(w.job(job).await.0, "completed");
    assert_eq!(w.profile().await["analysis_version"], 1);
}

#[tokio::test]
async fn a_site_that_cannot_be_read_fails_the_job_with_a_reason_a_person_understands() {
    let w = world().await;
    for (site, reason) in [
        ("/private/", "the site refused robots"),
        ("/ssrf/nothing-here", "answered HTTP 404"),
    ] {
        let (job, msg) = w.asked(site, false).await;
        assert_eq!(process(&w.state, &msg).await, Outcome::done("failed"));
        let (status, _, error) = w.job(job).await;
        assert_eq!(status, "failed");
        assert!(
            error.as_deref().unwrap_or("").contains(reason),
            "{site}: {error:?}"
        );
    }
    let none = w
        .state
        .db
        .tenant(w.user.id, async |t| profiles::brand(t).await)
        .await
        .unwrap();
    assert!(none.is_none(), "a failed analysis writes nothing");
}

#[tokio::test]
async fn a_connected_facebook_pages_recent_posts_are_summarised_beside_the_site() {
    use shared::crypto::TokenCipher;
    use shared::meta::Graph;
    use shared::repo::meta_accounts::token_binding;
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let mut w = world().await;
    let meta = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v25.0/me/accounts"))
        .and(query_param("fields", "id,name,access_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "data": [{"id": "1048576", "name": "Bean There Café", "access_token": "PAGE-TOKEN"}]})))
        .expect(1)
        .mount(&meta)
        .await;
    Mock::given(method("GET"))
        .and(path("/v25.0/1048576/posts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"data": [
            {"id": "1048576_1", "message": "Weekend brunch is back #brunch #pune", "created_time": "2026-11-28T09:00:00+0000",
             "reactions": {"data": [], "summary": {"total_count": 120}}, "comments": {"data": [], "summary": {"total_count": 14}},
             "shares": {"count": 6}},
            {"id": "1048576_2", "message": "Our Coorg single origin is in #coffee", "created_time": "2026-11-21T09:00:00+0000",
             "reactions": {"data": [], "summary": {"total_count": 30}}, "comments": {"data": [], "summary": {"total_count": 2}}},
        ]})))
        .expect(1)
        .mount(&meta)
        .await;
    let keys = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let cipher = TokenCipher::parse(keys).unwrap();
    let sealed = cipher.seal("EAAG-user-token", &token_binding(w.user.id.0, "fb1"));
    w.db.superuser()
        .await
        .execute(
            "INSERT INTO meta_accounts (user_id, meta_user_id, access_token) VALUES ($1, 'fb1', $2)",
            &[&w.user.id.0, &sealed],
        )
        .await
        .unwrap();
    w.state.meta = Some(brand_analyzer::facebook::Meta {
        graph: Graph::new(&format!("{}/v25.0", meta.uri()), "123", "app-secret"),
        cipher: TokenCipher::parse(keys).unwrap(),
    });

    let (_, msg) = w.asked("/cafe/", false).await;
    assert_eq!(process(&w.state, &msg).await, Outcome::done("analysed"));
    let p = w.profile().await;
    let page = &p["social"]["facebook_page"];
    assert_eq!(
        (page["page_id"].as_str(), page["posts_read"].as_u64()),
        (Some("1048576"), Some(2))
    );
    assert_eq!(page["average_engagement"], 86.0);
    assert_eq!(page["top_posts"][0], "Weekend brunch is back #brunch #pune");
    assert_eq!(
        page["hashtags"],
        serde_json::json!(["#brunch", "#pune", "#coffee"])
    );
    let posts_call = &meta.received_requests().await.unwrap()[1];
    assert_eq!(
        posts_call.headers.get("authorization").unwrap(),
        "OAuth PAGE-TOKEN",
        "the posts are read with the Page's own token"
    );
    assert_eq!(p["website_analysis"]["facebook_page"]["read"], true);
}
