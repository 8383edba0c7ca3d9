//! Business and brand profiles: one of each per user, validated field by field;
//! brand analysis is queued as a pending job with an outbox message.
#![recursion_limit = "256"]

use lambda_http::http::{Method, StatusCode};
use profiles::State;
use serde_json::{Value, json};
use shared::aws::relay::Relay;
use shared::testing::TestDb;
use shared::testing::api::{Reply, TestUser, context, reply, request};

struct App {
    state: State,
    db: TestDb,
    user: TestUser,
}

impl App {
    async fn new() -> Self {
        let db = TestDb::fresh().await;
        let user = TestUser::create(&db, "owner@example.com").await;
        Self {
            state: State {
                ctx: context(&db),
                relay: Relay::new(
                    shared::aws::sqs(&shared::aws::sdk_config().await),
                    Default::default(),
                ),
            },
            db,
            user,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.as_user(&self.user.token, method, path, body).await
    }

    async fn as_user(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> Reply {
        reply(
            profiles::handle(
                &self.state,
                request(method, path, body.as_ref(), Some(token)),
            )
            .await,
        )
    }
}

#[tokio::test]
async fn a_business_profile_is_404_until_put_then_replaced_whole() {
    let app = App::new().await;
    assert_eq!(
        app.call(Method::GET, "/v1/business-profile", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let put = app
        .call(
            Method::PUT,
            "/v1/business-profile",
            Some(json!({"business_name": " Spice Route ", "business_type": "restaurant", "industry": "Food",
                        "website_url": "https://spiceroute.example.in", "monthly_budget_range": "10000-50000"})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK);
    assert_eq!(put.body["business_name"], "Spice Route");
    assert_eq!(put.body["monthly_budget_range"], "10000-50000");

    let again = app
        .call(
            Method::PUT,
            "/v1/business-profile",
            Some(json!({"business_name": "Spice Route 2"})),
        )
        .await;
    assert_eq!(
        again.body["id"], put.body["id"],
        "still one profile per user"
    );
    assert!(
        again.body["industry"].is_null(),
        "PUT replaces the whole profile"
    );
    let got = app.call(Method::GET, "/v1/business-profile", None).await;
    assert_eq!(got.body["business_name"], "Spice Route 2");
}

#[tokio::test]
async fn business_profile_fields_are_validated_by_name() {
    let app = App::new().await;
    let r = app
        .call(
            Method::PUT,
            "/v1/business-profile",
            Some(json!({"business_type": "casino", "website_url": "ftp://x", "monthly_budget_range": "lots"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.fields(),
        ["business_type"],
        "enum fields fail at parse time, first"
    );

    let r = app
        .call(
            Method::PUT,
            "/v1/business-profile",
            Some(json!({"website_url": "ftp://x", "industry": "", "country": "India"})),
        )
        .await;
    assert_eq!(r.fields(), ["industry", "website_url", "country"]);
}

#[tokio::test]
async fn the_country_is_an_upper_case_iso_code_that_decides_how_the_business_pays() {
    let app = App::new().await;
    let r = app
        .call(
            Method::PUT,
            "/v1/business-profile",
            Some(json!({"business_name": "Café Berlin", "country": "de"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["country"], "DE");
}

#[tokio::test]
async fn a_brand_profile_is_typed_json() {
    let app = App::new().await;
    let brand = json!({
        "website_url": "https://spiceroute.example.in",
        "color_palette": {"primary": "#2e86ab", "accent": "#28A745"},
        "typography": {"heading_font": "Poppins", "base_size_px": 16},
        "brand_voice": {"tone": "friendly", "personality": "warm"},
        "messaging_patterns": {"key_phrases": ["Taste of home"], "usps": ["Open till 2am"]},
        "guidelines": {"dos": ["Show the food"], "donts": ["No stock photos"]}
    });
    let r = app
        .call(Method::PUT, "/v1/brand-profile", Some(brand))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["color_palette"]["primary"], "#2E86AB");
    assert_eq!(r.body["brand_voice"]["tone"], "friendly");
    assert_eq!(r.body["guidelines"]["donts"][0], "No stock photos");
    assert!(r.body["website_analysis"].is_null());

    let bad = app
        .call(
            Method::PUT,
            "/v1/brand-profile",
            Some(json!({"color_palette": {"primary": "blue"}, "logo_url": "nope"})),
        )
        .await;
    assert_eq!(bad.fields(), ["logo_url", "color_palette.primary"]);
    let unknown = app
        .call(
            Method::PUT,
            "/v1/brand-profile",
            Some(json!({"brand_voice": {"mood": "x"}})),
        )
        .await;
    assert_eq!(unknown.fields(), ["brand_voice.mood"]);
    let blob = app
        .call(
            Method::PUT,
            "/v1/brand-profile",
            Some(json!({"color_palette": "red"})),
        )
        .await;
    assert_eq!(blob.fields(), ["color_palette"]);
}

#[tokio::test]
async fn analysis_is_queued_as_a_pending_job_with_an_outbox_message() {
    let app = App::new().await;
    let r = app
        .call(
            Method::POST,
            "/v1/brand-profile/analyze",
            Some(json!({"website_url": "https://example.com"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(r.body["status"], "pending");
    let job_id = r.body["job_id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/v1/jobs/{job_id}").as_str())
    );

    let su = app.db.superuser().await;
    let job = su
        .query_one("SELECT job_type, status, parameters->>'website_url' FROM background_jobs WHERE id = $1::text::uuid", &[&job_id])
        .await
        .unwrap();
    assert_eq!(
        (job.get::<_, String>(0), job.get::<_, String>(1)),
        ("brand_analysis".into(), "pending".into())
    );
    assert_eq!(job.get::<_, String>(2), "https://example.com/");
    let msg = su
        .query_one("SELECT topic, payload->>'job_id', sent_at IS NULL FROM outbox WHERE payload->>'job_id' = $1", &[&job_id])
        .await
        .unwrap();
    assert_eq!(msg.get::<_, String>(0), "brand-analysis");
    assert!(msg.get::<_, bool>(2), "waiting to be relayed");

    let missing = app
        .call(Method::POST, "/v1/brand-profile/analyze", Some(json!({})))
        .await;
    assert_eq!(missing.fields(), ["website_url"]);
}

#[tokio::test]
async fn every_route_needs_a_token_and_other_methods_are_refused() {
    let app = App::new().await;
    for (method, path) in [
        (Method::GET, "/v1/business-profile"),
        (Method::PUT, "/v1/business-profile"),
        (Method::GET, "/v1/brand-profile"),
        (Method::PUT, "/v1/brand-profile"),
        (Method::POST, "/v1/brand-profile/analyze"),
    ] {
        let r = reply(
            profiles::handle(
                &app.state,
                request(method.clone(), path, Some(&json!({})), None),
            )
            .await,
        );
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(r.content_type, "application/problem+json");
    }
    assert_eq!(
        app.call(Method::DELETE, "/v1/brand-profile", None)
            .await
            .status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn another_user_never_sees_my_profiles() {
    let app = App::new().await;
    app.call(
        Method::PUT,
        "/v1/business-profile",
        Some(json!({"business_name": "Mine"})),
    )
    .await;
    app.call(
        Method::PUT,
        "/v1/brand-profile",
        Some(json!({"logo_url": "https://example.com/logo.png"})),
    )
    .await;
    let other = TestUser::create(&app.db, "other@example.com").await;
    for path in ["/v1/business-profile", "/v1/brand-profile"] {
        assert_eq!(
            app.as_user(&other.token, Method::GET, path, None)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
}

fn codes(r: &Reply) -> Vec<String> {
    r.body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_website_on_a_private_address_or_another_port_is_refused_at_put_already() {
    let app = App::new().await;
    for (url, code) in [
        (
            "http://169.254.169.254/latest/meta-data/",
            "private_address",
        ),
        ("http://2130706433/", "private_address"),
        ("http://0x7f.1/", "private_address"),
        ("http://[::ffff:10.0.0.1]/", "private_address"),
        ("http://localhost/", "private_address"),
        ("https://shop.example:8443/", "port_not_allowed"),
    ] {
        let r = app
            .call(
                Method::PUT,
                "/v1/brand-profile",
                Some(json!({"website_url": url})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert_eq!(
            (r.fields(), codes(&r)),
            (vec!["website_url".to_owned()], vec![code.to_owned()]),
            "{url}"
        );
        let r = app
            .call(
                Method::POST,
                "/v1/brand-profile/analyze",
                Some(json!({"website_url": url})),
            )
            .await;
        assert_eq!(codes(&r), [code], "analyze {url}");
    }
    let su = app.db.superuser().await;
    let queued: i64 = su
        .query_one("SELECT count(*) FROM background_jobs", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(queued, 0, "nothing is queued for a refused address");
}

#[tokio::test]
async fn analysis_is_asked_for_at_most_once_in_ten_minutes_even_when_asked_at_once() {
    let app = App::new().await;
    let ask = || {
        app.call(
            Method::POST,
            "/v1/brand-profile/analyze",
            Some(json!({"website_url": "https://cafe.example"})),
        )
    };
    let replies = futures_util::future::join_all((0..5).map(|_| ask())).await;
    let accepted = replies
        .iter()
        .filter(|r| r.status == StatusCode::ACCEPTED)
        .count();
    let limited: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!((accepted, limited.len()), (1, 4));
    assert_eq!(limited[0].body["code"], "analysis_rate_limited");
}

#[tokio::test]
async fn analysis_uses_the_profiles_website_when_none_is_given_and_records_hand_set_fields() {
    let app = App::new().await;
    let r = app
        .call(
            Method::PUT,
            "/v1/brand-profile",
            Some(json!({"website_url": "https://cafe.example", "color_palette": {"primary": "#112233"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["manual_fields"], json!(["color_palette"]));
    let r = app
        .call(
            Method::POST,
            "/v1/brand-profile/analyze",
            Some(json!({"replace": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let su = app.db.superuser().await;
    let params: Value = su
        .query_one("SELECT parameters FROM background_jobs", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        params,
        json!({"website_url": "https://cafe.example/", "replace": true})
    );
}
