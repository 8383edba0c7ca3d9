//! Launching to Meta against a local server speaking the Graph API's wire format: the
//! exact requests (objects in order, PAUSED first, budgets in paise, targeting in Meta's
//! names), a failure in the middle that a retry resumes without duplicating anything,
//! pause and resume, and budget changes pushed to the ad set; one launch at a time, every
//! Meta object looked up by its tag before it is made, budgets in the ad account's
//! currency, and every status change of a launched campaign made on Meta first.

use campaigns::State;
use lambda_http::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::aws::relay::Relay;
use shared::meta::Graph;
use shared::repo::meta_accounts::token_binding;
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
    world_in("INR", "1500.50").await
}

/// A draft campaign with one image, budgeted `daily` a day in `currency`, on an ad
/// account billing in `currency`.
async fn world_in(currency: &str, daily: &str) -> World {
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
                  VALUES ('{c}', '{u}', 'act_1234567890', 1, '{currency}');
             INSERT INTO business_profiles (user_id, business_name, website_url) VALUES ('{u}', 'Chai Point', 'https://chai.example');
             INSERT INTO creative_assets (id, user_id, asset_type, status, file_url, format, filename)
                  VALUES ('{asset}', '{u}', 'image', 'active', '{url}', '1:1', 'hero.png');
             INSERT INTO campaigns (id, user_id, name, purpose, objective, currency, daily_budget, end_date, target_audience, status)
                  VALUES ('{campaign}', '{u}', 'Winter chai', 'sales', 'OUTCOME_SALES', '{currency}', {daily}, '2026-12-31',
                          '{{\"age_min\": 21, \"age_max\": 45, \"genders\": [2], \"geo_locations\": {{\"countries\": [\"IN\"]}},
                            \"interests\": [{{\"id\": \"6003139266461\", \"name\": \"Tea\"}}]}}', 'draft');
             INSERT INTO campaign_assets (campaign_id, asset_id, asset_role) VALUES ('{campaign}', '{asset}', 'primary');",
            c = uuid::Uuid::new_v4(),
            u = user.id,
            token = cipher().seal("EAAGuser-token", &token_binding(user.id.0, "fb1")),
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
    // Nothing of ours on Meta yet: every tag lookup finds nothing.
    for edge in ["campaigns", "adsets", "adcreatives", "ads", "advideos"] {
        Mock::given(method("GET"))
            .and(path(format!("/v25.0/act_1234567890/{edge}")))
            .respond_with(ok(json!({"data": []})))
            .mount(g)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/v25.0/act_1234567890/minimum_budgets"))
        .respond_with(ok(json!({"data": [
            {"currency": "INR", "min_daily_budget_imp": 8900, "min_daily_budget_high_freq": 44100,
             "min_daily_budget_low_freq": 88000, "min_daily_budget_video_views": 44100},
            {"currency": "USD", "min_daily_budget_imp": 100, "min_daily_budget_high_freq": 500,
             "min_daily_budget_low_freq": 1000, "min_daily_budget_video_views": 500},
            {"currency": "JPY", "min_daily_budget_imp": 120, "min_daily_budget_high_freq": 600,
             "min_daily_budget_low_freq": 1500, "min_daily_budget_video_views": 600}]})))
        .mount(g)
        .await;
    Mock::given(method("GET"))
        .and(path("/v25.0/act_1234567890/adspixels"))
        .respond_with(ok(
            json!({"data": [{"id": "1122334455", "name": "Chai Point pixel"}]}),
        ))
        .mount(g)
        .await;
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
    assert_eq!(param(s, "optimization_goal"), "OFFSITE_CONVERSIONS");
    assert_eq!(
        serde_json::from_str::<Value>(param(s, "promoted_object")).unwrap(),
        json!({"pixel_id": "1122334455", "custom_event_type": "PURCHASE"}),
        "a sales campaign optimises for the pixel's purchases"
    );
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

async fn creative_works(w: &World) {
    Mock::given(method("POST"))
        .and(path("/v25.0/act_1234567890/adcreatives"))
        .respond_with(ok(json!({"id": "23850000000000003"})))
        .mount(&w.graph)
        .await;
}

async fn launch(w: &World) -> Reply {
    call(
        w,
        Method::POST,
        &format!("/v1/campaigns/{}/launch", w.campaign),
        Some(json!({"ad_account_id": "act_1234567890"})),
    )
    .await
}

#[tokio::test]
async fn two_simultaneous_launches_make_exactly_one_meta_campaign() {
    let w = world().await;
    // Meta takes its time creating the campaign, so the second launch arrives mid-way.
    Mock::given(method("POST"))
        .and(path("/v25.0/act_1234567890/campaigns"))
        .respond_with(
            ok(json!({"id": "23850000000000001"})).set_delay(std::time::Duration::from_millis(400)),
        )
        .with_priority(1)
        .mount(&w.graph)
        .await;
    meta(&w).await;
    creative_works(&w).await;

    let (a, b) = tokio::join!(launch(&w), async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        launch(&w).await
    });
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(
        (b.status, b.code()),
        (StatusCode::CONFLICT, "launch_in_progress"),
        "{}",
        b.body
    );
    assert!(b.body["retry_at"].is_string() && b.body["progress"].is_object());
    assert_eq!(
        sent(&w, "/v25.0/act_1234567890/campaigns").await.len(),
        1,
        "one Meta campaign"
    );
    assert_eq!(sent(&w, "/v25.0/act_1234567890/adsets").await.len(), 1);
    let claim: Option<uuid::Uuid> =
        w.db.superuser()
            .await
            .query_one(
                &format!(
                    "SELECT launch_claim FROM campaigns WHERE id = '{}'",
                    w.campaign
                ),
                &[],
            )
            .await
            .unwrap()
            .get(0);
    assert_eq!(claim, None, "the claim is released when the launch ends");
    let again = launch(&w).await;
    assert_eq!(again.code(), "already_launched");
}

#[tokio::test]
async fn a_launch_that_crashed_after_meta_answered_finds_its_objects_instead_of_making_more() {
    let w = world().await;
    // Meta made the campaign and ad set, but our commit never happened.
    for (edge, id, name) in [
        (
            "campaigns",
            "23850000000000009",
            format!("Winter chai [adpilot:{}]", w.campaign),
        ),
        (
            "adsets",
            "23850000000000008",
            format!("Winter chai — ad set [adpilot:{}:adset]", w.campaign),
        ),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/v25.0/act_1234567890/{edge}")))
            .respond_with(ok(json!({"data": [{"id": id, "name": name}]})))
            .with_priority(1)
            .mount(&w.graph)
            .await;
        Mock::given(method("POST"))
            .and(path(format!("/v25.0/{id}")))
            .respond_with(ok(json!({"success": true})))
            .mount(&w.graph)
            .await;
    }
    meta(&w).await;
    creative_works(&w).await;
    let r = launch(&w).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["meta_campaign_id"], "23850000000000009");
    assert!(sent(&w, "/v25.0/act_1234567890/campaigns").await.is_empty());
    assert!(sent(&w, "/v25.0/act_1234567890/adsets").await.is_empty());
    let lookups: Vec<String> = w
        .graph
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "GET" && r.url.path() == "/v25.0/act_1234567890/campaigns")
        .map(|r| r.url.query().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(lookups.len(), 1);
    let filtering: Vec<(String, String)> = url::form_urlencoded::parse(lookups[0].as_bytes())
        .into_owned()
        .filter(|(k, _)| k == "filtering")
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&filtering[0].1).unwrap(),
        json!([{"field": "name", "operator": "CONTAIN", "value": format!("[adpilot:{}]", w.campaign)}])
    );
    assert_eq!(
        sent(&w, "/v25.0/23850000000000009").await.len(),
        1,
        "activated once"
    );
}

#[tokio::test]
async fn a_usd_account_receives_cents_and_a_jpy_account_whole_yen() {
    for (currency, daily, minor) in [("USD", "15.00", "1500"), ("JPY", "1500", "1500")] {
        let w = world_in(currency, daily).await;
        meta(&w).await;
        creative_works(&w).await;
        let r = launch(&w).await;
        assert_eq!(r.status, StatusCode::OK, "{currency}: {}", r.body);
        assert_eq!(r.body["currency"], currency);
        let adsets = sent(&w, "/v25.0/act_1234567890/adsets").await;
        assert_eq!(param(&adsets[0], "daily_budget"), minor, "{currency}");
    }
}

#[tokio::test]
async fn a_campaign_in_another_currency_than_its_ad_account_is_refused_before_meta() {
    let w = world_in("USD", "15.00").await;
    w.db.superuser()
        .await
        .execute(
            "UPDATE campaigns SET currency = 'INR', daily_budget = 1500",
            &[],
        )
        .await
        .unwrap();
    meta(&w).await;
    let r = launch(&w).await;
    assert_eq!(
        (r.status, r.code(), r.fields()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "currency_mismatch",
            vec!["currency".to_owned()]
        )
    );
    assert!(r.body["detail"].as_str().unwrap().contains("bills in USD"));
    assert!(
        w.graph.received_requests().await.unwrap().is_empty(),
        "nothing reached Meta"
    );
}

#[tokio::test]
async fn a_budget_below_metas_minimum_for_the_account_is_refused_with_the_minimum() {
    let w = world_in("USD", "3.00").await;
    meta(&w).await;
    let r = launch(&w).await;
    assert_eq!(
        (r.status, r.code(), r.fields()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "budget_below_minimum",
            vec!["daily_budget".to_owned()]
        )
    );
    assert!(
        r.body["detail"].as_str().unwrap().contains("10.00 USD"),
        "{}",
        r.body
    );
    assert!(sent(&w, "/v25.0/act_1234567890/campaigns").await.is_empty());
}

async fn statuses_of(w: &World, object: &str) -> Vec<String> {
    sent(w, &format!("/v25.0/{object}"))
        .await
        .iter()
        .map(|f| param(f, "status").to_owned())
        .collect()
}

#[tokio::test]
async fn cancelling_a_live_campaign_pauses_and_archives_it_on_meta_first() {
    let w = world().await;
    meta(&w).await;
    creative_works(&w).await;
    assert_eq!(launch(&w).await.status, StatusCode::OK);
    let base = format!("/v1/campaigns/{}", w.campaign);
    let r = call(
        &w,
        Method::PATCH,
        &base,
        Some(json!({"status": "cancelled"})),
    )
    .await;
    assert_eq!(
        (r.status, r.body["status"].as_str()),
        (StatusCode::OK, Some("cancelled")),
        "{}",
        r.body
    );
    assert_eq!(
        statuses_of(&w, "23850000000000001").await,
        ["ACTIVE", "PAUSED", "ARCHIVED"]
    );
    let r = call(&w, Method::POST, &format!("{base}/resume"), None).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "invalid_status_transition")
    );
}

#[tokio::test]
async fn completing_a_campaign_meta_refuses_to_pause_changes_nothing_here() {
    let w = world().await;
    Mock::given(method("POST"))
        .and(path("/v25.0/23850000000000001"))
        .and(body_string_contains("status=PAUSED"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": {
            "message": "An unknown error occurred", "type": "OAuthException", "code": 1}})))
        .with_priority(1)
        .mount(&w.graph)
        .await;
    meta(&w).await;
    creative_works(&w).await;
    assert_eq!(launch(&w).await.status, StatusCode::OK);
    let base = format!("/v1/campaigns/{}", w.campaign);
    let r = call(
        &w,
        Method::PATCH,
        &base,
        Some(json!({"status": "completed"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    let now = call(&w, Method::GET, &base, None).await;
    assert_eq!(now.body["status"], "active", "still what Meta is doing");
}

#[tokio::test]
async fn an_unlaunched_campaign_becomes_active_only_by_launching() {
    let w = world().await;
    let base = format!("/v1/campaigns/{}", w.campaign);
    let r = call(&w, Method::PATCH, &base, Some(json!({"status": "active"}))).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "launch_required")
    );
    let r = call(&w, Method::PATCH, &base, Some(json!({"status": "review"}))).await;
    assert_eq!(r.body["status"], "review");
    let r = call(
        &w,
        Method::PATCH,
        &base,
        Some(json!({"status": "cancelled"})),
    )
    .await;
    assert_eq!(r.body["status"], "cancelled");
    assert!(
        w.graph.received_requests().await.unwrap().is_empty(),
        "a campaign not on Meta changes only here"
    );
}

#[tokio::test]
async fn deleting_a_paused_campaign_archives_it_on_meta_and_keeps_its_history() {
    let w = world().await;
    meta(&w).await;
    creative_works(&w).await;
    assert_eq!(launch(&w).await.status, StatusCode::OK);
    let base = format!("/v1/campaigns/{}", w.campaign);
    call(&w, Method::POST, &format!("{base}/pause"), None).await;
    let r = call(&w, Method::DELETE, &base, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        statuses_of(&w, "23850000000000001").await,
        ["ACTIVE", "PAUSED", "PAUSED", "ARCHIVED"]
    );
    let row = w
        .db
        .superuser()
        .await
        .query_one(
            &format!(
                "SELECT deleted_at IS NOT NULL, meta_campaign_id FROM campaigns WHERE id = '{}'",
                w.campaign
            ),
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0));
    assert_eq!(
        row.get::<_, Option<String>>(1).as_deref(),
        Some("23850000000000001")
    );
}

#[tokio::test]
async fn a_launched_campaigns_currency_cannot_change() {
    let w = world().await;
    meta(&w).await;
    creative_works(&w).await;
    assert_eq!(launch(&w).await.status, StatusCode::OK);
    let base = format!("/v1/campaigns/{}", w.campaign);
    let r = call(&w, Method::PATCH, &base, Some(json!({"currency": "USD"}))).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "currency_locked")
    );
}

#[tokio::test]
async fn name_targeting_and_end_date_of_a_live_campaign_go_to_meta_first() {
    let w = world().await;
    meta(&w).await;
    creative_works(&w).await;
    assert_eq!(launch(&w).await.status, StatusCode::OK);
    let base = format!("/v1/campaigns/{}", w.campaign);
    let r = call(
        &w,
        Method::PATCH,
        &base,
        Some(json!({"name": "Winter chai II", "end_date": "2027-01-15",
                    "target_audience": {"age_min": 25, "geo_locations": {"countries": ["IN", "LK"]}}})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let campaign = sent(&w, "/v25.0/23850000000000001").await;
    assert_eq!(
        param(campaign.last().unwrap(), "name"),
        format!("Winter chai II [adpilot:{}]", w.campaign),
        "renamed with its tag kept"
    );
    let adset = sent(&w, "/v25.0/23850000000000002").await;
    let change = adset.last().unwrap();
    assert_eq!(param(change, "end_time"), "2027-01-16T00:00:00+00:00");
    let t: Value = serde_json::from_str(param(change, "targeting")).unwrap();
    assert_eq!(
        t,
        json!({"age_min": 25, "geo_locations": {"countries": ["IN", "LK"]}})
    );
    let r = call(&w, Method::PATCH, &base, Some(json!({"end_date": null}))).await;
    assert_eq!(r.fields(), ["end_date"]);
}

#[tokio::test]
async fn a_creative_attached_to_a_live_campaign_gets_an_ad_and_switching_it_off_pauses_it() {
    let w = world().await;
    meta(&w).await;
    creative_works(&w).await;
    assert_eq!(launch(&w).await.status, StatusCode::OK);
    let key = format!("uploads/{}/offer/offer.png", w.user.id);
    w.state
        .storage
        .put(&key, "image/png", b"\x89PNG\r\n\x1a\nother-bytes".to_vec())
        .await
        .unwrap();
    let offer = uuid::Uuid::new_v4();
    w.db.superuser()
        .await
        .execute(
            "INSERT INTO creative_assets (id, user_id, asset_type, status, file_url, format, filename) \
             VALUES ($1, $2, 'image', 'active', $3, '1:1', 'offer.png')",
            &[&offer, &w.user.id.0, &w.state.storage.url_of(&key)],
        )
        .await
        .unwrap();
    let link = format!("/v1/campaigns/{}/assets/{offer}", w.campaign);
    let r = call(
        &w,
        Method::PUT,
        &link,
        Some(json!({"asset_role": "variation"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(sent(&w, "/v25.0/act_1234567890/adimages").await.len(), 2);
    assert_eq!(
        sent(&w, "/v25.0/act_1234567890/ads").await.len(),
        2,
        "one more ad"
    );
    assert_eq!(
        sent(&w, "/v25.0/act_1234567890/campaigns").await.len(),
        1,
        "nothing else made again"
    );
    let progress: Value =
        w.db.superuser()
            .await
            .query_one(
                "SELECT meta_launch FROM campaigns WHERE id = $1",
                &[&uuid::Uuid::parse_str(&w.campaign).unwrap()],
            )
            .await
            .unwrap()
            .get(0);
    assert!(progress["ads"][offer.to_string()]["ad_id"].is_string());

    let before = statuses_of(&w, "23850000000000004").await.len();
    let r = call(&w, Method::PUT, &link, Some(json!({"is_active": false}))).await;
    assert_eq!(
        (r.status, r.body["is_active"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    let after = statuses_of(&w, "23850000000000004").await;
    assert_eq!(after.len(), before + 1);
    assert_eq!(after.last().unwrap(), "PAUSED");
    let r = call(&w, Method::DELETE, &link, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        statuses_of(&w, "23850000000000004").await.last().unwrap(),
        "PAUSED"
    );
}

async fn estimates(w: &World) {
    Mock::given(method("GET"))
        .and(path("/v25.0/act_1234567890/delivery_estimate"))
        .respond_with(ok(
            json!({"data": [{"estimate_ready": true, "estimate_dau": 9_000_000,
            "estimate_mau_lower_bound": 25_500_000, "estimate_mau_upper_bound": 34_500_000,
            "daily_outcomes_curve": [
                {"spend": 0, "reach": 0, "impressions": 0, "actions": 0},
                {"spend": 100_000, "reach": 60_000, "impressions": 90_000, "actions": 900},
                {"spend": 200_000, "reach": 100_000, "impressions": 160_000, "actions": 1500}]}]}),
        ))
        .mount(&w.graph)
        .await;
}

#[tokio::test]
async fn a_drafts_reach_is_estimated_by_meta_for_its_targeting_and_budget() {
    let w = world().await;
    estimates(&w).await;
    let r = call(
        &w,
        Method::GET,
        &format!("/v1/campaigns/{}/estimate", w.campaign),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (
            r.body["audience_lower_bound"].as_i64(),
            r.body["audience_upper_bound"].as_i64(),
            r.body["ad_account_id"].as_str()
        ),
        (Some(25_500_000), Some(34_500_000), Some("act_1234567890"))
    );
    // ₹1500.50 a day is 150,050 paise: halfway between the curve's points.
    assert_eq!(r.body["daily"]["reach"], 80_020);
    assert_eq!(r.body["daily"]["budget"], "1500.50");
    let asked = w.graph.received_requests().await.unwrap();
    let q: Vec<(String, String)> =
        url::form_urlencoded::parse(asked[0].url.query().unwrap().as_bytes())
            .into_owned()
            .collect();
    let get = |k: &str| {
        q.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(
        get("optimization_goal"),
        "OFFSITE_CONVERSIONS",
        "a sales campaign"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&get("targeting_spec")).unwrap()["geo_locations"],
        json!({"countries": ["IN"]})
    );

    // A budget change refreshes it, stored on the campaign.
    let changed = call(
        &w,
        Method::PATCH,
        &format!("/v1/campaigns/{}", w.campaign),
        Some(json!({"daily_budget": "2000.00"})),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(
        changed.body["audience_size_estimate"]["daily"]["reach"],
        100_000
    );
    assert_eq!(
        changed.body["audience_size_estimate"]["daily"]["budget"],
        "2000.00"
    );
}

#[tokio::test]
async fn a_sales_campaign_without_a_pixel_is_refused_naming_it_instead_of_buying_clicks() {
    let w = world().await;
    Mock::given(method("GET"))
        .and(path("/v25.0/act_1234567890/adspixels"))
        .respond_with(ok(json!({"data": []})))
        .with_priority(1)
        .mount(&w.graph)
        .await;
    meta(&w).await;
    let r = launch(&w).await;
    assert_eq!(
        (r.status, r.code(), r.fields()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "pixel_required",
            vec!["pixel".to_owned()]
        )
    );
    assert!(sent(&w, "/v25.0/act_1234567890/campaigns").await.is_empty());

    // The traffic objective needs no pixel and buys link clicks.
    call(
        &w,
        Method::PATCH,
        &format!("/v1/campaigns/{}", w.campaign),
        Some(json!({"objective": "OUTCOME_TRAFFIC"})),
    )
    .await;
    creative_works(&w).await;
    assert_eq!(launch(&w).await.status, StatusCode::OK);
    let adset = &sent(&w, "/v25.0/act_1234567890/adsets").await[0];
    assert_eq!(param(adset, "optimization_goal"), "LINK_CLICKS");
    assert_eq!(param(adset, "promoted_object"), "");
}

#[tokio::test]
async fn an_app_installs_campaign_needs_its_app_and_promotes_it() {
    let w = world().await;
    meta(&w).await;
    creative_works(&w).await;
    let base = format!("/v1/campaigns/{}", w.campaign);
    let bad = call(
        &w,
        Method::PATCH,
        &base,
        Some(json!({"purpose": "app_installs", "promoted_app": {"application_id": "x", "object_store_url": "http://evil.example"}})),
    )
    .await;
    assert_eq!(
        bad.fields(),
        [
            "promoted_app.application_id",
            "promoted_app.object_store_url"
        ]
    );
    call(
        &w,
        Method::PATCH,
        &base,
        Some(json!({"purpose": "app_installs"})),
    )
    .await;
    let r = launch(&w).await;
    assert_eq!(
        (r.code(), r.fields()),
        ("app_required", vec!["promoted_app".to_owned()])
    );
    let app = json!({"application_id": "1234567890123",
                     "object_store_url": "https://play.google.com/store/apps/details?id=com.chaipoint.app"});
    let r = call(&w, Method::PATCH, &base, Some(json!({"promoted_app": app}))).await;
    assert_eq!(r.body["promoted_app"], app);
    assert_eq!(launch(&w).await.status, StatusCode::OK);
    let adset = &sent(&w, "/v25.0/act_1234567890/adsets").await[0];
    assert_eq!(param(adset, "optimization_goal"), "APP_INSTALLS");
    assert_eq!(
        serde_json::from_str::<Value>(param(adset, "promoted_object")).unwrap(),
        app
    );
}

#[tokio::test]
async fn a_video_ad_carries_metas_thumbnail_of_the_video() {
    let w = world().await;
    w.db.superuser()
        .await
        .execute("UPDATE creative_assets SET asset_type = 'video'", &[])
        .await
        .unwrap();
    Mock::given(method("POST"))
        .and(path("/v25.0/act_1234567890/advideos"))
        .respond_with(ok(json!({"id": "900001"})))
        .mount(&w.graph)
        .await;
    Mock::given(method("GET"))
        .and(path("/v25.0/900001/thumbnails"))
        .respond_with(ok(json!({"data": [
            {"id": "t1", "uri": "https://scontent.example/t1.jpg", "is_preferred": false},
            {"id": "t2", "uri": "https://scontent.example/t2.jpg", "is_preferred": true}]})))
        .mount(&w.graph)
        .await;
    meta(&w).await;
    creative_works(&w).await;
    let r = launch(&w).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let creative = &sent(&w, "/v25.0/act_1234567890/adcreatives").await[0];
    let spec: Value = serde_json::from_str(param(creative, "object_story_spec")).unwrap();
    assert_eq!(
        (
            spec["video_data"]["video_id"].as_str(),
            spec["video_data"]["image_url"].as_str()
        ),
        (Some("900001"), Some("https://scontent.example/t2.jpg"))
    );
}

#[tokio::test]
async fn an_edit_based_on_a_stale_version_is_refused_and_writes_nothing() {
    let w = world().await;
    let base = format!("/v1/campaigns/{}", w.campaign);
    let read = call(&w, Method::GET, &base, None).await;
    let etag = read.etag.clone().expect("an ETag");
    let mut req = shared::testing::api::request(
        Method::PATCH,
        &base,
        Some(&json!({"name": "First edit"})),
        Some(&w.user.token),
    );
    req.headers_mut().insert("if-match", etag.parse().unwrap());
    let first = reply(campaigns::handle(&w.state, req).await);
    assert_eq!(first.status, StatusCode::OK);
    assert_ne!(
        first.etag.as_deref().expect("an ETag"),
        etag.as_str(),
        "a new version"
    );

    let mut stale = shared::testing::api::request(
        Method::PATCH,
        &base,
        Some(&json!({"name": "Edit from an old screen"})),
        Some(&w.user.token),
    );
    stale
        .headers_mut()
        .insert("if-match", etag.parse().unwrap());
    let r = reply(campaigns::handle(&w.state, stale).await);
    assert_eq!((r.status.as_u16(), r.code()), (412, "stale_version"));
    let now = call(&w, Method::GET, &base, None).await;
    assert_eq!(now.body["name"], "First edit");
}

#[tokio::test]
async fn two_simultaneous_edits_of_a_live_campaign_never_leave_meta_and_adpilot_apart() {
    let w = world().await;
    // Meta takes its time with the budget, so the second edit arrives mid-way.
    Mock::given(method("POST"))
        .and(path("/v25.0/23850000000000002"))
        .and(body_string_contains("daily_budget"))
        .respond_with(ok(json!({"success": true})).set_delay(std::time::Duration::from_millis(400)))
        .with_priority(1)
        .mount(&w.graph)
        .await;
    meta(&w).await;
    creative_works(&w).await;
    assert_eq!(launch(&w).await.status, StatusCode::OK);
    let base = format!("/v1/campaigns/{}", w.campaign);
    let (a, b) = tokio::join!(
        call(
            &w,
            Method::PATCH,
            &base,
            Some(json!({"daily_budget": "2000.00"}))
        ),
        async {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            call(
                &w,
                Method::PATCH,
                &base,
                Some(json!({"daily_budget": "2500.00"})),
            )
            .await
        }
    );
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(
        (b.status, b.code()),
        (StatusCode::CONFLICT, "launch_in_progress")
    );
    let budgets: Vec<String> = sent(&w, "/v25.0/23850000000000002")
        .await
        .iter()
        .map(|f| param(f, "daily_budget").to_owned())
        .filter(|b| !b.is_empty())
        .collect();
    assert_eq!(
        budgets,
        ["200000"],
        "only the edit that was kept reached Meta"
    );
    let now = call(&w, Method::GET, &base, None).await;
    assert_eq!(now.body["daily_budget"], "2000.00");
}

#[tokio::test]
async fn changing_a_campaign_that_is_not_yours_is_a_404() {
    let w = world().await;
    let other = TestUser::create(&w.db, "other@example.com").await;
    let base = format!("/v1/campaigns/{}", w.campaign);
    for (m, p) in [
        (Method::PATCH, base.clone()),
        (Method::DELETE, base.clone()),
        (Method::POST, format!("{base}/pause")),
    ] {
        let r = reply(
            campaigns::handle(
                &w.state,
                shared::testing::api::request(m.clone(), &p, Some(&json!({})), Some(&other.token)),
            )
            .await,
        );
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{m} {p}: {}", r.body);
    }
}
