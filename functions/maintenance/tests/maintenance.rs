//! Scheduled upkeep: committed outbox messages reach their queue exactly once, failures
//! wait with backoff, partitions exist ahead of time, and retention runs daily.

use chrono::NaiveDate;
use maintenance::{State, handle};
use serde_json::{Value, json};
use shared::aws::relay::Relay;
use shared::crypto::Sealed;
use shared::repo::meta_accounts::token_binding;
use shared::testing::TestDb;
use shared::testing::api::TestUser;

const KEY_NEW: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const KEY_OLD: &str = "HxkbGhkYFxYVFBMSERAPDg0MCwoJCAcGBQQDAgEAAAA=";

async fn app(with_queue: bool) -> (State, TestDb, Option<String>) {
    let db = TestDb::fresh().await;
    let (sqs, queue) = shared::testing::queue("brand-analysis").await;
    let mut queues = std::collections::HashMap::new();
    let mut url = None;
    if with_queue {
        queues.insert("brand-analysis".to_owned(), queue.clone());
        url = Some(queue);
    }
    (
        State {
            db: db.worker(),
            relay: Relay::new(sqs, queues),
            cipher: shared::crypto::TokenCipher::parse(&format!("new:{KEY_NEW},old:{KEY_OLD}"))
                .unwrap(),
            gateways: shared::billing::Gateways {
                razorpay: shared::billing::Razorpay::new(
                    "http://127.0.0.1:9",
                    "rzp_test",
                    "secret",
                ),
                stripe: shared::billing::Stripe::new("http://127.0.0.1:9", "sk_test"),
            },
        },
        db,
        url,
    )
}

async fn enqueue(db: &TestDb, user: &TestUser, payload: Value) {
    db.superuser()
        .await
        .execute(
            "INSERT INTO outbox (user_id, topic, payload) VALUES ($1, 'brand-analysis', $2)",
            &[&user.id.0, &payload],
        )
        .await
        .unwrap();
}

async fn received(state: &State, url: &str) -> Vec<Value> {
    shared::testing::received(state.relay.sqs().await, url).await
}

#[tokio::test]
async fn committed_messages_reach_their_queue_once() {
    let (state, db, url) = app(true).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    enqueue(&db, &user, json!({"job_id": "j1"})).await;
    enqueue(&db, &user, json!({"job_id": "j2"})).await;

    let report = handle(&state, json!({"task": "relay-outbox"}))
        .await
        .unwrap();
    assert_eq!(report["outbox"], json!({"sent": 2, "failed": 0}));
    let url = url.unwrap();
    let mut jobs: Vec<String> = received(&state, &url)
        .await
        .iter()
        .map(|m| m["job_id"].as_str().unwrap().to_owned())
        .collect();
    jobs.sort();
    assert_eq!(jobs, ["j1", "j2"]);

    let again = handle(&state, json!({"task": "relay-outbox"}))
        .await
        .unwrap();
    assert_eq!(
        again["outbox"],
        json!({"sent": 0, "failed": 0}),
        "sent messages are not sent again"
    );
    let unsent: i64 = db
        .superuser()
        .await
        .query_one("SELECT count(*) FROM outbox WHERE sent_at IS NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(unsent, 0);
}

#[tokio::test]
async fn a_message_without_a_queue_waits_with_a_reason_and_backoff() {
    let (state, db, _) = app(false).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    enqueue(&db, &user, json!({"job_id": "j1"})).await;
    let report = handle(&state, json!({"task": "relay-outbox"}))
        .await
        .unwrap();
    assert_eq!(report["outbox"], json!({"sent": 0, "failed": 1}));
    let row = db
        .superuser()
        .await
        .query_one(
            "SELECT attempts, last_error, available_at > now() + interval '5 seconds' FROM outbox",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 1);
    assert!(
        row.get::<_, String>(1)
            .contains("no queue configured for topic brand-analysis")
    );
    assert!(row.get::<_, bool>(2), "retried later, not in a hot loop");
    let again = handle(&state, json!({"task": "relay-outbox"}))
        .await
        .unwrap();
    assert_eq!(
        again["outbox"],
        json!({"sent": 0, "failed": 0}),
        "not due yet"
    );
}

#[tokio::test]
async fn the_daily_task_creates_partitions_ahead_and_applies_retention() {
    let (state, db, _) = app(true).await;
    let made =
        maintenance::ensure_partitions(&state, NaiveDate::from_ymd_opt(2031, 11, 15).unwrap())
            .await
            .unwrap();
    assert_eq!(
        made,
        [
            "performance_analytics_y2031m11",
            "performance_analytics_y2031m12",
            "performance_analytics_y2032m01",
            "performance_analytics_y2032m02"
        ]
    );
    let report = handle(&state, json!({"task": "daily"})).await.unwrap();
    assert_eq!(report["partitions"].as_array().unwrap().len(), 4);
    assert!(report["retention"]["dropped_partitions"].is_array());
    let exists: bool = db
        .superuser()
        .await
        .query_one(
            "SELECT to_regclass('performance_analytics_y2032m02') IS NOT NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(exists);
}

#[tokio::test]
async fn an_unknown_task_is_an_error_not_a_silent_success() {
    let (state, _db, _) = app(false).await;
    assert!(handle(&state, json!({"task": "defragment"})).await.is_err());
    assert!(handle(&state, json!({})).await.is_err());
}

#[test]
fn queue_urls_come_from_queue_url_variables() {
    let vars = [
        (
            "QUEUE_URL_BRAND_ANALYSIS".to_owned(),
            "http://q/1".to_owned(),
        ),
        ("OTHER".to_owned(), "x".to_owned()),
    ];
    let queues = shared::aws::relay::queues_from_env(vars.into_iter());
    assert_eq!(
        queues.get("brand-analysis").map(String::as_str),
        Some("http://q/1")
    );
    assert_eq!(queues.len(), 1);
}

#[tokio::test]
async fn the_daily_task_reseals_old_key_and_unbound_tokens_bound_to_their_row() {
    let (state, db, _) = app(false).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    let bound = |meta_user: &str| token_binding(user.id.0, meta_user);
    let old = shared::crypto::TokenCipher::parse(&format!("old:{KEY_OLD}")).unwrap();
    let stored = [
        ("m1", old.seal("EAAGold-key", &bound("m1"))),
        ("m2", state.cipher.seal_unbound("EAAGunbound")),
        ("m3", state.cipher.seal("EAAGcurrent", &bound("m3"))),
    ];
    let su = db.superuser().await;
    for (meta_user, sealed) in &stored {
        su.execute(
            "INSERT INTO meta_accounts (user_id, meta_user_id, access_token) VALUES ($1, $2, $3)",
            &[&user.id.0, meta_user, sealed],
        )
        .await
        .unwrap();
    }
    assert_eq!(maintenance::rotate_tokens(&state).await.unwrap(), 2);
    let rows = su
        .query(
            "SELECT meta_user_id, access_token FROM meta_accounts ORDER BY meta_user_id",
            &[],
        )
        .await
        .unwrap();
    let now: Vec<Sealed> = rows
        .iter()
        .map(|r| Sealed {
            value: r.get(1),
            bound_to: bound(r.get(0)),
        })
        .collect();
    for (sealed, plain) in now
        .iter()
        .zip(["EAAGold-key", "EAAGunbound", "EAAGcurrent"])
    {
        assert!(
            sealed.value.starts_with("v2:new:"),
            "bound, under the newest key"
        );
        assert_eq!(state.cipher.open(sealed).unwrap(), plain);
    }
    assert_eq!(
        now[2].value, stored[2].1,
        "already current and bound: untouched"
    );
    let moved = Sealed {
        value: now[1].value.clone(),
        bound_to: bound("m1"),
    };
    assert!(
        state.cipher.open(&moved).is_err(),
        "a resealed token opens only in its own row"
    );
    assert_eq!(maintenance::rotate_tokens(&state).await.unwrap(), 0);
}

/// An annual subscription paid `months_ago` months (and a day) ago, `used` credits spent.
async fn annual(db: &TestDb, email: &str, months_ago: i32, used: i32, status: &str) -> TestUser {
    let user = TestUser::create(db, email).await;
    db.superuser()
        .await
        .execute(
            "UPDATE subscriptions SET billing_cycle = 'annual', status = $2, monthly_ai_credits_used = $3, \
                    current_period_start = now() - make_interval(months => $4, days => 1), \
                    current_period_end = now() - make_interval(months => $4, days => 1) + interval '1 year', \
                    credits_month_start = now() - make_interval(months => $4, days => 1) \
             WHERE user_id = $1",
            &[&user.id.0, &status, &used, &months_ago],
        )
        .await
        .unwrap();
    user
}

async fn credits(db: &TestDb, user: &TestUser) -> (i32, i64) {
    let r = db
        .superuser()
        .await
        .query_one(
            "SELECT monthly_ai_credits_used, \
                    (extract(epoch FROM credits_month_start - current_period_start) / 86400)::int8 \
             FROM subscriptions WHERE user_id = $1 AND is_current",
            &[&user.id.0],
        )
        .await
        .unwrap();
    (r.get(0), r.get(1))
}

#[tokio::test]
async fn an_annual_plan_gets_its_credits_back_once_a_month_however_often_maintenance_runs() {
    let (state, db, _) = app(false).await;
    let fresh = annual(&db, "fresh@example.com", 0, 40, "active").await;
    let month_over = annual(&db, "month@example.com", 1, 40, "active").await;
    let three_missed = annual(&db, "missed@example.com", 3, 40, "active").await;
    let past_due = annual(&db, "late@example.com", 2, 40, "past_due").await;

    let (a, b) = tokio::join!(
        handle(&state, json!({"task": "relay-outbox"})),
        handle(&state, json!({"task": "relay-outbox"}))
    );
    let started = a.unwrap()["credit_months_started"].as_u64().unwrap()
        + b.unwrap()["credit_months_started"].as_u64().unwrap();
    assert_eq!(started, 2, "two runs at once reset each due plan once");
    handle(&state, json!({"task": "relay-outbox"}))
        .await
        .unwrap();

    assert_eq!(credits(&db, &fresh).await.0, 40, "its month is not over");
    let (used, month_start) = credits(&db, &month_over).await;
    assert_eq!(used, 0);
    assert!(
        (28..=31).contains(&month_start),
        "one month on: {month_start} days"
    );
    let (used, month_start) = credits(&db, &three_missed).await;
    assert_eq!(used, 0);
    assert!(
        (89..=92).contains(&month_start),
        "three whole months on: {month_start} days"
    );
    assert_eq!(
        credits(&db, &past_due).await.0,
        40,
        "only a plan in good standing resets"
    );
}

/// A `kind` generation of `user` running since `minutes_ago`, its 5 credits spent.
async fn running_generation(
    db: &TestDb,
    user: &TestUser,
    kind: &str,
    minutes_ago: i32,
) -> uuid::Uuid {
    let asset = uuid::Uuid::new_v4();
    db.superuser()
        .await
        .execute(
            "WITH a AS (INSERT INTO creative_assets (id, user_id, asset_type, status, source, prompt, file_url) \
                        VALUES ($2, $1, $3, 'processing', 'generated', 'a chef', '') RETURNING id), \
                  u AS (INSERT INTO usage_logs (user_id, feature, credits_consumed, resource_id) \
                        VALUES ($1, $3 || '_generation', 5, $2)), \
                  s AS (UPDATE subscriptions SET monthly_ai_credits_used = monthly_ai_credits_used + 5 \
                        WHERE user_id = $1 AND is_current) \
             INSERT INTO background_jobs (job_type, user_id, status, parameters, started_at) \
             VALUES ($3 || '_generation', $1, 'running', jsonb_build_object('asset_id', $2, 'type', $3), \
                     now() - make_interval(mins => $4))",
            &[&user.id.0, &asset, &kind, &minutes_ago],
        )
        .await
        .unwrap();
    asset
}

#[tokio::test]
async fn a_generation_stuck_running_is_failed_and_refunded_once_by_the_sweeper() {
    let (state, db, _) = app(false).await;
    let user = TestUser::create(&db, "owner@example.com").await;
    let stuck = running_generation(&db, &user, "video", 61).await;
    let working = running_generation(&db, &user, "image", 10).await;

    let (a, b) = tokio::join!(
        handle(&state, json!({"task": "relay-outbox"})),
        handle(&state, json!({"task": "relay-outbox"}))
    );
    let failed = a.unwrap()["stuck_jobs_failed"].as_u64().unwrap()
        + b.unwrap()["stuck_jobs_failed"].as_u64().unwrap();
    assert_eq!(failed, 1, "two sweeps at once fail the stuck job once");
    handle(&state, json!({"task": "relay-outbox"}))
        .await
        .unwrap();

    let su = db.superuser().await;
    let row = |asset: uuid::Uuid| {
        let su = &su;
        async move {
            let r = su
                .query_one(
                    "SELECT a.status, j.status, coalesce(j.error_message, '') FROM creative_assets a \
                     JOIN background_jobs j ON j.parameters->>'asset_id' = a.id::text WHERE a.id = $1",
                    &[&asset],
                )
                .await
                .unwrap();
            (
                r.get::<_, String>(0),
                r.get::<_, String>(1),
                r.get::<_, String>(2),
            )
        }
    };
    assert_eq!(
        row(stuck).await,
        (
            "failed".into(),
            "failed".into(),
            "stopped: running for longer than 60 minutes".into()
        )
    );
    assert_eq!(row(working).await.1, "running", "within its limit");
    let (used, refunds): (i32, i64) = {
        let r = su
            .query_one(
                "SELECT (SELECT monthly_ai_credits_used FROM subscriptions WHERE is_current AND user_id = $1), \
                        (SELECT count(*) FROM usage_logs WHERE credits_consumed < 0)",
                &[&user.id.0],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(
        (used, refunds),
        (5, 1),
        "the stuck video's 5 credits came back once"
    );
}

#[tokio::test]
async fn a_trial_past_its_end_expires_once_and_a_running_one_stays() {
    let (state, db, _) = app(false).await;
    let ended = TestUser::create(&db, "ended@example.com").await;
    let running = TestUser::create(&db, "running@example.com").await;
    db.superuser()
        .await
        .execute(
            "UPDATE subscriptions SET current_period_start = now() - interval '15 days', \
                    current_period_end = now() - interval '1 minute' WHERE user_id = $1",
            &[&ended.id.0],
        )
        .await
        .unwrap();
    let first = handle(&state, json!({"task": "relay-outbox"}))
        .await
        .unwrap();
    let second = handle(&state, json!({"task": "relay-outbox"}))
        .await
        .unwrap();
    assert_eq!(
        (
            first["trials_ended"].as_u64(),
            second["trials_ended"].as_u64()
        ),
        (Some(1), Some(0))
    );
    let status = |u: uuid::Uuid| {
        let db = &db;
        async move {
            let r = db
                .superuser()
                .await
                .query_one(
                    "SELECT s.status, u.subscription_status FROM subscriptions s JOIN users u ON u.id = s.user_id \
                     WHERE s.user_id = $1 AND s.is_current",
                    &[&u],
                )
                .await
                .unwrap();
            (r.get::<_, String>(0), r.get::<_, String>(1))
        }
    };
    assert_eq!(
        status(ended.id.0).await,
        ("expired".into(), "expired".into())
    );
    assert_eq!(status(running.id.0).await, ("trial".into(), "trial".into()));
}

#[tokio::test]
async fn owners_hear_once_that_their_trial_ends_in_three_days_and_once_that_it_ended() {
    let (state, db, _) = app(false).await;
    let soon = TestUser::create(&db, "soon@example.com").await;
    let ended = TestUser::create(&db, "ended@example.com").await;
    let later = TestUser::create(&db, "later@example.com").await;
    let su = db.superuser().await;
    for (user, ends) in [
        (&soon, "2 days 20 hours"),
        (&ended, "-1 minute"),
        (&later, "10 days"),
    ] {
        su.execute(
            &format!("UPDATE subscriptions SET current_period_end = now() + interval '{ends}' WHERE user_id = $1"),
            &[&user.id.0],
        )
        .await
        .unwrap();
    }
    let first = handle(&state, json!({"task": "relay-outbox"}))
        .await
        .unwrap();
    let second = handle(&state, json!({"task": "relay-outbox"}))
        .await
        .unwrap();
    assert_eq!(
        (
            first["trials_ending_told"].as_u64(),
            second["trials_ending_told"].as_u64()
        ),
        (Some(1), Some(0))
    );
    let trial = |title: &str| vec![("trial".to_owned(), title.to_owned(), true)];
    assert_eq!(
        db.told(soon.id.0).await,
        trial("Your free trial ends in 3 days")
    );
    assert_eq!(
        db.told(ended.id.0).await,
        trial("Your free trial has ended")
    );
    assert!(db.told(later.id.0).await.is_empty());
}

#[tokio::test]
async fn owners_hear_once_that_their_meta_connection_expires_within_a_week() {
    let (state, db, _) = app(false).await;
    let soon = TestUser::create(&db, "soon@example.com").await;
    let later = TestUser::create(&db, "later@example.com").await;
    let su = db.superuser().await;
    for (user, expires) in [(&soon, "5 days"), (&later, "20 days")] {
        su.execute(
            &format!(
                "INSERT INTO meta_accounts (user_id, meta_user_id, access_token, token_expires_at) \
                 VALUES ($1, 'fb', 'k1:x', now() + interval '{expires}')"
            ),
            &[&user.id.0],
        )
        .await
        .unwrap();
    }
    let first = handle(&state, json!({"task": "relay-outbox"}))
        .await
        .unwrap();
    let second = handle(&state, json!({"task": "relay-outbox"}))
        .await
        .unwrap();
    assert_eq!(
        (
            first["meta_expiring_told"].as_u64(),
            second["meta_expiring_told"].as_u64()
        ),
        (Some(1), Some(0))
    );
    assert_eq!(
        db.told(soon.id.0).await,
        [(
            "meta_connection".to_owned(),
            "Your Meta connection expires soon".to_owned(),
            true
        )]
    );
    assert!(db.told(later.id.0).await.is_empty());
}
