//! `POST /webhooks/stripe`: only events whose `Stripe-Signature` holds (any `v1`, within
//! five minutes) are stored; each event id is applied once; Checkout, subscription and
//! invoice events move the same state machine as Razorpay's, in any order; a renewal
//! resets credits once; a plan paid through Stripe replaces a Razorpay one (cancelled at
//! Razorpay) and the other way round.

use billing_webhook::State;
use chrono::Utc;
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request};
use serde_json::{Value, json};
use shared::billing::{Gateways, Razorpay, Stripe};
use shared::signature::stripe_signature_header;
use shared::testing::TestDb;
use shared::testing::api::{Reply, TestUser, reply};
use uuid::Uuid;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "whsec_test_endpoint";
const T0: i64 = 1_764_000_000;
const DAY: i64 = 86_400;

fn state(db: &TestDb, razorpay: &str, stripe: &str) -> State {
    State {
        db: db.worker(),
        webhook_secret: "razorpay-secret".into(),
        stripe_webhook_secret: SECRET.into(),
        gateways: Gateways {
            razorpay: Razorpay::new(razorpay, "rzp_test", "secret"),
            stripe: Stripe::new(stripe, "sk_test_hook"),
        },
    }
}

fn offline(db: &TestDb) -> State {
    state(db, "http://127.0.0.1:9", "http://127.0.0.1:9")
}

fn webhook(body: &[u8], signature: Option<&str>) -> Request {
    let mut req = Request::new(Body::Text(String::from_utf8(body.to_vec()).unwrap()));
    *req.method_mut() = Method::POST;
    *req.uri_mut() = "/webhooks/stripe".parse().unwrap();
    let h = req.headers_mut();
    h.insert("content-type", "application/json".parse().unwrap());
    if let Some(sig) = signature {
        h.insert("stripe-signature", sig.parse().unwrap());
    }
    req
}

fn event(id: &str, kind: &str, created: i64, object: Value) -> Value {
    json!({"id": id, "object": "event", "api_version": "2025-03-31.basil", "created": created,
           "type": kind, "livemode": false, "data": {"object": object}})
}

async fn deliver(state: &State, event: &Value) -> Reply {
    let body = event.to_string();
    let sig = stripe_signature_header(SECRET.as_bytes(), body.as_bytes(), Utc::now().timestamp());
    reply(billing_webhook::handle(state, webhook(body.as_bytes(), Some(&sig))).await)
}

/// One user's Stripe checkout, as POST /v1/subscription leaves it; ids end in `n`.
#[derive(Clone)]
struct Checkout {
    user: Uuid,
    row: Uuid,
    n: usize,
}

impl Checkout {
    fn session(&self) -> String {
        format!("cs_test_{}", self.n)
    }
    fn sub(&self) -> String {
        format!("sub_S{}", self.n)
    }
    fn customer(&self) -> String {
        format!("cus_{}", self.n)
    }
}

async fn checkout(db: &TestDb, n: usize) -> Checkout {
    let user = TestUser::create(db, &format!("owner{n}@example.com")).await;
    let row = Uuid::new_v4();
    let c = Checkout {
        user: user.id.0,
        row,
        n,
    };
    db.superuser()
        .await
        .execute(
            "INSERT INTO subscriptions (id, user_id, tier, billing_cycle, price, currency, status, is_current, \
                                        payment_method, stripe_checkout_session_id, current_period_start, \
                                        current_period_end, monthly_ai_credits_limit) \
             VALUES ($1, $2, 'professional', 'monthly', 49.00, 'USD', 'created', false, 'stripe', $3, now(), \
                     now() + interval '30 days', 200)",
            &[&row, &c.user, &c.session()],
        )
        .await
        .unwrap();
    db.superuser()
        .await
        .execute(
            "INSERT INTO billing_customers (user_id, provider, customer_id) VALUES ($1, 'stripe', $2)",
            &[&c.user, &c.customer()],
        )
        .await
        .unwrap();
    c
}

fn subscription(c: &Checkout, status: &str, period: (i64, i64)) -> Value {
    json!({"id": c.sub(), "object": "subscription", "status": status, "customer": c.customer(),
           "cancel_at_period_end": false, "default_payment_method": "pm_card_visa",
           "metadata": {"adpilot_subscription_id": c.row.to_string(), "tier": "professional"},
           "items": {"object": "list", "data": [{"id": "si_1", "object": "subscription_item",
               "current_period_start": period.0, "current_period_end": period.1,
               "price": {"id": "price_1", "currency": "usd", "unit_amount": 4900, "recurring": {"interval": "month"}}}]}})
}

fn invoice(c: &Checkout, id: &str, reason: &str, period: (i64, i64), amount: i64) -> Value {
    json!({"id": id, "object": "invoice", "customer": c.customer(), "currency": "usd",
           "amount_due": amount, "amount_paid": amount, "billing_reason": reason, "attempt_count": 1,
           "parent": {"type": "subscription_details", "subscription_details": {
               "subscription": c.sub(), "metadata": {"adpilot_subscription_id": c.row.to_string()}}},
           "lines": {"object": "list", "data": [{"id": "il_1", "period": {"start": period.0, "end": period.1}}]}})
}

fn session_completed(c: &Checkout) -> Value {
    json!({"id": c.session(), "object": "checkout.session", "mode": "subscription", "status": "complete",
           "payment_status": "paid", "customer": c.customer(), "subscription": c.sub(),
           "metadata": {"adpilot_subscription_id": c.row.to_string()}})
}

const PERIOD: (i64, i64) = (T0, T0 + 30 * DAY);

/// What Stripe sends when the customer pays at Checkout, in the order it usually does.
fn paid_at_checkout(c: &Checkout) -> Vec<Value> {
    let n = c.n;
    vec![
        event(
            &format!("evt_created_{n}"),
            "customer.subscription.created",
            T0,
            subscription(c, "incomplete", PERIOD),
        ),
        event(
            &format!("evt_invoice_{n}"),
            "invoice.paid",
            T0 + 1,
            invoice(
                c,
                &format!("in_first_{n}"),
                "subscription_create",
                PERIOD,
                4900,
            ),
        ),
        event(
            &format!("evt_updated_{n}"),
            "customer.subscription.updated",
            T0 + 2,
            subscription(c, "active", PERIOD),
        ),
        event(
            &format!("evt_completed_{n}"),
            "checkout.session.completed",
            T0 + 3,
            session_completed(c),
        ),
    ]
}

#[derive(Debug, PartialEq)]
struct Current {
    tier: String,
    status: String,
    used: i32,
    limit: i32,
    period: (i64, i64),
    payment_method: Option<String>,
    stripe_subscription: Option<String>,
}

async fn current(db: &TestDb, user: Uuid) -> Current {
    let r = db
        .superuser()
        .await
        .query_one(
            "SELECT tier, status, monthly_ai_credits_used, monthly_ai_credits_limit, \
                    extract(epoch FROM current_period_start)::int8, extract(epoch FROM current_period_end)::int8, \
                    payment_method, stripe_subscription_id \
             FROM subscriptions WHERE user_id = $1 AND is_current",
            &[&user],
        )
        .await
        .unwrap();
    Current {
        tier: r.get(0),
        status: r.get(1),
        used: r.get(2),
        limit: r.get(3),
        period: (r.get(4), r.get(5)),
        payment_method: r.get(6),
        stripe_subscription: r.get(7),
    }
}

fn active(c: &Checkout, used: i32, period: (i64, i64)) -> Current {
    Current {
        tier: "professional".into(),
        status: "active".into(),
        used,
        limit: 200,
        period,
        payment_method: Some("stripe".into()),
        stripe_subscription: Some(c.sub()),
    }
}

fn signed(body: &str, t: i64, secret: &str) -> String {
    stripe_signature_header(secret.as_bytes(), body.as_bytes(), t)
}

#[tokio::test]
async fn only_a_fresh_signature_over_the_exact_body_is_accepted_and_any_v1_may_match() {
    let db = TestDb::fresh().await;
    let state = offline(&db);
    let body = event(
        "evt_sig",
        "invoice.paid",
        T0,
        json!({"id": "in_x", "object": "invoice", "currency": "usd"}),
    )
    .to_string();
    let now = Utc::now().timestamp();
    let good = signed(&body, now, SECRET);
    let good_v1 = good.split_once(",v1=").unwrap().1.to_owned();
    let changed = body.replace("in_x", "in_y");
    for (label, body, sig, code) in [
        (
            "wrong secret",
            body.clone(),
            Some(signed(&body, now, "whsec_other")),
            "invalid_signature",
        ),
        (
            "changed body",
            changed,
            Some(good.clone()),
            "invalid_signature",
        ),
        ("no header", body.clone(), None, "invalid_signature"),
        (
            "only v0",
            body.clone(),
            Some(format!("t={now},v0={good_v1}")),
            "invalid_signature",
        ),
        (
            "six minutes old",
            body.clone(),
            Some(signed(&body, now - 360, SECRET)),
            "signature_expired",
        ),
    ] {
        let r =
            reply(billing_webhook::handle(&state, webhook(body.as_bytes(), sig.as_deref())).await);
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNAUTHORIZED, code),
            "{label}"
        );
    }
    let stored: i64 = db
        .superuser()
        .await
        .query_one("SELECT count(*) FROM billing_events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 0, "nothing stored");

    // Stripe sends one v1 per active secret while a secret is rolled: any may match.
    let rolled = format!("t={now},v1={},v1={good_v1}", "0".repeat(64));
    let r = reply(billing_webhook::handle(&state, webhook(body.as_bytes(), Some(&rolled))).await);
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["event_id"], "evt_sig");
}

#[tokio::test]
async fn paying_at_checkout_makes_the_plan_current_with_its_credits_payment_and_card() {
    let db = TestDb::fresh().await;
    let stripe = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/payment_methods/pm_card_visa"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "pm_card_visa", "object": "payment_method", "type": "card",
            "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}})))
        .expect(1)
        .mount(&stripe)
        .await;
    let state = state(&db, "http://127.0.0.1:9", &stripe.uri());
    let c = checkout(&db, 1).await;
    let mut outcomes = Vec::new();
    for e in paid_at_checkout(&c) {
        outcomes.push(deliver(&state, &e).await.body["outcome"].clone());
    }
    assert_eq!(
        outcomes,
        [
            "applied: unchanged",
            "applied: active",
            "applied: active",
            "applied: active"
        ]
    );
    assert_eq!(current(&db, c.user).await, active(&c, 0, PERIOD));
    let r = db
        .superuser()
        .await
        .query_one(
            "SELECT s.payment_method_id, s.card_brand, s.card_last4, p.amount::text, p.currency, p.status, p.provider \
             FROM subscriptions s JOIN payments p ON p.subscription_id = s.id WHERE s.id = $1",
            &[&c.row],
        )
        .await
        .unwrap();
    let row: (String, String, String, String, String, String, String) = (
        r.get(0),
        r.get(1),
        r.get(2),
        r.get(3),
        r.get(4),
        r.get(5),
        r.get(6),
    );
    assert_eq!(
        row,
        (
            "pm_card_visa".into(),
            "visa".into(),
            "4242".into(),
            "49.00".into(),
            "USD".into(),
            "captured".into(),
            "stripe".into()
        )
    );

    // Every event delivered again is a duplicate and changes nothing (the card is not read again).
    for e in paid_at_checkout(&c) {
        assert_eq!(deliver(&state, &e).await.body["outcome"], "duplicate");
    }
    assert_eq!(current(&db, c.user).await, active(&c, 0, PERIOD));
}

#[tokio::test]
async fn any_delivery_order_with_duplicates_ends_where_the_in_order_delivery_ends() {
    let db = TestDb::fresh().await;
    let state = offline(&db);
    let renewal = (PERIOD.1, PERIOD.1 + 30 * DAY);
    let history = |c: &Checkout| {
        let mut events = paid_at_checkout(c);
        events.push(event(
            &format!("evt_renewed_{}", c.n),
            "invoice.paid",
            PERIOD.1 + 5,
            invoice(
                c,
                &format!("in_renewal_{}", c.n),
                "subscription_cycle",
                renewal,
                4900,
            ),
        ));
        events.push(event(
            &format!("evt_renewed_sub_{}", c.n),
            "customer.subscription.updated",
            PERIOD.1 + 6,
            subscription(c, "active", renewal),
        ));
        events
    };
    let in_order = checkout(&db, 100).await;
    for e in history(&in_order) {
        deliver(&state, &e).await;
    }
    let expected = current(&db, in_order.user).await;
    assert_eq!(expected, active(&in_order, 0, renewal));

    // Twelve shuffled orders, every event delivered twice.
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for n in 0..12 {
        let c = checkout(&db, n).await;
        let mut events: Vec<Value> = history(&c)
            .into_iter()
            .flat_map(|e| [e.clone(), e])
            .collect();
        for i in (1..events.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            events.swap(i, (seed % (i as u64 + 1)) as usize);
        }
        for e in &events {
            let r = deliver(&state, e).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
        let mut got = current(&db, c.user).await;
        got.stripe_subscription = got
            .stripe_subscription
            .map(|s| s.replace(&c.sub(), &in_order.sub()));
        assert_eq!(got, expected, "order {n}");
    }
}

#[tokio::test]
async fn a_renewal_resets_credits_once_and_a_failed_renewal_is_past_due_with_its_payment() {
    let db = TestDb::fresh().await;
    let state = offline(&db);
    let c = checkout(&db, 1).await;
    for e in paid_at_checkout(&c) {
        deliver(&state, &e).await;
    }
    let used = |n: i32| {
        let db = &db;
        async move {
            db.superuser()
                .await
                .execute(
                    "UPDATE subscriptions SET monthly_ai_credits_used = $1 WHERE is_current AND user_id = $2",
                    &[&n, &c.user],
                )
                .await
                .unwrap();
        }
    };
    used(37).await;
    let renewal = (PERIOD.1, PERIOD.1 + 30 * DAY);
    let renewed = invoice(&c, "in_renewal", "subscription_cycle", renewal, 4900);
    deliver(
        &state,
        &event("evt_r1", "invoice.paid", PERIOD.1 + 5, renewed.clone()),
    )
    .await;
    assert_eq!(current(&db, c.user).await, active(&c, 0, renewal));
    used(5).await;
    // Stripe retries with a new event id (a resend): the period is the same, nothing resets.
    deliver(
        &state,
        &event("evt_r1_resent", "invoice.paid", PERIOD.1 + 5, renewed),
    )
    .await;
    assert_eq!(current(&db, c.user).await.used, 5);

    let next = (renewal.1, renewal.1 + 30 * DAY);
    let mut failed = invoice(&c, "in_failed", "subscription_cycle", next, 4900);
    failed["amount_paid"] = json!(0);
    failed["attempt_count"] = json!(2);
    let r = deliver(
        &state,
        &event("evt_f1", "invoice.payment_failed", renewal.1 + 60, failed),
    )
    .await;
    assert_eq!(r.body["outcome"], "applied: past_due");
    let now = current(&db, c.user).await;
    assert_eq!(
        (now.status.as_str(), now.used, now.period),
        ("past_due", 5, renewal)
    );
    let payment: (String, String) = {
        let r = db
            .superuser()
            .await
            .query_one(
                "SELECT status, error_description FROM payments WHERE provider_payment_id = 'in_failed'",
                &[],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(
        payment,
        ("failed".into(), "payment attempt 2 failed".into())
    );
}

#[tokio::test]
async fn the_first_payment_failing_leaves_the_checkout_unpaid() {
    let db = TestDb::fresh().await;
    let state = offline(&db);
    let c = checkout(&db, 1).await;
    deliver(
        &state,
        &event(
            "evt_c",
            "customer.subscription.created",
            T0,
            subscription(&c, "incomplete", PERIOD),
        ),
    )
    .await;
    let mut failed = invoice(&c, "in_first", "subscription_create", PERIOD, 4900);
    failed["amount_paid"] = json!(0);
    let r = deliver(
        &state,
        &event("evt_f", "invoice.payment_failed", T0 + 1, failed),
    )
    .await;
    assert_eq!(
        r.body["outcome"],
        "ignored: invoice.payment_failed does not change a subscription"
    );
    let trial = current(&db, c.user).await;
    assert_eq!(
        (trial.status.as_str(), trial.payment_method),
        ("trial", None)
    );
}

#[tokio::test]
async fn an_event_naming_another_users_row_or_an_unknown_subscription_is_not_applied() {
    let db = TestDb::fresh().await;
    let state = offline(&db);
    let victim = checkout(&db, 1).await;
    let attacker = checkout(&db, 2).await;
    // The attacker's subscription claims the victim's row in its metadata.
    let mut forged = subscription(&attacker, "active", PERIOD);
    forged["metadata"]["adpilot_subscription_id"] = json!(victim.row.to_string());
    forged["id"] = json!("sub_forged");
    let r = deliver(
        &state,
        &event("evt_forged", "customer.subscription.updated", T0, forged),
    )
    .await;
    assert_eq!(
        r.body["outcome"],
        "unknown_subscription: sub_forged was not created by Adpilot"
    );
    assert_eq!(current(&db, victim.user).await.status, "trial");
    let other = json!({"id": "cs_elsewhere", "object": "checkout.session", "mode": "payment", "payment_status": "paid"});
    let r = deliver(
        &state,
        &event("evt_other", "checkout.session.completed", T0, other),
    )
    .await;
    assert_eq!(
        r.body["outcome"],
        "unknown_subscription: cs_elsewhere was not created by Adpilot"
    );
    let r = deliver(
        &state,
        &event("evt_ping", "customer.created", T0, json!({"id": "cus_9"})),
    )
    .await;
    assert_eq!(
        r.body["outcome"],
        "ignored: customer.created is not a subscription event"
    );
}

async fn make_current(db: &TestDb, user: Uuid, provider: &str, column: &str, remote: &str) {
    db.superuser()
        .await
        .batch_execute(&format!(
            "UPDATE subscriptions SET is_current = false WHERE user_id = '{user}';
             INSERT INTO subscriptions (user_id, tier, price, status, payment_method, {column}, provider_status,
                                        current_period_start, current_period_end, monthly_ai_credits_limit)
             VALUES ('{user}', 'starter', 1499, 'active', '{provider}', '{remote}', 'active', now(),
                     now() + interval '30 days', 50);"
        ))
        .await
        .unwrap();
}

async fn old_one(db: &TestDb, remote: &str) -> (String, bool, Option<String>) {
    let r = db
        .superuser()
        .await
        .query_one(
            "SELECT status, is_current, provider_status FROM subscriptions \
             WHERE razorpay_subscription_id = $1 OR stripe_subscription_id = $1",
            &[&remote],
        )
        .await
        .unwrap();
    (r.get(0), r.get(1), r.get(2))
}

#[tokio::test]
async fn paying_through_stripe_cancels_the_razorpay_plan_at_razorpay_once_even_under_racing_retries()
 {
    let db = TestDb::fresh().await;
    let rzp = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/subscriptions/sub_RZP_OLD/cancel"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "sub_RZP_OLD", "entity": "subscription", "plan_id": "plan_adpilot_starter_m",
            "status": "cancelled", "short_url": null})))
        .expect(1)
        .mount(&rzp)
        .await;
    let state = state(&db, &format!("{}/v1", rzp.uri()), "http://127.0.0.1:9");
    let c = checkout(&db, 1).await;
    make_current(
        &db,
        c.user,
        "razorpay",
        "razorpay_subscription_id",
        "sub_RZP_OLD",
    )
    .await;
    // Stripe delivers every event twice at the same moment (its retries race the first try).
    let stream = async || {
        for e in paid_at_checkout(&c) {
            assert_eq!(deliver(&state, &e).await.status, StatusCode::OK);
        }
    };
    tokio::join!(stream(), stream());
    assert_eq!(current(&db, c.user).await, active(&c, 0, PERIOD));
    assert_eq!(
        old_one(&db, "sub_RZP_OLD").await,
        ("cancelled".into(), false, Some("cancelled".into()))
    );
    let currents: i64 = db
        .superuser()
        .await
        .query_one(
            "SELECT count(*) FROM subscriptions WHERE user_id = $1 AND is_current",
            &[&c.user],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(currents, 1, "one current subscription");
}

#[tokio::test]
async fn paying_through_razorpay_cancels_the_stripe_plan_at_stripe() {
    let db = TestDb::fresh().await;
    let stripe = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/v1/subscriptions/sub_STRIPE_OLD"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "sub_STRIPE_OLD", "object": "subscription", "status": "canceled"})))
        .expect(1)
        .mount(&stripe)
        .await;
    let state = state(&db, "http://127.0.0.1:9", &stripe.uri());
    let user = TestUser::create(&db, "owner@example.com").await;
    make_current(
        &db,
        user.id.0,
        "stripe",
        "stripe_subscription_id",
        "sub_STRIPE_OLD",
    )
    .await;
    db.superuser()
        .await
        .execute(
            "INSERT INTO subscriptions (user_id, tier, billing_cycle, price, status, is_current, payment_method, \
                                        razorpay_subscription_id, current_period_start, current_period_end, \
                                        monthly_ai_credits_limit) \
             VALUES ($1, 'professional', 'monthly', 3999, 'created', false, 'razorpay', 'sub_RZP_NEW', now(), \
                     now() + interval '30 days', 200)",
            &[&user.id.0],
        )
        .await
        .unwrap();
    let charged = json!({
        "entity": "event", "account_id": "acc_test", "event": "subscription.charged",
        "contains": ["subscription"], "created_at": T0,
        "payload": {"subscription": {"entity": {
            "id": "sub_RZP_NEW", "entity": "subscription", "plan_id": "plan_adpilot_pro_m", "status": "active",
            "current_start": PERIOD.0, "current_end": PERIOD.1, "notes": {}}}}});
    let body = charged.to_string();
    let mut req = Request::new(Body::Text(body.clone()));
    *req.method_mut() = Method::POST;
    *req.uri_mut() = "/webhooks/razorpay".parse().unwrap();
    let sig = shared::signature::hmac_sha256_hex(b"razorpay-secret", body.as_bytes());
    req.headers_mut()
        .insert("x-razorpay-signature", sig.parse().unwrap());
    req.headers_mut()
        .insert("x-razorpay-event-id", "evt_rzp_1".parse().unwrap());
    let r = reply(billing_webhook::handle(&state, req).await);
    assert_eq!(r.body["outcome"], "applied: active", "{}", r.body);
    assert_eq!(
        old_one(&db, "sub_STRIPE_OLD").await,
        ("cancelled".into(), false, Some("canceled".into()))
    );
}

#[tokio::test]
async fn two_first_events_at_once_both_find_the_row_one_of_them_links() {
    let db = TestDb::fresh().await;
    let state = offline(&db);
    for n in 0..20 {
        let c = checkout(&db, n).await;
        // Neither event can find the row by its Stripe id yet: both go by the metadata.
        let sub_event = event(
            &format!("evt_sub_{n}"),
            "customer.subscription.updated",
            T0 + 2,
            subscription(&c, "active", PERIOD),
        );
        let invoice_event = event(
            &format!("evt_inv_{n}"),
            "invoice.paid",
            T0 + 1,
            invoice(&c, &format!("in_{n}"), "subscription_create", PERIOD, 4900),
        );
        let (a, b) = tokio::join!(deliver(&state, &sub_event), deliver(&state, &invoice_event));
        for r in [&a, &b] {
            assert!(
                r.body["outcome"].as_str().unwrap().starts_with("applied")
                    || r.body["outcome"].as_str().unwrap().starts_with("stale"),
                "round {n}: {}",
                r.body
            );
        }
        let attached: i64 = db
            .superuser()
            .await
            .query_one(
                "SELECT count(*) FROM payments WHERE subscription_id = $1",
                &[&c.row],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(
            attached, 1,
            "round {n}: the payment belongs to the subscription"
        );
        assert_eq!(
            current(&db, c.user).await,
            active(&c, 0, PERIOD),
            "round {n}"
        );
    }
}
