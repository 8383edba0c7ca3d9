//! Connecting Meta against a local server speaking the Graph API's wire format (exact
//! requests asserted): the dialog URL and its state, the code and long-lived token
//! exchanges, permissions checked, ad accounts stored, the token sealed; refusals are
//! clear; connections are listed without tokens and revoked locally. The callback is
//! completed by the signed-in user who started the login, once.

use lambda_http::http::{Method, StatusCode};
use meta_accounts::State;
use serde_json::{Value, json};
use shared::crypto::Sealed;
use shared::meta::Graph;
use shared::repo::meta_accounts::token_binding;
use shared::testing::TestDb;
use shared::testing::api::{Reply, TestUser, cipher, context, reply, request};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REDIRECT: &str = "https://api.adpilot.example/v1/meta/callback";

fn app(db: &TestDb, graph: &MockServer) -> State {
    State {
        ctx: context(db),
        graph: Graph::new(&format!("{}/v25.0", graph.uri()), "1234567", "app-secret"),
        cipher: cipher(),
        state_secret: b"state-secret".to_vec(),
        redirect_uri: REDIRECT.into(),
    }
}

async fn call(state: &State, path: &str, user: Option<&TestUser>, m: Method) -> Reply {
    reply(
        meta_accounts::handle(
            state,
            request(m, path, None, user.map(|u| u.token.as_str())),
        )
        .await,
    )
}

/// Completes the login as the web app does: `{code, state}` posted with the user's token.
async fn complete(state: &State, user: Option<&TestUser>, body: Value) -> Reply {
    reply(
        meta_accounts::handle(
            state,
            request(
                Method::POST,
                "/v1/meta/callback",
                Some(&body),
                user.map(|u| u.token.as_str()),
            ),
        )
        .await,
    )
}

async fn connections(db: &TestDb) -> i64 {
    db.superuser()
        .await
        .query_one("SELECT count(*) FROM meta_accounts", &[])
        .await
        .unwrap()
        .get(0)
}

/// Facebook's side of a login that grants `granted`.
async fn facebook(graph: &MockServer, granted: &[&str]) {
    Mock::given(method("GET"))
        .and(path("/v25.0/oauth/access_token"))
        .and(query_param("code", "AQ-the-code"))
        .and(query_param("redirect_uri", REDIRECT))
        .and(query_param("client_id", "1234567"))
        .and(query_param("client_secret", "app-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "EAAGshort", "token_type": "bearer", "expires_in": 5400}),
        ))
        .expect(1)
        .mount(graph)
        .await;
    Mock::given(method("GET"))
        .and(path("/v25.0/oauth/access_token"))
        .and(query_param("grant_type", "fb_exchange_token"))
        .and(query_param("fb_exchange_token", "EAAGshort"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"access_token": "EAAGlong-lived", "token_type": "bearer", "expires_in": 5183944})))
        .expect(1)
        .mount(graph)
        .await;
    Mock::given(method("GET"))
        .and(path("/v25.0/me"))
        .and(header("authorization", "OAuth EAAGlong-lived"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "10160000000000001", "name": "Asha Rao"})),
        )
        .mount(graph)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v25.0/me/permissions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .mount(graph)
        .await;
    let perms: Vec<Value> = ["ads_management", "ads_read", "business_management", "public_profile"]
        .iter()
        .map(|p| json!({"permission": p, "status": if granted.contains(p) { "granted" } else { "declined" }}))
        .collect();
    Mock::given(method("GET"))
        .and(path("/v25.0/me/permissions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": perms})))
        .mount(graph)
        .await;
    Mock::given(method("GET"))
        .and(path("/v25.0/me/adaccounts"))
        .and(query_param("fields", "account_id,name,account_status,currency,timezone_name,timezone_offset_hours_utc"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [
            {"id": "act_1234567890", "account_id": "1234567890", "name": "Chai Point Ads", "account_status": 1,
             "currency": "INR", "timezone_name": "Asia/Kolkata", "timezone_offset_hours_utc": 5.5},
            {"id": "act_2345678901", "account_id": "2345678901", "name": "Old", "account_status": 2,
             "currency": "INR", "timezone_name": "Asia/Kolkata"}]})))
        .mount(graph)
        .await;
}

fn state_of(url: &str) -> String {
    let q = url.split_once('?').unwrap().1;
    form_pairs(q)
        .into_iter()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
}

fn form_pairs(q: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect()
}

#[tokio::test]
async fn connecting_stores_the_accounts_and_only_a_sealed_token() {
    let db = TestDb::fresh().await;
    let graph = MockServer::start().await;
    let state = app(&db, &graph);
    let user = TestUser::create(&db, "owner@example.com").await;
    facebook(
        &graph,
        &["ads_management", "ads_read", "business_management"],
    )
    .await;

    let link = call(&state, "/v1/meta/connect", Some(&user), Method::GET).await;
    assert_eq!(link.status, StatusCode::OK);
    let url = link.body["authorization_url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/v25.0/dialog/oauth?", graph.uri())),
        "{url}"
    );
    let params = form_pairs(url.split_once('?').unwrap().1);
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("client_id").as_deref(), Some("1234567"));
    assert_eq!(get("redirect_uri").as_deref(), Some(REDIRECT));
    assert_eq!(
        get("scope").as_deref(),
        Some("ads_management,ads_read,business_management,pages_read_engagement")
    );

    let r = complete(
        &state,
        Some(&user),
        json!({"code": "AQ-the-code", "state": state_of(url)}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["connection"]["meta_user_name"], "Asha Rao");
    assert_eq!(r.body["ad_accounts"].as_array().unwrap().len(), 2);
    assert!(
        !r.body.to_string().contains("EAAG"),
        "no token in the answer"
    );

    let sealed: String = db
        .superuser()
        .await
        .query_one("SELECT access_token FROM meta_accounts", &[])
        .await
        .unwrap()
        .get(0);
    assert!(sealed.starts_with("v2:k1:") && !sealed.contains("EAAG"));
    let bound_to = token_binding(user.id.0, "10160000000000001");
    assert_eq!(
        cipher()
            .open(&Sealed {
                value: sealed.clone(),
                bound_to
            })
            .unwrap(),
        "EAAGlong-lived",
        "the long-lived token, sealed for this user's Meta account"
    );
    let elsewhere = token_binding(uuid::Uuid::new_v4(), "10160000000000001");
    assert!(
        cipher()
            .open(&Sealed {
                value: sealed,
                bound_to: elsewhere
            })
            .is_err(),
        "and nowhere else"
    );

    let list = call(&state, "/v1/meta-accounts", Some(&user), Method::GET).await;
    let connection = list.body["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(list.body["items"][0]["ad_account_count"], 2);
    let accounts = call(
        &state,
        &format!("/v1/meta-accounts/{connection}/ad-accounts"),
        Some(&user),
        Method::GET,
    )
    .await;
    assert_eq!(accounts.body["items"][0]["ad_account_id"], "act_1234567890");

    let other = TestUser::create(&db, "other@example.com").await;
    let theirs = call(
        &state,
        &format!("/v1/meta-accounts/{connection}"),
        Some(&other),
        Method::DELETE,
    )
    .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let revoked = call(
        &state,
        &format!("/v1/meta-accounts/{connection}"),
        Some(&user),
        Method::DELETE,
    )
    .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let row = db
        .superuser()
        .await
        .query_one(
            "SELECT connection_status, access_token FROM meta_accounts",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("revoked".into(), String::new())
    );
}

#[tokio::test]
async fn a_declined_permission_is_reported_and_nothing_is_stored() {
    let db = TestDb::fresh().await;
    let graph = MockServer::start().await;
    let state = app(&db, &graph);
    let user = TestUser::create(&db, "owner@example.com").await;
    facebook(&graph, &["ads_read", "business_management"]).await;
    let link = call(&state, "/v1/meta/connect", Some(&user), Method::GET).await;
    let st = state_of(link.body["authorization_url"].as_str().unwrap());
    let r = complete(
        &state,
        Some(&user),
        json!({"code": "AQ-the-code", "state": st}),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "permissions_missing")
    );
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("allow ads_management"),
        "{}",
        r.body
    );
    let n: i64 = db
        .superuser()
        .await
        .query_one("SELECT count(*) FROM meta_accounts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_forged_state_a_declined_login_and_meta_errors_are_clear() {
    let db = TestDb::fresh().await;
    let graph = MockServer::start().await;
    let state = app(&db, &graph);
    let user = TestUser::create(&db, "owner@example.com").await;
    let r = complete(&state, None, json!({"code": "x", "state": "forged.00"})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "a signed-in user only");
    let r = complete(
        &state,
        Some(&user),
        json!({"code": "x", "state": "forged.00"}),
    )
    .await;
    assert_eq!(
        (r.status, r.fields()),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["state".to_owned()])
    );
    let r = complete(&state, Some(&user), json!({})).await;
    assert_eq!(
        (r.status, r.fields()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["state".to_owned(), "code".to_owned()]
        )
    );
    let r = complete(
        &state,
        Some(&user),
        json!({"error": "access_denied", "error_description": "Permissions error", "state": "x"}),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "meta_login_declined")
    );

    Mock::given(method("GET"))
        .and(path("/v25.0/oauth/access_token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "This authorization code has been used.", "type": "OAuthException", "code": 100,
            "error_subcode": 36009, "fbtrace_id": "A1"}})))
        .mount(&graph)
        .await;
    let link = call(&state, "/v1/meta/connect", Some(&user), Method::GET).await;
    let st = state_of(link.body["authorization_url"].as_str().unwrap());
    let r = complete(&state, Some(&user), json!({"code": "used", "state": st})).await;
    assert_eq!(
        (r.status, r.body["detail"].as_str()),
        (
            StatusCode::BAD_GATEWAY,
            Some("Meta: This authorization code has been used.")
        )
    );
}

#[tokio::test]
async fn a_connect_link_completed_by_another_signed_in_user_links_nothing() {
    let db = TestDb::fresh().await;
    let graph = MockServer::start().await;
    let state = app(&db, &graph);
    let owner = TestUser::create(&db, "owner@example.com").await;
    let victim = TestUser::create(&db, "victim@example.com").await;
    let link = call(&state, "/v1/meta/connect", Some(&owner), Method::GET).await;
    let st = state_of(link.body["authorization_url"].as_str().unwrap());

    // The owner's link, opened and completed by someone else signed in to Adpilot.
    let r = complete(
        &state,
        Some(&victim),
        json!({"code": "AQ-the-code", "state": st}),
    )
    .await;
    assert_eq!(
        (r.status, r.fields(), r.body["errors"][0]["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec!["state".to_owned()],
            Some("not_yours")
        )
    );
    assert_eq!(connections(&db).await, 0, "nobody's token is stored");
    assert!(
        graph.received_requests().await.unwrap().is_empty(),
        "the code was never exchanged"
    );
}

#[tokio::test]
async fn a_login_state_completes_one_connect_only_even_when_posted_twice_at_once() {
    let db = TestDb::fresh().await;
    let graph = MockServer::start().await;
    let state = app(&db, &graph);
    let user = TestUser::create(&db, "owner@example.com").await;
    // `expect(1)` on the code exchange: Facebook sees the code once.
    facebook(
        &graph,
        &["ads_management", "ads_read", "business_management"],
    )
    .await;
    let link = call(&state, "/v1/meta/connect", Some(&user), Method::GET).await;
    let st = state_of(link.body["authorization_url"].as_str().unwrap());
    let body = json!({"code": "AQ-the-code", "state": st});
    let (a, b) = tokio::join!(
        complete(&state, Some(&user), body.clone()),
        complete(&state, Some(&user), body.clone())
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 422], "{} / {}", a.body, b.body);
    let refused = if a.status == StatusCode::OK { &b } else { &a };
    assert_eq!(refused.body["errors"][0]["code"], "used");
    let again = complete(&state, Some(&user), body).await;
    assert_eq!(again.body["errors"][0]["code"], "used");
    assert_eq!(connections(&db).await, 1);
}

#[tokio::test]
async fn the_redirect_uri_comes_from_configuration_never_from_request_headers() {
    let db = TestDb::fresh().await;
    let graph = MockServer::start().await;
    let state = app(&db, &graph);
    let user = TestUser::create(&db, "owner@example.com").await;
    let mut req = request(Method::GET, "/v1/meta/connect", None, Some(&user.token));
    for (h, v) in [
        ("host", "evil.example"),
        ("x-forwarded-host", "evil.example"),
        ("x-forwarded-proto", "http"),
    ] {
        req.headers_mut().insert(h, v.parse().unwrap());
    }
    let r = reply(meta_accounts::handle(&state, req).await);
    let url = r.body["authorization_url"].as_str().unwrap();
    let params = form_pairs(url.split_once('?').unwrap().1);
    let redirect = params.iter().find(|(k, _)| k == "redirect_uri").unwrap();
    assert_eq!(redirect.1, REDIRECT);
    assert!(!url.contains("evil.example"));
}

/// Connects `user` through the whole login; the connection id.
async fn connected(state: &State, user: &TestUser) -> String {
    let link = call(state, "/v1/meta/connect", Some(user), Method::GET).await;
    let st = state_of(link.body["authorization_url"].as_str().unwrap());
    let r = complete(
        state,
        Some(user),
        json!({"code": "AQ-the-code", "state": st}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["connection"]["id"].as_str().unwrap().to_owned()
}

fn deletes_of_permissions(requests: &[wiremock::Request]) -> usize {
    requests
        .iter()
        .filter(|r| r.method.as_str() == "DELETE" && r.url.path() == "/v25.0/me/permissions")
        .count()
}

#[tokio::test]
async fn disconnecting_is_refused_while_campaigns_run_unless_they_are_paused_on_meta_first() {
    let db = TestDb::fresh().await;
    let graph = MockServer::start().await;
    let state = app(&db, &graph);
    let user = TestUser::create(&db, "owner@example.com").await;
    facebook(
        &graph,
        &["ads_management", "ads_read", "business_management"],
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/v25.0/23850000000000001"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
        .mount(&graph)
        .await;
    let connection = connected(&state, &user).await;
    let campaign = uuid::Uuid::new_v4();
    db.superuser()
        .await
        .execute(
            "INSERT INTO campaigns (id, user_id, name, purpose, daily_budget, status, meta_campaign_id, meta_ad_account_id) \
             VALUES ($1, $2, 'Winter chai', 'sales', 1500, 'active', '23850000000000001', 'act_1234567890')",
            &[&campaign, &user.id.0],
        )
        .await
        .unwrap();
    let path = format!("/v1/meta-accounts/{connection}");

    let refused = call(&state, &path, Some(&user), Method::DELETE).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::CONFLICT, "campaigns_live")
    );
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("Winter chai")
    );
    let bad = call(
        &state,
        &format!("{path}?pause_campaigns=yes"),
        Some(&user),
        Method::DELETE,
    )
    .await;
    assert_eq!(bad.fields(), ["pause_campaigns"]);
    assert_eq!(
        deletes_of_permissions(&graph.received_requests().await.unwrap()),
        0
    );

    let done = call(
        &state,
        &format!("{path}?pause_campaigns=true"),
        Some(&user),
        Method::DELETE,
    )
    .await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.body);
    let requests = graph.received_requests().await.unwrap();
    let paused: Vec<String> = requests
        .iter()
        .filter(|r| r.url.path() == "/v25.0/23850000000000001")
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(
        paused.len() == 1 && paused[0].contains("status=PAUSED"),
        "{paused:?}"
    );
    assert_eq!(
        deletes_of_permissions(&requests),
        1,
        "the grant is revoked at Meta"
    );
    let row = db
        .superuser()
        .await
        .query_one(
            "SELECT (SELECT status FROM campaigns), (SELECT connection_status FROM meta_accounts)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("paused".into(), "revoked".into())
    );
}

#[tokio::test]
async fn a_token_ending_within_a_week_reads_expiring_and_reconnecting_keeps_the_connection() {
    let db = TestDb::fresh().await;
    let graph = MockServer::start().await;
    let state = app(&db, &graph);
    let user = TestUser::create(&db, "owner@example.com").await;
    facebook(
        &graph,
        &["ads_management", "ads_read", "business_management"],
    )
    .await;
    let connection = connected(&state, &user).await;
    db.superuser()
        .await
        .execute(
            "UPDATE meta_accounts SET token_expires_at = now() + interval '3 days'",
            &[],
        )
        .await
        .unwrap();
    let list = call(&state, "/v1/meta-accounts", Some(&user), Method::GET).await;
    assert_eq!(list.body["items"][0]["connection_status"], "expiring");
    assert!(list.body["items"][0]["token_expires_at"].is_string());

    // Facebook answers a second login the same way (the mocks expect one exchange each).
    graph.reset().await;
    facebook(
        &graph,
        &["ads_management", "ads_read", "business_management"],
    )
    .await;
    let again = connected(&state, &user).await;
    assert_eq!(again, connection, "the same connection, renewed");
    let list = call(&state, "/v1/meta-accounts", Some(&user), Method::GET).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["items"][0]["connection_status"], "active");
    assert_eq!(list.body["items"][0]["ad_account_count"], 2);
}

async fn patch_ad_account(state: &State, path: &str, user: &TestUser, body: Value) -> Reply {
    reply(
        meta_accounts::handle(
            state,
            request(Method::PATCH, path, Some(&body), Some(user.token.as_str())),
        )
        .await,
    )
}

#[tokio::test]
async fn an_ad_accounts_budget_ceiling_is_an_amount_in_its_currency_lifted_by_null_and_set_by_its_owner_only()
 {
    let db = TestDb::fresh().await;
    let graph = MockServer::start().await;
    let state = app(&db, &graph);
    let owner = TestUser::create(&db, "owner@example.com").await;
    let stranger = TestUser::create(&db, "stranger@example.com").await;
    facebook(
        &graph,
        &["ads_management", "ads_read", "business_management"],
    )
    .await;
    let connection = connected(&state, &owner).await;
    let at = format!("/v1/meta-accounts/{connection}/ad-accounts/act_1234567890");

    let set = patch_ad_account(
        &state,
        &at,
        &owner,
        json!({"optimizer_budget_cap": "5000.00"}),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.body["optimizer_budget_cap"], "5000.00");
    assert_eq!(set.body["currency"], "INR");
    let listed = call(
        &state,
        &format!("/v1/meta-accounts/{connection}/ad-accounts"),
        Some(&owner),
        Method::GET,
    )
    .await;
    assert_eq!(listed.body["items"][0]["optimizer_budget_cap"], "5000.00");

    for (body, code) in [
        (json!({"optimizer_budget_cap": "-10"}), "invalid_amount"),
        (json!({"optimizer_budget_cap": "12.345"}), "invalid_amount"),
        (json!({}), "required"),
    ] {
        let r = patch_ad_account(&state, &at, &owner, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.body
        );
        assert_eq!(
            r.body["errors"][0]["field"], "optimizer_budget_cap",
            "{}",
            r.body
        );
        assert_eq!(r.body["errors"][0]["code"], code, "{}", r.body);
    }
    let unknown = patch_ad_account(&state, &at, &owner, json!({"budget": "1"})).await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.body
    );
    assert_eq!(unknown.body["errors"][0]["field"], "budget");

    let theirs = patch_ad_account(
        &state,
        &at,
        &stranger,
        json!({"optimizer_budget_cap": "1.00"}),
    )
    .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.body);
    let other = format!("/v1/meta-accounts/{connection}/ad-accounts/act_999");
    let missing = patch_ad_account(
        &state,
        &other,
        &owner,
        json!({"optimizer_budget_cap": "1.00"}),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);

    let lifted = patch_ad_account(&state, &at, &owner, json!({"optimizer_budget_cap": null})).await;
    assert_eq!(lifted.status, StatusCode::OK, "{}", lifted.body);
    assert_eq!(lifted.body["optimizer_budget_cap"], Value::Null);
    let stored: Option<rust_decimal::Decimal> = db
        .superuser()
        .await
        .query_one(
            "SELECT optimizer_budget_cap FROM meta_ad_accounts WHERE ad_account_id = 'act_1234567890'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, None);
}
