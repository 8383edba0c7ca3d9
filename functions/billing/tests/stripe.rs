//! Subscribing through Stripe: the customer is made once per user, the Checkout Session
//! is priced in the currency's smallest unit by its own exponent, the provider and
//! currency default from where the business is, a paid plan at one provider may be
//! replaced through the other (never a second one at the same provider), the billing
//! portal needs a Stripe customer, and cancelling goes to Stripe. Requests are asserted
//! against a local HTTP server speaking Stripe's wire format (form bodies, bearer auth).

use billing::State;
use billing::billing::{Gateways, Razorpay, Stripe};
use lambda_http::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::testing::TestDb;
use shared::testing::api::{Reply, TestUser, context, reply, request};
use wiremock::matchers::{body_string_contains, header, method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn app(db: &TestDb, stripe: &MockServer) -> State {
    State {
        ctx: context(db),
        gateways: Gateways {
            razorpay: Razorpay::new("http://127.0.0.1:9", "rzp_test", "secret"),
            stripe: Stripe::new(&stripe.uri(), "sk_test_51Adpilot"),
        },
        return_url: "https://app.example/billing".into(),
    }
}

async fn call(state: &State, m: Method, p: &str, body: Option<Value>, user: &TestUser) -> Reply {
    reply(billing::handle(state, request(m, p, body.as_ref(), Some(&user.token))).await)
}

async fn subscribe(state: &State, user: &TestUser, body: Value) -> Reply {
    call(state, Method::POST, "/v1/subscription", Some(body), user).await
}

fn session(id: &str) -> Value {
    json!({"id": id, "object": "checkout.session", "mode": "subscription", "status": "open",
           "url": format!("https://checkout.stripe.com/c/pay/{id}"), "customer": "cus_1",
           "payment_status": "unpaid", "subscription": null})
}

async fn customer_once(stripe: &MockServer, user: &TestUser) {
    Mock::given(method("POST"))
        .and(path("/v1/customers"))
        .and(header("authorization", "Bearer sk_test_51Adpilot"))
        .and(header("idempotency-key", format!("customer-{}", user.id.0)))
        .and(body_string_contains("email=owner%40example.com"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "cus_1", "object": "customer"})),
        )
        .expect(1)
        .mount(stripe)
        .await;
}

async fn checkout_priced(
    stripe: &MockServer,
    currency: &str,
    unit_amount: &str,
    id: &str,
    times: u64,
) {
    // Each session answers once, as Stripe makes a new one per request.
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .and(body_string_contains("mode=subscription"))
        .and(body_string_contains("customer=cus_1"))
        .and(body_string_contains(format!(
            "line_items%5B0%5D%5Bprice_data%5D%5Bcurrency%5D={currency}"
        )))
        .and(body_string_contains(format!(
            "line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D={unit_amount}&"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(session(id)))
        .up_to_n_times(times)
        .expect(times)
        .mount(stripe)
        .await;
}

async fn set_country(db: &TestDb, user: &TestUser, country: &str) {
    db.superuser()
        .await
        .execute(
            "INSERT INTO business_profiles (user_id, business_name, country) VALUES ($1, 'Café Berlin', $2)",
            &[&user.id.0, &country],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn a_stripe_checkout_makes_the_customer_once_and_closes_the_earlier_checkout() {
    let db = TestDb::fresh().await;
    let stripe = MockServer::start().await;
    let state = app(&db, &stripe).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    customer_once(&stripe, &user).await;
    checkout_priced(&stripe, "usd", "4900", "cs_test_1", 1).await;
    checkout_priced(&stripe, "usd", "4900", "cs_test_2", 1).await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions/cs_test_1/expire"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "cs_test_1", "status": "expired"})),
        )
        .expect(1)
        .mount(&stripe)
        .await;

    let body = json!({"tier": "professional", "provider": "stripe", "currency": "USD"});
    let r = subscribe(&state, &user, body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        (
            r.body["checkout"]["provider"].as_str(),
            r.body["checkout"]["session_id"].as_str(),
            r.body["checkout"]["url"].as_str(),
        ),
        (
            Some("stripe"),
            Some("cs_test_1"),
            Some("https://checkout.stripe.com/c/pay/cs_test_1")
        )
    );
    assert_eq!(
        (
            r.body["subscription"]["status"].as_str(),
            r.body["subscription"]["price"].as_str(),
            r.body["subscription"]["currency"].as_str(),
            r.body["subscription"]["payment_method"].as_str(),
        ),
        (Some("created"), Some("49.00"), Some("USD"), Some("stripe"))
    );
    // A second checkout expires the first at Stripe and reuses the customer.
    let r = subscribe(&state, &user, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let rows: Vec<String> = db
        .superuser()
        .await
        .query(
            "SELECT status FROM subscriptions WHERE payment_method = 'stripe' ORDER BY created_at",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(rows, ["cancelled", "created"]);
}

#[tokio::test]
async fn a_zero_decimal_currency_is_sent_in_whole_units_and_a_three_decimal_one_in_thousandths() {
    let db = TestDb::fresh().await;
    let stripe = MockServer::start().await;
    let state = app(&db, &stripe).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    db.superuser()
        .await
        .execute(
            "UPDATE system_config SET value = jsonb_set(jsonb_set(value, '{starter,monthly,JPY}', '\"2900\"'), \
                                                       '{starter,monthly,KWD}', '\"5.750\"') \
             WHERE key = 'stripe_prices'",
            &[],
        )
        .await
        .unwrap();
    customer_once(&stripe, &user).await;
    checkout_priced(&stripe, "jpy", "2900", "cs_jpy", 1).await;
    checkout_priced(&stripe, "kwd", "5750", "cs_kwd", 1).await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions/cs_jpy/expire"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "cs_jpy", "status": "expired"})),
        )
        .mount(&stripe)
        .await;
    let r = subscribe(
        &state,
        &user,
        json!({"tier": "starter", "provider": "stripe", "currency": "jpy"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["subscription"]["price"], "2900");
    let r = subscribe(
        &state,
        &user,
        json!({"tier": "starter", "provider": "stripe", "currency": "KWD"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["subscription"]["price"], "5.750");
}

#[tokio::test]
async fn a_business_in_the_euro_area_pays_through_stripe_in_euros_by_default() {
    let db = TestDb::fresh().await;
    let stripe = MockServer::start().await;
    let state = app(&db, &stripe).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    set_country(&db, &user, "DE").await;
    customer_once(&stripe, &user).await;
    checkout_priced(&stripe, "eur", "4500", "cs_eur", 1).await;
    let r = subscribe(&state, &user, json!({"tier": "professional"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["subscription"]["currency"], "EUR");

    let r = subscribe(
        &state,
        &user,
        json!({"tier": "professional", "provider": "razorpay", "currency": "USD"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.fields(), ["currency"], "Razorpay charges in INR only");
    let r = subscribe(
        &state,
        &user,
        json!({"tier": "professional", "provider": "paypal"}),
    )
    .await;
    assert_eq!(r.fields(), ["provider"]);
}

async fn make_paid(db: &TestDb, user: &TestUser, provider: &str, column: &str, remote: &str) {
    db.superuser()
        .await
        .batch_execute(&format!(
            "UPDATE subscriptions SET is_current = false WHERE user_id = '{u}';
             INSERT INTO subscriptions (user_id, tier, price, status, payment_method, {column}, current_period_start,
                                        current_period_end, monthly_ai_credits_limit)
             VALUES ('{u}', 'professional', 49, 'active', '{provider}', '{remote}', now(), now() + interval '30 days', 200);
             INSERT INTO billing_customers (user_id, provider, customer_id) VALUES ('{u}', 'stripe', 'cus_1');",
            u = user.id.0
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_paid_razorpay_plan_may_be_replaced_through_stripe_but_not_doubled_at_razorpay() {
    let db = TestDb::fresh().await;
    let stripe = MockServer::start().await;
    let state = app(&db, &stripe).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    make_paid(&db, &user, "razorpay", "razorpay_subscription_id", "sub_R1").await;
    checkout_priced(&stripe, "usd", "4900", "cs_switch", 1).await;
    let r = subscribe(
        &state,
        &user,
        json!({"tier": "professional", "provider": "razorpay"}),
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "already_subscribed")
    );
    let r = subscribe(
        &state,
        &user,
        json!({"tier": "professional", "provider": "stripe"}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "switching provider: {}",
        r.body
    );
    let current = call(&state, Method::GET, "/v1/subscription", None, &user).await;
    assert_eq!(
        current.body["payment_method"], "razorpay",
        "the Razorpay plan stays current until the Stripe one is paid"
    );
}

#[tokio::test]
async fn cancelling_a_stripe_plan_goes_to_stripe_and_the_portal_needs_a_stripe_customer() {
    let db = TestDb::fresh().await;
    let stripe = MockServer::start().await;
    let state = app(&db, &stripe).await;
    let stranger = TestUser::create(&db, "stranger@example.com").await;
    let r = call(
        &state,
        Method::POST,
        "/v1/subscription/portal",
        None,
        &stranger,
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::CONFLICT, "no_stripe_customer")
    );

    let user = TestUser::create(&db, "owner@example.com").await;
    make_paid(&db, &user, "stripe", "stripe_subscription_id", "sub_S1").await;
    Mock::given(method("POST"))
        .and(path("/v1/billing_portal/sessions"))
        .and(body_string_contains("customer=cus_1"))
        .and(body_string_contains("return_url=https%3A%2F%2Fapp.example%2Fbilling"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": "bps_1", "object": "billing_portal.session", "url": "https://billing.stripe.com/p/session/bps_1"}),
        ))
        .expect(1)
        .mount(&stripe)
        .await;
    let r = call(&state, Method::POST, "/v1/subscription/portal", None, &user).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["url"], "https://billing.stripe.com/p/session/bps_1");

    Mock::given(method("POST"))
        .and(path("/v1/subscriptions/sub_S1"))
        .and(body_string_contains("cancel_at_period_end=true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": "sub_S1", "object": "subscription", "status": "active", "cancel_at_period_end": true}),
        ))
        .expect(1)
        .mount(&stripe)
        .await;
    let r = call(
        &state,
        Method::POST,
        "/v1/subscription/cancel",
        Some(json!({})),
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

    Mock::given(method("DELETE"))
        .and(path("/v1/subscriptions/sub_S1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"id": "sub_S1", "object": "subscription", "status": "canceled"}),
            ),
        )
        .expect(1)
        .mount(&stripe)
        .await;
    let r = call(
        &state,
        Method::POST,
        "/v1/subscription/cancel",
        Some(json!({"at_period_end": false})),
        &user,
    )
    .await;
    assert_eq!(r.body["status"], "cancelled", "{}", r.body);
}

#[tokio::test]
async fn stripes_refusal_reaches_the_user_with_its_message() {
    let db = TestDb::fresh().await;
    let stripe = MockServer::start().await;
    let state = app(&db, &stripe).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    customer_once(&stripe, &user).await;
    Mock::given(method("POST"))
        .and(path("/v1/checkout/sessions"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "type": "invalid_request_error", "message": "Amount must be at least $0.50 usd", "param": "line_items[0][price_data][unit_amount]"}})))
        .mount(&stripe)
        .await;
    let r = subscribe(
        &state,
        &user,
        json!({"tier": "starter", "provider": "stripe"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    assert_eq!(
        r.body["detail"],
        "Stripe: Amount must be at least $0.50 usd"
    );
    let open: i64 = db
        .superuser()
        .await
        .query_one(
            "SELECT count(*) FROM subscriptions WHERE status = 'created'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(open, 0, "nothing recorded for a checkout Stripe refused");
}

#[tokio::test]
async fn two_simultaneous_stripe_checkouts_keep_one_customer_and_one_payable_session() {
    let db = TestDb::fresh().await;
    let stripe = MockServer::start().await;
    let state = app(&db, &stripe).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    // Stripe answers a repeated idempotency key with the same customer.
    Mock::given(method("POST"))
        .and(path("/v1/customers"))
        .and(header("idempotency-key", format!("customer-{}", user.id.0)))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "cus_1", "object": "customer"})),
        )
        .mount(&stripe)
        .await;
    checkout_priced(&stripe, "usd", "1900", "cs_race_1", 1).await;
    checkout_priced(&stripe, "usd", "1900", "cs_race_2", 1).await;
    Mock::given(method("POST"))
        .and(path_regex("^/v1/checkout/sessions/cs_race_[12]/expire$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"id": "cs_race", "object": "checkout.session", "status": "expired"}),
        ))
        .expect(1)
        .mount(&stripe)
        .await;
    let body = json!({"tier": "starter", "provider": "stripe", "currency": "USD"});
    let (a, b) = tokio::join!(
        subscribe(&state, &user, body.clone()),
        subscribe(&state, &user, body)
    );
    // Overlapping, one loses with 409; one after the other, the second closes the first
    // (one open checkout per user). Either way one session is expired and one stays open.
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert!(
        statuses == [201, 409] || statuses == [201, 201],
        "{statuses:?}: {} / {}",
        a.body,
        b.body
    );
    let counts: (i64, i64) = {
        let r = db
            .superuser()
            .await
            .query_one(
                "SELECT (SELECT count(*) FROM subscriptions WHERE status = 'created'), \
                        (SELECT count(*) FROM billing_customers)",
                &[],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(counts, (1, 1), "one open checkout, one customer");
}
