//! `POST /webhooks/razorpay`: only correctly signed events are stored; each event id is
//! applied once; every subscription event moves the state machine as documented, an
//! older event never overwrites newer state, and a renewal resets credits once.

use billing_webhook::State;
use hmac::{Hmac, KeyInit, Mac};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request};
use serde_json::{Value, json};
use shared::billing::{Gateways, Razorpay, Stripe, superseded};
use shared::testing::TestDb;
use shared::testing::api::{Reply, TestUser, reply};
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "test-webhook-secret";

/// A real-looking payment.captured body and its signature, computed independently
/// with Python's hmac module (`hmac.new(secret, body, hashlib.sha256).hexdigest()`).
const VECTOR_BODY: &str = r#"{"entity":"event","account_id":"acc_test","event":"payment.captured","contains":["payment"],"payload":{"payment":{"entity":{"id":"pay_29QQoUBi66xm2f","entity":"payment","amount":399900,"currency":"INR","status":"captured","notes":[]}}},"created_at":1764060000}"#;
const VECTOR_SIGNATURE: &str = "a614eb5ddaa6f83b96d2d12ef0e1fcf6746e27bb48dcc4717b4c9d9351f92b2f";

fn state(db: &TestDb) -> State {
    with_razorpay(db, "http://127.0.0.1:9")
}

fn with_razorpay(db: &TestDb, base: &str) -> State {
    State {
        db: db.worker(),
        webhook_secret: SECRET.into(),
        stripe_webhook_secret: "whsec_unused".into(),
        gateways: Gateways {
            razorpay: Razorpay::new(base, "rzp_test", "secret"),
            stripe: Stripe::new("http://127.0.0.1:9", "sk_test"),
        },
    }
}

fn sign(body: &[u8], secret: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn webhook(body: &[u8], signature: Option<&str>, event_id: &str) -> Request {
    let mut req = Request::new(Body::Text(String::from_utf8(body.to_vec()).unwrap()));
    *req.method_mut() = Method::POST;
    *req.uri_mut() = "/webhooks/razorpay".parse().unwrap();
    let h = req.headers_mut();
    h.insert("content-type", "application/json".parse().unwrap());
    h.insert("x-razorpay-event-id", event_id.parse().unwrap());
    if let Some(sig) = signature {
        h.insert("x-razorpay-signature", sig.parse().unwrap());
    }
    req
}

async fn deliver(state: &State, event_id: &str, event: &Value) -> Reply {
    let body = event.to_string();
    let sig = sign(body.as_bytes(), SECRET);
    reply(billing_webhook::handle(state, webhook(body.as_bytes(), Some(&sig), event_id)).await)
}

async fn count(db: &TestDb, table: &str) -> i64 {
    db.superuser()
        .await
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_known_good_vector_is_accepted_and_bad_signatures_store_nothing() {
    let db = TestDb::fresh().await;
    let state = state(&db);
    let body = VECTOR_BODY.as_bytes();
    assert_eq!(
        sign(body, SECRET),
        VECTOR_SIGNATURE,
        "our HMAC agrees with Python's"
    );

    let mut changed = body.to_vec();
    let at = VECTOR_BODY.find("399900").unwrap();
    changed[at] = b'4';
    for (label, body, sig) in [
        (
            "wrong secret",
            body.to_vec(),
            Some(sign(body, "another-secret")),
        ),
        (
            "one byte changed",
            changed,
            Some(VECTOR_SIGNATURE.to_owned()),
        ),
        ("missing header", body.to_vec(), None),
        ("not hex", body.to_vec(), Some("zz".into())),
    ] {
        let r =
            reply(billing_webhook::handle(&state, webhook(&body, sig.as_deref(), "evt_bad")).await);
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{label}");
        assert_eq!(r.code(), "invalid_signature", "{label}");
    }
    assert_eq!(count(&db, "billing_events").await, 0, "nothing stored");

    let r = reply(
        billing_webhook::handle(&state, webhook(body, Some(VECTOR_SIGNATURE), "evt_good")).await,
    );
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let row = db
        .superuser()
        .await
        .query_one("SELECT amount::text, currency, status FROM payments", &[])
        .await
        .unwrap();
    assert_eq!(
        (
            row.get::<_, String>(0),
            row.get::<_, String>(1),
            row.get::<_, String>(2)
        ),
        ("3999.00".into(), "INR".into(), "captured".into()),
        "paise stored as rupees"
    );
}

#[tokio::test]
async fn a_signed_body_that_is_not_an_event_is_refused() {
    let db = TestDb::fresh().await;
    let state = state(&db);
    for body in [
        &b"not json"[..],
        br#"{"entity":"payment","event":"x","created_at":1}"#,
        b"[]",
    ] {
        let r = reply(
            billing_webhook::handle(&state, webhook(body, Some(&sign(body, SECRET)), "evt_x"))
                .await,
        );
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

/// A user with a trial and a checkout for professional/monthly (as POST /v1/subscription
/// leaves it).
async fn checkout(db: &TestDb) -> TestUser {
    let user = TestUser::create(db, "owner@example.com").await;
    db.superuser()
        .await
        .execute(
            "INSERT INTO subscriptions (user_id, tier, billing_cycle, price, status, is_current, payment_method, razorpay_subscription_id, \
                                        current_period_start, current_period_end, monthly_ai_credits_limit) \
             VALUES ($1, 'professional', 'monthly', 3999, 'created', false, 'razorpay', 'sub_P1', now(), now() + interval '30 days', 200)",
            &[&user.id.0],
        )
        .await
        .unwrap();
    user
}

const DAY: i64 = 86_400;
const T0: i64 = 1_764_000_000;

fn sub_event(
    event: &str,
    status: &str,
    created_at: i64,
    period: Option<(i64, i64)>,
    plan: &str,
) -> Value {
    let (start, end) = period.map_or((Value::Null, Value::Null), |(s, e)| (json!(s), json!(e)));
    json!({
        "entity": "event", "account_id": "acc_test", "event": event,
        "contains": ["subscription"], "created_at": created_at,
        "payload": {"subscription": {"entity": {
            "id": "sub_P1", "entity": "subscription", "plan_id": plan, "status": status,
            "current_start": start, "current_end": end, "notes": {"user_id": "ignored"}, "created_at": T0
        }}}
    })
}

fn charged(created_at: i64, period: (i64, i64), payment: &str) -> Value {
    let mut e = sub_event(
        "subscription.charged",
        "active",
        created_at,
        Some(period),
        "plan_adpilot_pro_m",
    );
    e["contains"] = json!(["subscription", "payment"]);
    e["payload"]["payment"] = json!({"entity": {
        "id": payment, "entity": "payment", "amount": 399900, "currency": "INR", "status": "captured", "notes": []
    }});
    e
}

#[derive(Debug, PartialEq)]
struct Current {
    tier: String,
    status: String,
    used: i32,
    limit: i32,
    period_start: i64,
    user_tier: String,
    user_status: String,
}

async fn current(db: &TestDb, user: &TestUser) -> Current {
    let r = db
        .superuser()
        .await
        .query_one(
            "SELECT s.tier, s.status, s.monthly_ai_credits_used, s.monthly_ai_credits_limit, \
                    extract(epoch FROM s.current_period_start)::int8, u.subscription_tier, u.subscription_status \
             FROM subscriptions s JOIN users u ON u.id = s.user_id WHERE s.user_id = $1 AND s.is_current",
            &[&user.id.0],
        )
        .await
        .unwrap();
    Current {
        tier: r.get(0),
        status: r.get(1),
        used: r.get(2),
        limit: r.get(3),
        period_start: r.get(4),
        user_tier: r.get(5),
        user_status: r.get(6),
    }
}

async fn set_used(db: &TestDb, n: i32) {
    db.superuser()
        .await
        .execute(
            "UPDATE subscriptions SET monthly_ai_credits_used = $1 WHERE is_current",
            &[&n],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn activation_makes_the_paid_plan_current_and_a_duplicate_changes_nothing() {
    let db = TestDb::fresh().await;
    let state = state(&db);
    let user = checkout(&db).await;

    let auth = deliver(
        &state,
        "evt_1",
        &sub_event(
            "subscription.authenticated",
            "authenticated",
            T0,
            None,
            "plan_adpilot_pro_m",
        ),
    )
    .await;
    assert_eq!(auth.status, StatusCode::OK);
    assert_eq!(
        current(&db, &user).await.status,
        "trial",
        "authenticated is not paid yet"
    );

    let period = (T0 + 60, T0 + 60 + 30 * DAY);
    let r = deliver(&state, "evt_2", &charged(T0 + 60, period, "pay_1")).await;
    assert_eq!(r.body["outcome"], "applied: active");
    let now = current(&db, &user).await;
    assert_eq!(
        now,
        Current {
            tier: "professional".into(),
            status: "active".into(),
            used: 0,
            limit: 200,
            period_start: period.0,
            user_tier: "professional".into(),
            user_status: "active".into(),
        },
        "users' copy agrees"
    );
    let currents: i64 = db
        .superuser()
        .await
        .query_one(
            "SELECT count(*) FROM subscriptions WHERE user_id = $1 AND is_current",
            &[&user.id.0],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(currents, 1, "the trial stopped being current");

    set_used(&db, 30).await;
    let again = deliver(&state, "evt_2", &charged(T0 + 60, period, "pay_1")).await;
    assert_eq!(
        (again.status, again.body["outcome"].as_str()),
        (StatusCode::OK, Some("duplicate"))
    );
    assert_eq!(
        current(&db, &user).await.used,
        30,
        "a redelivery does not reset credits"
    );
    assert_eq!(count(&db, "billing_events").await, 2);
    assert_eq!(count(&db, "payments").await, 1);
}

#[tokio::test]
async fn a_renewal_resets_credits_once_per_period() {
    let db = TestDb::fresh().await;
    let state = state(&db);
    let user = checkout(&db).await;
    let first = (T0, T0 + 30 * DAY);
    deliver(&state, "evt_a", &charged(T0, first, "pay_1")).await;
    set_used(&db, 180).await;

    let second = (first.1, first.1 + 30 * DAY);
    deliver(&state, "evt_b", &charged(first.1, second, "pay_2")).await;
    let now = current(&db, &user).await;
    assert_eq!(
        (now.used, now.period_start),
        (0, second.0),
        "new period, fresh credits"
    );

    set_used(&db, 12).await;
    // Razorpay sends a second event about the same period (different event id).
    let r = deliver(
        &state,
        "evt_c",
        &sub_event(
            "subscription.activated",
            "active",
            first.1 + 5,
            Some(second),
            "plan_adpilot_pro_m",
        ),
    )
    .await;
    assert_eq!(r.body["outcome"], "applied: active");
    assert_eq!(
        current(&db, &user).await.used,
        12,
        "same period: no second reset"
    );
}

#[tokio::test]
async fn charged_before_activated_ends_active_with_the_charged_period() {
    let db = TestDb::fresh().await;
    let state = state(&db);
    let user = checkout(&db).await;
    let period = (T0 + 100, T0 + 100 + 30 * DAY);
    deliver(&state, "evt_charged", &charged(T0 + 100, period, "pay_1")).await;
    let late = deliver(
        &state,
        "evt_activated",
        &sub_event(
            "subscription.activated",
            "active",
            T0 + 50,
            Some((T0 + 50, T0 + 50 + 30 * DAY)),
            "plan_adpilot_pro_m",
        ),
    )
    .await;
    assert_eq!(
        late.body["outcome"],
        "stale: older than the last event applied"
    );
    let now = current(&db, &user).await;
    assert_eq!(
        (now.status.as_str(), now.period_start),
        ("active", period.0)
    );
}

#[tokio::test]
async fn cancelled_then_a_late_charged_stays_cancelled_but_records_the_payment() {
    let db = TestDb::fresh().await;
    let state = state(&db);
    let user = checkout(&db).await;
    deliver(&state, "evt_1", &charged(T0, (T0, T0 + 30 * DAY), "pay_1")).await;
    deliver(
        &state,
        "evt_2",
        &sub_event(
            "subscription.cancelled",
            "cancelled",
            T0 + 40 * DAY,
            None,
            "plan_adpilot_pro_m",
        ),
    )
    .await;
    let late = deliver(
        &state,
        "evt_3",
        &charged(T0 + 30 * DAY, (T0 + 30 * DAY, T0 + 60 * DAY), "pay_2"),
    )
    .await;
    assert_eq!(
        late.body["outcome"],
        "stale: older than the last event applied"
    );
    let now = current(&db, &user).await;
    assert_eq!(
        (now.status.as_str(), now.user_status.as_str()),
        ("cancelled", "cancelled")
    );
    assert_eq!(
        count(&db, "payments").await,
        2,
        "the late payment is still on record"
    );
}

#[tokio::test]
async fn every_subscription_event_moves_the_state_machine() {
    let db = TestDb::fresh().await;
    let state = state(&db);
    let user = checkout(&db).await;
    deliver(&state, "evt_0", &charged(T0, (T0, T0 + 30 * DAY), "pay_0")).await;
    let steps = [
        ("subscription.pending", "pending", "past_due"),
        ("subscription.halted", "halted", "past_due"),
        ("subscription.resumed", "active", "active"),
        ("subscription.paused", "paused", "paused"),
        ("subscription.resumed", "active", "active"),
        ("subscription.updated", "active", "active"),
        ("subscription.completed", "completed", "expired"),
    ];
    for (i, (event, razorpay, ours)) in steps.into_iter().enumerate() {
        let at = T0 + (i as i64 + 1) * 3600;
        let r = deliver(
            &state,
            &format!("evt_{}", i + 1),
            &sub_event(event, razorpay, at, None, "plan_adpilot_pro_m"),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{event}");
        let now = current(&db, &user).await;
        assert_eq!(
            (now.status.as_str(), now.user_status.as_str()),
            (ours, ours),
            "{event}"
        );
    }
    // pending then halted is one payment problem in one period: one notification, emailed.
    let owner: uuid::Uuid = db
        .superuser()
        .await
        .query_one(
            "SELECT user_id FROM subscriptions WHERE is_current LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let told = db.told(owner).await;
    assert_eq!(
        told,
        [("payment".to_owned(), "Your payment failed".to_owned(), true)]
    );
}

#[tokio::test]
async fn a_plan_change_moves_the_tier_and_its_credits() {
    let db = TestDb::fresh().await;
    let state = state(&db);
    let user = checkout(&db).await;
    deliver(&state, "evt_0", &charged(T0, (T0, T0 + 30 * DAY), "pay_0")).await;
    deliver(
        &state,
        "evt_1",
        &sub_event(
            "subscription.updated",
            "active",
            T0 + 60,
            None,
            "plan_adpilot_business_m",
        ),
    )
    .await;
    let now = current(&db, &user).await;
    assert_eq!(
        (now.tier.as_str(), now.limit, now.user_tier.as_str()),
        ("business", 400, "business")
    );
}

#[tokio::test]
async fn failed_payments_unknown_events_and_unknown_subscriptions_are_recorded_not_errors() {
    let db = TestDb::fresh().await;
    let state = state(&db);
    let failed = json!({"entity": "event", "event": "payment.failed", "contains": ["payment"], "created_at": T0,
        "payload": {"payment": {"entity": {"id": "pay_F", "amount": 149900, "currency": "INR", "status": "failed",
                                            "error_description": "Payment declined by bank", "notes": []}}}});
    assert_eq!(
        deliver(&state, "evt_f", &failed).await.status,
        StatusCode::OK
    );
    let unknown_type = json!({"entity": "event", "event": "refund.speed_changed", "contains": [], "created_at": T0, "payload": {}});
    let r = deliver(&state, "evt_u", &unknown_type).await;
    assert_eq!(
        (
            r.status,
            r.body["outcome"].as_str().unwrap().starts_with("ignored")
        ),
        (StatusCode::OK, true)
    );
    let mut stranger = sub_event(
        "subscription.activated",
        "active",
        T0,
        Some((T0, T0 + DAY)),
        "plan_x",
    );
    stranger["payload"]["subscription"]["entity"]["id"] = json!("sub_someone_else");
    let r = deliver(&state, "evt_s", &stranger).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body["outcome"]
            .as_str()
            .unwrap()
            .starts_with("unknown_subscription")
    );
    let rows = db
        .superuser()
        .await
        .query(
            "SELECT event_type, outcome FROM billing_events ORDER BY event_type",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    let status: String = db
        .superuser()
        .await
        .query_one(
            "SELECT status || ': ' || error_description FROM payments",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "failed: Payment declined by bank");
}

#[tokio::test]
async fn notes_naming_an_account_never_decide_whose_payment_it_is() {
    let db = TestDb::fresh().await;
    let state = state(&db);
    let victim = TestUser::create(&db, "victim@example.com").await;
    // A payment of a subscription Adpilot never made, with notes naming someone.
    let event = json!({"entity": "event", "account_id": "acc_test", "event": "payment.captured",
        "contains": ["payment", "subscription"],
        "payload": {
            "payment": {"entity": {"id": "pay_forged000001", "entity": "payment", "amount": 399900,
                                   "currency": "INR", "status": "captured",
                                   "notes": {"user_id": victim.id.0.to_string()}}},
            "subscription": {"entity": {"id": "sub_notours000001", "entity": "subscription",
                                        "status": "active", "notes": {"user_id": victim.id.0.to_string()}}}},
        "created_at": 1764060000});
    let r = deliver(&state, "evt_forged_1", &event).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "recorded and acknowledged: {}",
        r.body
    );
    let owner: Option<uuid::Uuid> = db
        .superuser()
        .await
        .query_one(
            "SELECT user_id FROM payments WHERE provider_payment_id = 'pay_forged000001'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(owner, None, "not attributed to the account the notes name");
}

/// The user pays for Professional (sub_OLD, current) and then checks out Business
/// (sub_P1, open).
async fn paid_then_upgrading(db: &TestDb) -> TestUser {
    let user = checkout(db).await;
    let su = db.superuser().await;
    su.execute(
        "UPDATE subscriptions SET is_current = false WHERE user_id = $1",
        &[&user.id.0],
    )
    .await
    .unwrap();
    su.execute(
        "INSERT INTO subscriptions (user_id, tier, billing_cycle, price, status, is_current, payment_method, razorpay_subscription_id, \
                                    provider_status, current_period_start, current_period_end, monthly_ai_credits_limit) \
         VALUES ($1, 'professional', 'monthly', 3999, 'active', true, 'razorpay', 'sub_OLD', 'active', now(), now() + interval '30 days', 200)",
        &[&user.id.0],
    )
    .await
    .unwrap();
    user
}

#[derive(Debug, PartialEq)]
struct Old {
    status: String,
    provider_status: Option<String>,
    is_current: bool,
    cancel_due: bool,
}

async fn old_subscription(db: &TestDb) -> Old {
    let r = db
        .superuser()
        .await
        .query_one(
            "SELECT status, provider_status, is_current, provider_cancel_due_at IS NOT NULL \
             FROM subscriptions WHERE razorpay_subscription_id = 'sub_OLD'",
            &[],
        )
        .await
        .unwrap();
    Old {
        status: r.get(0),
        provider_status: r.get(1),
        is_current: r.get(2),
        cancel_due: r.get(3),
    }
}

fn rzp_subscription(id: &str, status: &str) -> Value {
    json!({"id": id, "entity": "subscription", "plan_id": "plan_adpilot_pro_m", "status": status,
           "short_url": null, "notes": {}, "created_at": T0})
}

async fn cancel_at_razorpay(rzp: &MockServer, answer: ResponseTemplate, times: u64) {
    Mock::given(method("POST"))
        .and(path("/v1/subscriptions/sub_OLD/cancel"))
        .and(body_json(json!({"cancel_at_cycle_end": 0})))
        .respond_with(answer)
        .expect(times)
        .mount(rzp)
        .await;
}

const PERIOD: (i64, i64) = (T0 + 60, T0 + 60 + 30 * DAY);

#[tokio::test]
async fn a_newly_paid_subscription_cancels_the_users_older_one_at_razorpay_exactly_once() {
    let db = TestDb::fresh().await;
    let rzp = MockServer::start().await;
    let state = with_razorpay(&db, &format!("{}/v1", rzp.uri()));
    let user = paid_then_upgrading(&db).await;
    cancel_at_razorpay(
        &rzp,
        ResponseTemplate::new(200).set_body_json(rzp_subscription("sub_OLD", "cancelled")),
        1,
    )
    .await;

    let r = deliver(&state, "evt_1", &charged(PERIOD.0, PERIOD, "pay_1")).await;
    assert_eq!(r.body["outcome"], "applied: active");
    assert_eq!(
        old_subscription(&db).await,
        Old {
            status: "cancelled".into(),
            provider_status: Some("cancelled".into()),
            is_current: false,
            cancel_due: false,
        }
    );

    // Redelivered, activated after charged, and a late charge of the old one: none cancels
    // again, and the old one never becomes current again.
    deliver(&state, "evt_1", &charged(PERIOD.0, PERIOD, "pay_1")).await;
    let activated = sub_event(
        "subscription.activated",
        "active",
        PERIOD.0 + 1,
        Some(PERIOD),
        "plan_adpilot_pro_m",
    );
    assert_eq!(
        deliver(&state, "evt_2", &activated).await.body["outcome"],
        "applied: active"
    );
    let mut late = charged(PERIOD.0 + 2, PERIOD, "pay_old");
    late["payload"]["subscription"]["entity"]["id"] = json!("sub_OLD");
    let r = deliver(&state, "evt_3", &late).await;
    assert_eq!(
        r.body["outcome"],
        "ignored: sub_OLD was superseded by a newer subscription"
    );
    assert!(!old_subscription(&db).await.is_current);
    let current_id: String = db
        .superuser()
        .await
        .query_one(
            "SELECT razorpay_subscription_id FROM subscriptions WHERE user_id = $1 AND is_current",
            &[&user.id.0],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(current_id, "sub_P1");
}

#[tokio::test]
async fn the_same_payment_delivered_at_once_under_two_event_ids_cancels_the_old_one_once() {
    let db = TestDb::fresh().await;
    let rzp = MockServer::start().await;
    let state = with_razorpay(&db, &format!("{}/v1", rzp.uri()));
    paid_then_upgrading(&db).await;
    cancel_at_razorpay(
        &rzp,
        ResponseTemplate::new(200).set_body_json(rzp_subscription("sub_OLD", "cancelled")),
        1,
    )
    .await;
    let activated = sub_event(
        "subscription.activated",
        "active",
        PERIOD.0,
        Some(PERIOD),
        "plan_adpilot_pro_m",
    );
    let charged = charged(PERIOD.0, PERIOD, "pay_1");
    let (a, b) = tokio::join!(
        deliver(&state, "evt_a", &activated),
        deliver(&state, "evt_b", &charged)
    );
    assert_eq!((a.status, b.status), (StatusCode::OK, StatusCode::OK));
    assert_eq!(
        old_subscription(&db).await.provider_status.as_deref(),
        Some("cancelled")
    );
}

#[tokio::test]
async fn when_razorpay_fails_the_delivery_still_succeeds_and_the_sweep_retries_until_it_ends() {
    let db = TestDb::fresh().await;
    let rzp = MockServer::start().await;
    let state = with_razorpay(&db, &format!("{}/v1", rzp.uri()));
    paid_then_upgrading(&db).await;
    cancel_at_razorpay(&rzp, ResponseTemplate::new(502), 1).await;

    let r = deliver(&state, "evt_1", &charged(PERIOD.0, PERIOD, "pay_1")).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "Razorpay is not asked to redeliver"
    );
    let old = old_subscription(&db).await;
    assert_eq!(
        (old.status.as_str(), old.is_current, old.cancel_due),
        ("cancelled", false, true)
    );
    assert_eq!(
        old.provider_status.as_deref(),
        Some("active"),
        "not ended at Razorpay yet"
    );

    let sweep = async || {
        superseded::cancel_due(&state.db, &state.gateways, None)
            .await
            .unwrap()
    };
    assert_eq!(
        sweep().await,
        superseded::Swept::default(),
        "not due before its backoff"
    );

    // Meanwhile the customer cancelled it at Razorpay: the second attempt finds it ended.
    rzp.reset().await;
    cancel_at_razorpay(
        &rzp,
        ResponseTemplate::new(400).set_body_json(json!({"error": {"code": "BAD_REQUEST_ERROR",
            "description": "Subscription is not cancellable in cancelled status."}})),
        1,
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/v1/subscriptions/sub_OLD"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(rzp_subscription("sub_OLD", "cancelled")),
        )
        .mount(&rzp)
        .await;
    db.superuser()
        .await
        .execute("UPDATE subscriptions SET provider_cancel_due_at = now() WHERE razorpay_subscription_id = 'sub_OLD'", &[])
        .await
        .unwrap();
    assert_eq!(
        sweep().await,
        superseded::Swept {
            cancelled: 1,
            failed: 0
        }
    );
    let old = old_subscription(&db).await;
    assert_eq!(
        (old.provider_status.as_deref(), old.cancel_due),
        (Some("cancelled"), false)
    );
    assert_eq!(
        sweep().await,
        superseded::Swept::default(),
        "done means done"
    );
}

/// A checkout (`created`, not current) for a new user, under Razorpay id `sub`.
async fn checkout_as(db: &TestDb, email: &str, sub: &str) {
    let user = TestUser::create(db, email).await;
    db.superuser()
        .await
        .execute(
            "INSERT INTO subscriptions (user_id, tier, billing_cycle, price, status, is_current, payment_method, razorpay_subscription_id, \
                                        current_period_start, current_period_end, monthly_ai_credits_limit) \
             VALUES ($1, 'professional', 'monthly', 3999, 'created', false, 'razorpay', $2, now(), now() + interval '30 days', 200)",
            &[&user.id.0, &sub],
        )
        .await
        .unwrap();
}

/// Everything a delivery order could change about a subscription and its user.
async fn final_state(db: &TestDb, sub: &str) -> String {
    db.superuser()
        .await
        .query_one(
            "SELECT concat_ws('|', s.status, s.is_current, s.current_period_start, s.tier, s.monthly_ai_credits_used, \
                    s.last_event_at, (SELECT count(*) FROM payments p WHERE p.subscription_id = s.id), \
                    u.subscription_status, u.subscription_tier) \
             FROM subscriptions s JOIN users u ON u.id = s.user_id WHERE s.razorpay_subscription_id = $1",
            &[&sub],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn any_delivery_order_with_duplicates_ends_where_the_in_order_delivery_ends() {
    let db = TestDb::fresh().await;
    let state = state(&db);
    let life = |sub: &str| {
        let p1 = (T0, T0 + 30 * DAY);
        let p2 = (T0 + 30 * DAY, T0 + 60 * DAY);
        let mut events = vec![
            sub_event(
                "subscription.authenticated",
                "authenticated",
                T0 - 10,
                None,
                "plan_adpilot_pro_m",
            ),
            sub_event(
                "subscription.activated",
                "active",
                T0,
                Some(p1),
                "plan_adpilot_pro_m",
            ),
            charged(T0 + 5, p1, &format!("pay_{sub}_1")),
            charged(T0 + 30 * DAY, p2, &format!("pay_{sub}_2")),
            sub_event(
                "subscription.halted",
                "halted",
                T0 + 40 * DAY,
                None,
                "plan_adpilot_pro_m",
            ),
            sub_event(
                "subscription.cancelled",
                "cancelled",
                T0 + 50 * DAY,
                None,
                "plan_adpilot_pro_m",
            ),
        ];
        for e in &mut events {
            e["payload"]["subscription"]["entity"]["id"] = json!(sub);
        }
        events
    };
    let orders: [(&str, Vec<usize>); 4] = [
        ("in_order", (0..6).collect()),
        ("reversed", (0..6).rev().collect()),
        ("cancelled_first", vec![5, 0, 4, 1, 3, 2]),
        ("interleaved", vec![3, 5, 1, 4, 0, 2]),
    ];
    for (name, order) in &orders {
        let sub = format!("sub_{name}");
        checkout_as(&db, &format!("{name}@example.com"), &sub).await;
        let events = life(&sub);
        let deliveries: Vec<usize> = if *name == "in_order" {
            order.clone()
        } else {
            order.iter().chain(order.iter().rev()).copied().collect()
        };
        for i in deliveries {
            let r = deliver(&state, &format!("evt_{sub}_{i}"), &events[i]).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
    }
    let expected = final_state(&db, "sub_in_order").await;
    assert!(expected.starts_with("cancelled|t|"), "{expected}");
    for (name, _) in &orders[1..] {
        assert_eq!(
            final_state(&db, &format!("sub_{name}")).await,
            expected,
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_charge_records_the_mandate_and_the_cards_network_and_last_four_never_more() {
    let db = TestDb::fresh().await;
    let state = state(&db);
    let user = checkout(&db).await;
    let mut e = charged(PERIOD.0, PERIOD, "pay_card");
    e["payload"]["payment"]["entity"]["method"] = json!("card");
    e["payload"]["payment"]["entity"]["token_id"] = json!("token_4lsdksD31GaZ09");
    e["payload"]["payment"]["entity"]["card_id"] = json!("card_Beg2PSBeajxy0A");
    e["payload"]["payment"]["entity"]["card"] = json!({"id": "card_Beg2PSBeajxy0A", "entity": "card", "last4": "5558", "network": "MasterCard",
               "type": "credit", "issuer": "KARB", "international": false});
    assert_eq!(
        deliver(&state, "evt_card", &e).await.body["outcome"],
        "applied: active"
    );
    let r = db
        .superuser()
        .await
        .query_one(
            "SELECT payment_method, payment_method_id, payment_method_type, card_brand, card_last4 \
             FROM subscriptions WHERE user_id = $1 AND is_current",
            &[&user.id.0],
        )
        .await
        .unwrap();
    let got: (String, String, String, String, String) =
        (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
    assert_eq!(
        got,
        (
            "razorpay".into(),
            "token_4lsdksD31GaZ09".into(),
            "card".into(),
            "mastercard".into(),
            "5558".into()
        )
    );
}
