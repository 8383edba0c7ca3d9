//! Plans and subscriptions: plans come from system_config; subscribing creates a
//! Razorpay subscription (exact request asserted against a local HTTP server speaking
//! Razorpay's wire format) and a checkout row that is not current until paid; cancel
//! goes through Razorpay too; Razorpay's refusals reach the user.

use billing::State;
use billing::billing::{Gateways, Razorpay, Stripe};
use lambda_http::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::testing::TestDb;
use shared::testing::api::{Reply, TestUser, context, reply, request};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn app(db: &TestDb, razorpay: &MockServer) -> State {
    State {
        ctx: context(db),
        gateways: Gateways {
            razorpay: Razorpay::new(&format!("{}/v1", razorpay.uri()), "rzp_test_K3y", "s3cret"),
            stripe: Stripe::new("http://127.0.0.1:9", "sk_test"),
        },
        return_url: "https://app.example/billing".into(),
    }
}

async fn call(state: &State, m: Method, p: &str, body: Option<Value>, user: &TestUser) -> Reply {
    reply(billing::handle(state, request(m, p, body.as_ref(), Some(&user.token))).await)
}

/// `rzp_test_K3y:s3cret` in HTTP basic auth.
const BASIC: &str = "Basic cnpwX3Rlc3RfSzN5OnMzY3JldA==";

fn subscription(id: &str, status: &str) -> Value {
    json!({"id": id, "entity": "subscription", "plan_id": "plan_adpilot_pro_m", "status": status,
           "current_start": null, "current_end": null, "quantity": 1, "total_count": 120, "paid_count": 0,
           "short_url": format!("https://rzp.io/i/{id}"), "notes": {}, "created_at": 1764000000})
}

#[tokio::test]
async fn plans_list_the_three_tiers_with_credits_and_inr_prices() {
    let db = TestDb::fresh().await;
    let rzp = MockServer::start().await;
    let state = app(&db, &rzp).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    let r = call(&state, Method::GET, "/v1/plans", None, &user).await;
    assert_eq!(r.status, StatusCode::OK);
    let plans = r.body["data"].as_array().unwrap();
    let summary: Vec<(&str, i64, &str)> = plans
        .iter()
        .map(|p| {
            (
                p["tier"].as_str().unwrap(),
                p["ai_credits"].as_i64().unwrap(),
                p["prices"][0]["amount"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("starter", 50, "1499.00"),
            ("professional", 200, "3999.00"),
            ("business", 400, "7999.00")
        ]
    );
    let prices: Vec<String> = plans[1]["prices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} {} {} {}",
                p["billing_cycle"].as_str().unwrap(),
                p["amount"].as_str().unwrap(),
                p["currency"].as_str().unwrap(),
                p["provider"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        prices,
        [
            "monthly 3999.00 INR razorpay",
            "monthly 45.00 EUR stripe",
            "monthly 49.00 USD stripe",
            "annual 39990.00 INR razorpay",
            "annual 450.00 EUR stripe",
            "annual 490.00 USD stripe",
        ]
    );
    assert!(plans[0]["prices"][0].get("razorpay_plan_id").is_none());

    db.superuser()
        .await
        .execute(
            "UPDATE system_config SET value = jsonb_set(value, '{professional,ai_credits}', '250') WHERE key = 'subscription_features'",
            &[],
        )
        .await
        .unwrap();
    let r = call(&state, Method::GET, "/v1/plans", None, &user).await;
    assert_eq!(r.body["data"][1]["ai_credits"], 250, "plans are data");
}

#[tokio::test]
async fn plans_in_one_currency_show_only_its_prices_and_an_unknown_currency_is_named() {
    let db = TestDb::fresh().await;
    let rzp = MockServer::start().await;
    let state = app(&db, &rzp).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    let r = call(&state, Method::GET, "/v1/plans?currency=usd", None, &user).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let business: Vec<(&str, &str)> = r.body["data"][2]["prices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["amount"].as_str().unwrap(),
                p["currency"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(business, [("99.00", "USD"), ("990.00", "USD")]);
    for (query, code) in [
        ("currency=JPY", "not_offered"),
        ("currency=dollars", "invalid_currency"),
    ] {
        let r = call(
            &state,
            Method::GET,
            &format!("/v1/plans?{query}"),
            None,
            &user,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(r.body["errors"][0]["field"], "currency", "{query}");
        assert_eq!(r.body["errors"][0]["code"], code, "{query}");
    }
}

#[tokio::test]
async fn a_new_user_has_the_trial_with_starter_credits() {
    let db = TestDb::fresh().await;
    let rzp = MockServer::start().await;
    let state = app(&db, &rzp).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    let r = call(&state, Method::GET, "/v1/subscription", None, &user).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        (
            r.body["tier"].as_str(),
            r.body["status"].as_str(),
            r.body["credits_limit"].as_i64(),
            r.body["cancel_at_period_end"].as_bool()
        ),
        (Some("starter"), Some("trial"), Some(50), Some(false))
    );
}

#[tokio::test]
async fn subscribing_creates_a_razorpay_subscription_and_a_checkout() {
    let db = TestDb::fresh().await;
    let rzp = MockServer::start().await;
    let state = app(&db, &rzp).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    Mock::given(method("POST"))
        .and(path("/v1/subscriptions"))
        .and(header("authorization", BASIC))
        .and(body_json(
            json!({"plan_id": "plan_adpilot_pro_m", "total_count": 120, "quantity": 1,
                              "customer_notify": 1, "notes": {"user_id": user.id.to_string()}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(subscription("sub_NEW1", "created")))
        .expect(1)
        .mount(&rzp)
        .await;

    let r = call(
        &state,
        Method::POST,
        "/v1/subscription",
        Some(json!({"tier": "professional", "billing_cycle": "monthly"})),
        &user,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["checkout"]["subscription_id"], "sub_NEW1");
    assert_eq!(r.body["checkout"]["key_id"], "rzp_test_K3y");
    assert_eq!(r.body["checkout"]["url"], "https://rzp.io/i/sub_NEW1");
    assert_eq!(r.body["checkout"]["provider"], "razorpay");
    assert_eq!(
        (
            r.body["subscription"]["status"].as_str(),
            r.body["subscription"]["price"].as_str()
        ),
        (Some("created"), Some("3999.00"))
    );

    let current = call(&state, Method::GET, "/v1/subscription", None, &user).await;
    assert_eq!(
        current.body["status"], "trial",
        "not current until Razorpay says it is paid"
    );
    let row = db
        .superuser()
        .await
        .query_one("SELECT is_current, monthly_ai_credits_limit FROM subscriptions WHERE razorpay_subscription_id = 'sub_NEW1'", &[])
        .await
        .unwrap();
    assert_eq!((row.get::<_, bool>(0), row.get::<_, i32>(1)), (false, 200));
}

#[tokio::test]
async fn razorpays_refusal_and_bad_input_are_clear_answers() {
    let db = TestDb::fresh().await;
    let rzp = MockServer::start().await;
    let state = app(&db, &rzp).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    Mock::given(method("POST"))
        .and(path("/v1/subscriptions"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "code": "BAD_REQUEST_ERROR", "description": "The id provided does not exist", "source": "business",
            "step": "payment_initiation", "reason": "input_validation_failed", "metadata": {}, "field": "plan_id"}})))
        .mount(&rzp)
        .await;
    let r = call(
        &state,
        Method::POST,
        "/v1/subscription",
        Some(json!({"tier": "business", "billing_cycle": "annual"})),
        &user,
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_GATEWAY, "upstream_error")
    );
    assert_eq!(r.body["detail"], "Razorpay: The id provided does not exist");

    for (body, field) in [
        (json!({"tier": "gold"}), "tier"),
        (
            json!({"tier": "business", "billing_cycle": "weekly"}),
            "billing_cycle",
        ),
        (json!({"tier": "business", "coupon": "X"}), "coupon"),
    ] {
        let r = call(
            &state,
            Method::POST,
            "/v1/subscription",
            Some(body.clone()),
            &user,
        )
        .await;
        assert_eq!(
            (r.status, r.fields()),
            (StatusCode::UNPROCESSABLE_ENTITY, vec![field.to_owned()]),
            "{body}"
        );
    }
    let r = call(
        &state,
        Method::POST,
        "/v1/subscription/cancel",
        Some(json!({})),
        &user,
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "nothing_to_cancel"),
        "a trial has nothing to cancel"
    );
}

async fn make_paid(db: &TestDb, user: &TestUser, razorpay_id: &str) {
    db.superuser()
        .await
        .batch_execute(&format!(
            "UPDATE subscriptions SET is_current = false WHERE user_id = '{u}';
             INSERT INTO subscriptions (user_id, tier, price, status, payment_method, razorpay_subscription_id, current_period_start,
                                        current_period_end, monthly_ai_credits_limit)
             VALUES ('{u}', 'professional', 3999, 'active', 'razorpay', '{razorpay_id}', now(), now() + interval '30 days', 200);",
            u = user.id
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn cancelling_goes_through_razorpay_at_period_end_or_now() {
    let db = TestDb::fresh().await;
    let rzp = MockServer::start().await;
    let state = app(&db, &rzp).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    make_paid(&db, &user, "sub_PAID").await;

    let again = call(
        &state,
        Method::POST,
        "/v1/subscription",
        Some(json!({"tier": "business"})),
        &user,
    )
    .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "already_subscribed")
    );

    Mock::given(method("POST"))
        .and(path("/v1/subscriptions/sub_PAID/cancel"))
        .and(header("authorization", BASIC))
        .and(body_json(json!({"cancel_at_cycle_end": 1})))
        .respond_with(ResponseTemplate::new(200).set_body_json(subscription("sub_PAID", "active")))
        .expect(1)
        .mount(&rzp)
        .await;
    let r = call(
        &state,
        Method::POST,
        "/v1/subscription/cancel",
        Some(json!({"at_period_end": true})),
        &user,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (
            r.body["status"].as_str(),
            r.body["cancel_at_period_end"].as_bool()
        ),
        (Some("active"), Some(true))
    );

    Mock::given(method("POST"))
        .and(path("/v1/subscriptions/sub_PAID/cancel"))
        .and(body_json(json!({"cancel_at_cycle_end": 0})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(subscription("sub_PAID", "cancelled")),
        )
        .expect(1)
        .mount(&rzp)
        .await;
    let r = call(
        &state,
        Method::POST,
        "/v1/subscription/cancel",
        Some(json!({"at_period_end": false})),
        &user,
    )
    .await;
    assert_eq!(r.body["status"], "cancelled");
    let user_status: String = db
        .superuser()
        .await
        .query_one(
            "SELECT subscription_status FROM users WHERE id = $1",
            &[&user.id.0],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(user_status, "cancelled");
}

#[tokio::test]
async fn a_second_checkout_cancels_the_first_at_razorpay_so_only_one_can_be_paid() {
    let db = TestDb::fresh().await;
    let rzp = MockServer::start().await;
    let state = app(&db, &rzp).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    Mock::given(method("POST"))
        .and(path("/v1/subscriptions"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(subscription("sub_FIRST", "created")),
        )
        .up_to_n_times(1)
        .mount(&rzp)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/subscriptions"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(subscription("sub_SECOND", "created")),
        )
        .mount(&rzp)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/subscriptions/sub_FIRST/cancel"))
        .and(body_json(json!({"cancel_at_cycle_end": 0})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(subscription("sub_FIRST", "cancelled")),
        )
        .expect(1)
        .mount(&rzp)
        .await;
    let body = json!({"tier": "professional", "billing_cycle": "monthly"});
    let first = call(
        &state,
        Method::POST,
        "/v1/subscription",
        Some(body.clone()),
        &user,
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = call(&state, Method::POST, "/v1/subscription", Some(body), &user).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    assert_eq!(second.body["checkout"]["subscription_id"], "sub_SECOND");
    let open: Vec<String> = db
        .superuser()
        .await
        .query(
            "SELECT razorpay_subscription_id || ':' || status FROM subscriptions \
             WHERE razorpay_subscription_id IS NOT NULL ORDER BY created_at",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(open, ["sub_FIRST:cancelled", "sub_SECOND:created"]);
}

#[tokio::test]
async fn two_checkouts_started_at_once_leave_exactly_one_payable() {
    let db = TestDb::fresh().await;
    let rzp = MockServer::start().await;
    let state = app(&db, &rzp).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    for id in ["sub_A", "sub_B"] {
        Mock::given(method("POST"))
            .and(path("/v1/subscriptions"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(subscription(id, "created"))
                    .set_delay(std::time::Duration::from_millis(200)),
            )
            .up_to_n_times(1)
            .mount(&rzp)
            .await;
        Mock::given(method("POST"))
            .and(path(format!("/v1/subscriptions/{id}/cancel")))
            .respond_with(ResponseTemplate::new(200).set_body_json(subscription(id, "cancelled")))
            .mount(&rzp)
            .await;
    }
    let body = json!({"tier": "professional", "billing_cycle": "monthly"});
    let (a, b) = tokio::join!(
        call(
            &state,
            Method::POST,
            "/v1/subscription",
            Some(body.clone()),
            &user
        ),
        call(
            &state,
            Method::POST,
            "/v1/subscription",
            Some(body.clone()),
            &user
        )
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{} / {}", a.body, b.body);
    let kept = if a.status == StatusCode::CREATED {
        &a
    } else {
        &b
    };
    let kept_id = kept.body["checkout"]["subscription_id"].as_str().unwrap();
    let cancelled: Vec<String> = rzp
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().ends_with("/cancel"))
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(
        cancelled.len(),
        1,
        "the checkout that lost is cancelled at Razorpay"
    );
    assert!(!cancelled[0].contains(kept_id));
}
