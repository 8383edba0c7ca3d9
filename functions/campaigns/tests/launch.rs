//! Launching to Meta against a local server speaking the Graph API's wire format: the
//! exact requests (objects in order, PAUSED first, budgets in paise, targeting in Meta's
//! names), a failure in the middle that a retry resumes without duplicating anything,
//! pause and resume, and budget changes pushed to the ad set.

use campaigns::State;
use lambda_http::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::aws::relay::Relay;
use shared::meta::Graph;
use shared::testing::TestDb;
use shared::testing::api::{Reply, TestUser, cipher, reply, request, tokens};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

struct World {
    db: TestDb,
    graph: MockServer,
    state: State,
    user: TestUser,
    campaign: String,
}

async fn world() -> World {
    let db = TestDb::fresh().await;
    let graph = MockServer::start().await;
    let storage = shared::testing::storage().await;
    let state = State {
        db: db.db(),
        tokens: tokens(),
        graph: Graph::new(&format!("{}/v25.0", graph.uri()), "1234567", "app-secret"),
        cipher: cipher(),
        storage: storage.clone(),
        relay: Relay::new(
            shared::aws::sqs(&shared::aws::sdk_config().await),
            Default::default(),
        ),
    };
    let user = TestUser::create(&db, "owner@example.com").await;
    let key = format!("uploads/{}/hero/hero.png", user.id);
    storage
        .put(
            &key,
            "image/png",
            b"\x89PNG\r\n\x1a\nnot-really-but-bytes".to_vec(),
        )
        .await
        .unwrap();
    let (asset, campaign) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    db.superuser()
        .await
        .batch_execute(&format!(
            "INSERT INTO meta_accounts (id, user_id, meta_user_id, access_token) VALUES ('{c}', '{u}', 'fb1', '{token}');
             INSERT INTO meta_ad_accounts (meta_account_id, user_id, ad_account_id, account_status, currency)
                  VALUES ('{c}', '{u}', 'act_1234567890', 1, 'INR');
             INSERT INTO business_profiles (user_id, business_name, website_url) VALUES ('{u}', 'Chai Point', 'https://chai.example');
             INSERT INTO creative_assets (id, user_id, asset_type, status, file_url, format, filename)
                  VALUES ('{asset}', '{u}', 'image', 'active', '{url}', '1:1', 'hero.png');
             INSERT INTO campaigns (id, user_id, name, purpose, objective, daily_budget, end_date, target_audience, status)
                  VALUES ('{campaign}', '{u}', 'Winter chai', 'sales', 'OUTCOME_SALES', 1500.50, '2026-12-31',
                          '{{\"age_min\": 21, \"age_max\": 45, \"genders\": [2], \"geo_locations\": {{\"countries\": [\"IN\"]}},
                            \"interests\": [{{\"id\": \"6003139266461\", \"name\": \"Tea\"}}]}}', 'draft');
             INSERT INTO campaign_assets (campaign_id, asset_id, asset_role) VALUES ('{campaign}', '{asset}', 'primary');",
            c = uuid::Uuid::new_v4(),
            u = user.id,
            token = cipher().seal("EAAGuser-token"),
            url = storage.url_of(&key),
        ))
        .await
        .unwrap();
    World {
        db,
        graph,
        state,
        user,
        campaign: campaign.to_string(),
    }
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

async fn meta(w: &World) {
    let g = &w.graph;
    Mock::given(method("GET"))
        .and(path("/v25.0/me/accounts"))
        .respond_with(ok(
            json!({"data": [{"id": "104857600012345", "name": "Chai Point"}]}),
        ))
        .mount(g)
        .await;
    Mock::given(method("POST"))
        .and(path("/v25.0/act_1234567890/campaigns"))
        .respond_with(ok(json!({"id": "23850000000000001"})))
        .mount(g)
        .await;
    Mock::given(method("POST"))
        .and(path("/v25.0/act_1234567890/adsets"))
        .respond_with(ok(json!({"id": "23850000000000002"})))
        .mount(g)
        .await;
    Mock::given(method("POST")).and(path("/v25.0/act_1234567890/adimages"))
        .respond_with(ok(json!({"images": {"bytes": {"hash": "0a1b2c3d4e", "url": "https://scontent.example/x.png"}}}))).mount(g).await;
    Mock::given(method("POST"))
        .and(path("/v25.0/act_1234567890/ads"))
        .respond_with(ok(json!({"id": "23850000000000004"})))
        .mount(g)
        .await;
    for id in [
        "23850000000000001",
        "23850000000000002",
        "23850000000000004",
    ] {
        Mock::given(method("POST"))
            .and(path(format!("/v25.0/{id}")))
            .respond_with(ok(json!({"success": true})))
            .mount(g)
            .await;
    }
}

async fn creative_fails_once_then_works(w: &World) {
    Mock::given(method("POST")).and(path("/v25.0/act_1234567890/adcreatives"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "(#100) The Page is not published", "type": "OAuthException", "code": 100, "fbtrace_id": "X"}})))
        .up_to_n_times(1)
        .mount(&w.graph)
        .await;
    Mock::given(method("POST"))
        .and(path("/v25.0/act_1234567890/adcreatives"))
        .respond_with(ok(json!({"id": "23850000000000003"})))
        .mount(&w.graph)
        .await;
}

async fn call(w: &World, m: Method, p: &str, body: Option<Value>) -> Reply {
    reply(campaigns::handle(&w.state, request(m, p, body.as_ref(), Some(&w.user.token))).await)
}

/// The form parameters of every request Meta received on `path`, in order.
async fn sent(w: &World, p: &str) -> Vec<Vec<(String, String)>> {
    w.graph
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == p)
        .map(|r| url::form_urlencoded::parse(&r.body).into_owned().collect())
        .collect()
}

fn param<'a>(form: &'a [(String, String)], key: &str) -> &'a str {
    form.iter()
        .find(|(k, _)| k == key)
        .map_or("", |(_, v)| v.as_str())
}

#[tokio::test]
async fn a_launch_that_fails_midway_resumes_without_duplicates() {
    let w = world().await;
    meta(&w).await;
    creative_fails_once_then_works(&w).await;
    let launch = format!("/v1/campaigns/{}/launch", w.campaign);

    let first = call(
        &w,
        Method::POST,
        &launch,
        Some(json!({"ad_account_id": "act_1234567890"})),
    )
    .await;
    assert_eq!(
        (first.status, first.code()),
        (StatusCode::BAD_GATEWAY, "upstream_error")
    );
    assert_eq!(
        first.body["detail"], "Meta: (#100) The Page is not published",
        "Meta's message reaches the user"
    );
    let row = w.db.superuser().await
        .query_one(&format!("SELECT status, meta_campaign_id, meta_adset_id, meta_launch FROM campaigns WHERE id = '{}'", w.campaign), &[])
        .await.unwrap();
    assert_eq!(row.get::<_, String>(0), "draft");
    assert_eq!(
        (
            row.get::<_, Option<String>>(1).as_deref(),
            row.get::<_, Option<String>>(2).as_deref()
        ),
        (Some("23850000000000001"), Some("23850000000000002")),
        "what was made is recorded"
    );
    assert!(
        row.get::<_, Value>(3)["last_error"]
            .as_str()
            .unwrap()
            .contains("not published")
    );

    let second = call(
        &w,
        Method::POST,
        &launch,
        Some(json!({"ad_account_id": "act_1234567890"})),
    )
    .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(
        (
            second.body["status"].as_str(),
            second.body["meta_campaign_id"].as_str()
        ),
        (Some("active"), Some("23850000000000001"))
    );

    let campaigns = sent(&w, "/v25.0/act_1234567890/campaigns").await;
    assert_eq!(
        campaigns.len(),
        1,
        "the retry did not create a second campaign"
    );
    let c = &campaigns[0];
    assert_eq!(
        (
            param(c, "objective"),
            param(c, "status"),
            param(c, "special_ad_categories")
        ),
        ("OUTCOME_SALES", "PAUSED", "[]")
    );
    assert!(!param(c, "appsecret_proof").is_empty());
    let adsets = sent(&w, "/v25.0/act_1234567890/adsets").await;
    assert_eq!(adsets.len(), 1);
    let s = &adsets[0];
    assert_eq!(param(s, "daily_budget"), "150050", "₹1500.50 in paise");
    assert_eq!(
        (
            param(s, "campaign_id"),
            param(s, "status"),
            param(s, "billing_event")
        ),
        ("23850000000000001", "PAUSED", "IMPRESSIONS")
    );
    assert_eq!(param(s, "end_time"), "2027-01-01T00:00:00+00:00");
    let targeting: Value = serde_json::from_str(param(s, "targeting")).unwrap();
    assert_eq!(
        targeting,
        json!({"age_min": 21, "age_max": 45, "genders": [2], "geo_locations": {"countries": ["IN"]},
                                 "flexible_spec": [{"interests": [{"id": "6003139266461", "name": "Tea"}]}]})
    );
    assert_eq!(
        sent(&w, "/v25.0/act_1234567890/adimages").await.len(),
        1,
        "the image was uploaded once"
    );
    let creatives = sent(&w, "/v25.0/act_1234567890/adcreatives").await;
    assert_eq!(creatives.len(), 2, "the failed creative was tried again");
    let spec: Value = serde_json::from_str(param(&creatives[1], "object_story_spec")).unwrap();
    assert_eq!(spec["page_id"], "104857600012345");
    assert_eq!(
        (
            spec["link_data"]["image_hash"].as_str(),
            spec["link_data"]["link"].as_str()
        ),
        (Some("0a1b2c3d4e"), Some("https://chai.example"))
    );
    let ads = sent(&w, "/v25.0/act_1234567890/ads").await;
    assert_eq!(ads.len(), 1);
    assert_eq!(
        serde_json::from_str::<Value>(param(&ads[0], "creative")).unwrap(),
        json!({"creative_id": "23850000000000003"})
    );
    for object in [
        "23850000000000001",
        "23850000000000002",
        "23850000000000004",
    ] {
        let posts = sent(&w, &format!("/v25.0/{object}")).await;
        assert_eq!(
            posts.iter().map(|f| param(f, "status")).collect::<Vec<_>>(),
            ["ACTIVE"],
            "{object} activated"
        );
    }
    let again = call(
        &w,
        Method::POST,
        &launch,
        Some(json!({"ad_account_id": "act_1234567890"})),
    )
    .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "already_launched")
    );
}

#[tokio::test]
async fn pause_resume_and_budget_changes_follow_meta() {
    let w = world().await;
    meta(&w).await;
    Mock::given(method("POST"))
        .and(path("/v25.0/act_1234567890/adcreatives"))
        .respond_with(ok(json!({"id": "23850000000000003"})))
        .mount(&w.graph)
        .await;
    let base = format!("/v1/campaigns/{}", w.campaign);
    let r = call(&w, Method::POST, &format!("{base}/pause"), None).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "not_launched"));
    assert_eq!(
        call(
            &w,
            Method::POST,
            &format!("{base}/launch"),
            Some(json!({"ad_account_id": "act_1234567890"}))
        )
        .await
        .status,
        StatusCode::OK
    );

    let paused = call(&w, Method::POST, &format!("{base}/pause"), None).await;
    assert_eq!(paused.body["status"], "paused");
    let resumed = call(&w, Method::POST, &format!("{base}/resume"), None).await;
    assert_eq!(resumed.body["status"], "active");
    let statuses: Vec<String> = sent(&w, "/v25.0/23850000000000001")
        .await
        .iter()
        .map(|f| param(f, "status").to_owned())
        .collect();
    assert_eq!(statuses, ["ACTIVE", "PAUSED", "ACTIVE"]);

    let changed = call(
        &w,
        Method::PATCH,
        &base,
        Some(json!({"daily_budget": "2000.00"})),
    )
    .await;
    assert_eq!(
        (changed.status, changed.body["daily_budget"].as_str()),
        (StatusCode::OK, Some("2000.00"))
    );
    let adset = sent(&w, "/v25.0/23850000000000002").await;
    assert_eq!(param(adset.last().unwrap(), "daily_budget"), "200000");

    Mock::given(method("POST"))
        .and(path("/v25.0/23850000000000002"))
        .and(body_string_contains("daily_budget=1"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "(#100) Budget is too low", "type": "OAuthException", "code": 100}})))
        .with_priority(1)
        .mount(&w.graph)
        .await;
    let refused = call(
        &w,
        Method::PATCH,
        &base,
        Some(json!({"daily_budget": "10.00"})),
    )
    .await;
    assert_eq!(
        (refused.status, refused.body["detail"].as_str()),
        (
            StatusCode::BAD_GATEWAY,
            Some("Meta: (#100) Budget is too low")
        )
    );
    let now = call(&w, Method::GET, &base, None).await;
    assert_eq!(
        now.body["daily_budget"], "2000.00",
        "refused by Meta: unchanged here"
    );
}

#[tokio::test]
async fn a_campaign_without_what_an_ad_needs_is_not_launched() {
    let w = world().await;
    let launch = format!("/v1/campaigns/{}/launch", w.campaign);
    let r = call(
        &w,
        Method::POST,
        &launch,
        Some(json!({"ad_account_id": "act_999"})),
    )
    .await;
    assert_eq!(
        (r.status, r.fields()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["ad_account_id".to_owned()]
        )
    );
    w.db.superuser()
        .await
        .execute("DELETE FROM campaign_assets", &[])
        .await
        .unwrap();
    let r = call(
        &w,
        Method::POST,
        &launch,
        Some(json!({"ad_account_id": "act_1234567890"})),
    )
    .await;
    assert_eq!(r.fields(), ["assets"]);
    assert!(
        w.graph.received_requests().await.unwrap().is_empty(),
        "nothing reached Meta"
    );
}
